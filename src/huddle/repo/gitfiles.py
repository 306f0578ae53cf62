"""Where a directory sits in git: its worktree, the main worktree, and huddle's state directory.

Everything here reads git's own files instead of starting `git`: this runs on every hook call,
so it also sticks to `os.path` (no pathlib). A linked worktree's `.git` is a file naming its
private git dir; that dir's `commondir` names the shared one, whose parent is the main
worktree. So every worktree of a repository finds the same `<main worktree>/.claude/sessions/`.
"""

from __future__ import annotations

import os
import stat

from huddle.store.layout import ENABLED_MARK, STATE_SUBDIR

# Variables that would point git at another repository or index than the worktree's own:
# a hook may run with them set (inside a git hook, say) and `-C` does not override them.
REPO_ENV = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_COMMON_DIR",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
)


class NotARepository(Exception):
    """The directory is in no git worktree that huddle can use."""


class Location:
    """Absolute paths, as strings, of where a directory sits in its repository."""

    __slots__ = ("worktree", "git_dir", "common_dir", "main_worktree")

    def __init__(self, worktree: str, git_dir: str, common_dir: str, main_worktree: str) -> None:
        self.worktree = worktree  # root of the worktree the directory is in
        self.git_dir = git_dir  # that worktree's own git dir (holds HEAD)
        self.common_dir = common_dir  # the git dir shared by all worktrees
        self.main_worktree = main_worktree

    @property
    def state_dir(self) -> str:
        return os.path.join(self.main_worktree, *STATE_SUBDIR)

    @property
    def is_linked(self) -> bool:
        return self.worktree != self.main_worktree

    def __repr__(self) -> str:
        return f"Location(worktree={self.worktree!r}, main_worktree={self.main_worktree!r})"


def locate(start: str | os.PathLike[str]) -> Location:
    """Find the worktree that contains `start` and the repository's main worktree."""
    folder = os.path.abspath(start)
    while True:
        dot_git = os.path.join(folder, ".git")
        if os.path.isdir(dot_git):
            git_dir = dot_git
            break
        if os.path.isfile(dot_git):
            git_dir = _read_gitdir_file(dot_git)
            break
        parent = os.path.dirname(folder)
        if parent == folder:
            raise NotARepository(f"{os.path.abspath(start)} is not inside a git worktree")
        folder = parent
    common_dir = _common_dir(git_dir)
    return Location(folder, git_dir, common_dir, _main_worktree(folder, git_dir, common_dir))


def _read_gitdir_file(dot_git: str) -> str:
    text = _read_small(dot_git)
    if not text.startswith("gitdir:"):
        raise NotARepository(f"{dot_git} is not a gitdir file")
    target = text[len("gitdir:") :].strip()
    return os.path.normpath(os.path.join(os.path.dirname(dot_git), target))


def _common_dir(git_dir: str) -> str:
    try:
        pointer = _read_small(os.path.join(git_dir, "commondir")).strip()
    except FileNotFoundError:
        return git_dir
    return os.path.normpath(os.path.join(git_dir, pointer))


def _main_worktree(worktree: str, git_dir: str, common_dir: str) -> str:
    if git_dir == common_dir:
        # This is the main worktree. Its git dir may live anywhere (--separate-git-dir), even
        # as another folder's `.git`, so it must not be taken for that folder's.
        return worktree
    if os.path.basename(common_dir) == ".git":
        return os.path.dirname(common_dir)
    raise NotARepository(f"{common_dir} has no main worktree (a bare repository)")


def _read_small(path: str) -> str:
    with open(path, encoding="utf-8", errors="replace") as handle:
        return handle.read(4096)


def branch(location: Location) -> str:
    """The checked-out branch, or `detached@<sha>`; an unborn branch still has its name."""
    try:
        head = _read_small(os.path.join(location.git_dir, "HEAD")).strip()
    except OSError:
        return "?"
    if head.startswith("ref:"):
        ref = head[4:].strip()
        return ref[len("refs/heads/") :] if ref.startswith("refs/heads/") else ref
    return f"detached@{head[:7]}"


def refuse_reason(location: Location) -> str | None:
    """Why huddle must not keep state in this repository, or None when it may."""
    if _same_path(location.main_worktree, os.path.expanduser("~")):
        return (
            "the repository's main worktree is your home directory, whose .claude/sessions "
            "belongs to Claude Code itself"
        )
    return None


def _same_path(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def is_own_path(location: Location) -> bool:
    """False when a symlink on the way sends the state directory somewhere else."""
    expected = os.path.join(os.path.realpath(location.main_worktree), *STATE_SUBDIR)
    return os.path.realpath(location.state_dir) == expected


def enabled_mark(location: Location) -> str:
    """The file that says huddle is enabled in the repository: in the git directory all its
    worktrees share, which git never clones, so only someone working here can make it."""
    return os.path.join(location.common_dir, ENABLED_MARK)


def is_enabled(location: Location) -> bool:
    return os.path.isfile(enabled_mark(location))


def untrusted_reason(location: Location) -> str | None:
    """Why huddle must not use the repository's state directory, or None when it may: it must
    be a real directory inside the repository, this user's, and private to this user."""
    reason = refuse_reason(location)
    if reason is not None:
        return reason
    state_dir = location.state_dir
    if not is_own_path(location):
        return f"a symlink on the way leads {state_dir} to {os.path.realpath(state_dir)}"
    try:
        found = os.lstat(state_dir)
    except FileNotFoundError:
        return f"{state_dir} does not exist"
    except OSError as exc:
        return f"{state_dir} cannot be read: {exc.strerror}"
    if not stat.S_ISDIR(found.st_mode):
        return f"{state_dir} is not a directory"
    if found.st_uid != os.getuid():
        return f"{state_dir} belongs to another user (uid {found.st_uid})"
    if found.st_mode & 0o077:
        return f"{state_dir} has mode {stat.S_IMODE(found.st_mode):o}, not 700: others can write it"
    return None


def enabled_state_dir(location: Location) -> str | None:
    """The state directory when huddle is enabled here and it is safe to use, else None."""
    if not is_enabled(location) or untrusted_reason(location) is not None:
        return None
    return location.state_dir
