"""Reading Bash command lines the way bash would, closely enough for a warning.

`words` splits a line into words and operators (quotes, escapes, `$(...)`, heredocs, ...);
`commands` walks those words as bash would run them and yields each simple command with its
words and the directory it runs in; `gitcommands` picks out the git commands that move HEAD or
rewrite the worktree. All are pure: they read no disk and run nothing.

Nothing here is imported by this package's __init__: a hook pays for the reader (and `re`) only
when a line names git.
"""
