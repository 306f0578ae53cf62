"""The repository a directory belongs to: where it sits in git and whether huddle may work there,
read from git's own files for the hooks (gitfiles); whether git tracks the state directory
(tracked); and what GitPython tells the CLI (worktrees)."""
