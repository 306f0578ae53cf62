"""Where a directory sits in git: its worktree, the main worktree, and huddle's state directory.

Everything here reads git's own files instead of starting `git`: this runs on every hook call.
A linked worktree's `.git` is a file naming its private git dir; that dir's `commondir` names
the shared one, whose parent is the main worktree. So every worktree of a repository finds the
same `<main worktree>/.claude/sessions/`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

STATE_SUBDIR = (".claude", "sessions")
MARKER = "huddle.json"


class NotARepository(Exception):
    """The directory is in no git worktree that huddle can use."""


@dataclass(frozen=True)
class Location:
    worktree: Path  # root of the worktree the directory is in
    git_dir: Path  # that worktree's own git dir (holds HEAD)
    common_dir: Path  # the git dir shared by all worktrees
    main_worktree: Path

    @property
    def state_dir(self) -> Path:
        return self.main_worktree.joinpath(*STATE_SUBDIR)

    @property
    def is_linked(self) -> bool:
        return self.worktree != self.main_worktree


def locate(start: str | os.PathLike[str]) -> Location:
    """Find the worktree that contains `start` and the repository's main worktree."""
    here = Path(os.path.abspath(start))
    for folder in (here, *here.parents):
        dot_git = folder / ".git"
        if dot_git.is_dir():
            git_dir = dot_git
        elif dot_git.is_file():
            git_dir = _read_gitdir_file(dot_git)
        else:
            continue
        common_dir = _common_dir(git_dir)
        return Location(folder, git_dir, common_dir, _main_worktree(folder, git_dir, common_dir))
    raise NotARepository(f"{here} is not inside a git worktree")


def _read_gitdir_file(dot_git: Path) -> Path:
    text = _read_small(dot_git)
    if not text.startswith("gitdir:"):
        raise NotARepository(f"{dot_git} is not a gitdir file")
    target = Path(text[len("gitdir:") :].strip())
    return Path(os.path.normpath(dot_git.parent / target))


def _common_dir(git_dir: Path) -> Path:
    try:
        pointer = _read_small(git_dir / "commondir").strip()
    except FileNotFoundError:
        return git_dir
    return Path(os.path.normpath(git_dir / pointer))


def _main_worktree(worktree: Path, git_dir: Path, common_dir: Path) -> Path:
    if common_dir.name == ".git":
        return common_dir.parent
    if git_dir == common_dir:
        # The main worktree of a repository made with --separate-git-dir.
        return worktree
    raise NotARepository(f"{common_dir} has no main worktree (a bare repository)")


def _read_small(path: Path) -> str:
    with open(path, encoding="utf-8", errors="replace") as handle:
        return handle.read(4096)


def branch(location: Location) -> str:
    """The checked-out branch, or `detached@<sha>`; an unborn branch still has its name."""
    try:
        head = _read_small(location.git_dir / "HEAD").strip()
    except OSError:
        return "?"
    if head.startswith("ref:"):
        ref = head[4:].strip()
        return ref[len("refs/heads/") :] if ref.startswith("refs/heads/") else ref
    return f"detached@{head[:7]}"


def refuse_reason(location: Location) -> str | None:
    """Why huddle must not keep state in this repository, or None when it may."""
    home = os.path.expanduser("~")
    if _same_path(location.main_worktree, Path(home)):
        return (
            "the repository's main worktree is your home directory, whose .claude/sessions "
            "belongs to Claude Code itself"
        )
    return None


def _same_path(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def _is_own_path(state: Path, main: Path) -> bool:
    """False when a symlink on the way sends the state directory somewhere else."""
    expected = os.path.join(os.path.realpath(main), *STATE_SUBDIR)
    return os.path.realpath(state) == expected


def enabled_state_dir(location: Location) -> Path | None:
    """The state directory when huddle is enabled here and it is safe to use, else None."""
    state = location.state_dir
    if refuse_reason(location) is not None or not _is_own_path(state, location.main_worktree):
        return None
    if not (state / MARKER).is_file():
        return None
    return state
