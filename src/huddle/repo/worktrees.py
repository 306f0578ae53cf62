"""What git itself says about the repository, asked through GitPython: its worktrees and the
version of git. For the CLI only: importing GitPython costs more than a whole hook.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

# `git merge-tree --write-tree`, which a conflict forecast between worktrees needs.
MERGE_TREE_VERSION = (2, 38)


@dataclass(frozen=True)
class Worktree:
    path: str  # absolute
    branch: str  # the branch checked out, `detached@<sha>`, or "" for a bare entry
    missing: bool  # its folder is gone (git calls it prunable)


def listing(main_worktree: str) -> list[Worktree]:
    """Every worktree of the repository whose main worktree is `main_worktree`, main first,
    as `git worktree list --porcelain` reports them."""
    import git

    repository = git.Repo(main_worktree)
    try:
        text = repository.git.worktree("list", "--porcelain")
    finally:
        repository.close()
    found = []
    for block in text.strip().split("\n\n"):
        fields = dict(
            (line.split(" ", 1) + [""])[:2] for line in block.splitlines() if line.strip()
        )
        path = fields.get("worktree")
        if not path:
            continue
        ref = fields.get("branch", "")
        if ref.startswith("refs/heads/"):
            branch = ref[len("refs/heads/") :]
        elif "detached" in fields:
            branch = f"detached@{fields.get('HEAD', '')[:7]}"
        else:
            branch = ref
        found.append(Worktree(path, branch, "prunable" in fields or not os.path.isdir(path)))
    return found


def git_version() -> tuple[int, ...] | None:
    """The version of the `git` on the PATH, or None when there is none."""
    import git

    try:
        return tuple(int(part) for part in git.Git().version_info)
    except (git.GitCommandNotFound, git.GitCommandError, ValueError):
        return None


def tracked(main_worktree: str, folder: str) -> list[str]:
    """The files under `folder` (relative to the main worktree) that git tracks."""
    import git

    repository = git.Repo(main_worktree)
    try:
        text = repository.git.ls_files("-z", "--", folder)
    finally:
        repository.close()
    return [name for name in text.split("\0") if name]
