"""A file as huddle names it: its path relative to its worktree's root.

The same file in two worktrees of one repository has the same name, which is what makes an edit
in one worktree visible as a future merge conflict in another. Symlinks and `..` are resolved
first; on a file system that folds case, names are folded too. Files outside the repository, in
`.git`, or in huddle's own state directory have no name.
"""

from __future__ import annotations

import os

from huddle.repo import gitfiles
from huddle.store.layout import STATE_PREFIX


class Target:
    """A file an edit tool is about to change, or has changed."""

    __slots__ = ("key", "worktree")

    def __init__(self, key: str, worktree: str) -> None:
        self.key = key  # worktree-relative, '/'-separated (folded where the file system folds)
        self.worktree = worktree  # the worktree the file is in


def resolve(location: gitfiles.Location, file_path: str) -> Target | None:
    """Name `file_path` (absolute, as edit tools give it) within `location`'s repository."""
    if not file_path or "\0" in file_path or not os.path.isabs(file_path):
        return None
    real = os.path.realpath(file_path)
    try:
        where = gitfiles.locate(os.path.dirname(real))
    except gitfiles.NotARepository:
        return None
    if os.path.realpath(where.common_dir) != os.path.realpath(location.common_dir):
        return None  # another repository
    root = os.path.realpath(where.worktree)
    if not real.startswith(root + os.sep):
        return None
    key = real[len(root) + 1 :].replace(os.sep, "/")
    if key == ".git" or key.startswith(".git/") or key.startswith(STATE_PREFIX):
        return None
    if folds_case(root):
        key = key.lower()
    return Target(key, where.worktree)


def folds_case(root: str) -> bool:
    """Does the file system under `root` fold case? Asked of the root's own name."""
    swapped = root.swapcase()
    if swapped == root:
        return False
    try:
        return os.path.samefile(root, swapped)
    except OSError:
        return False
