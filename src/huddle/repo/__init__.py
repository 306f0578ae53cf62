"""The repository a directory belongs to: where it sits in git, read from git's own files for
the hooks (gitfiles), and what GitPython tells the CLI (worktrees)."""
