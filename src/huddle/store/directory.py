"""The state directory itself, and the mark that huddle is enabled: made when huddle is enabled
in a repository, set aside when one is found that huddle did not make, removed on disable.

The mark lives in the repository's git common directory (`huddle-enabled`), which git never
clones; the directory lives in the main worktree, where a repository can commit one.
"""

from __future__ import annotations

import os
import time

from huddle.store import atomic
from huddle.store.layout import ENABLED_MARK, FOLDER_MODE, MARKER

FORMAT = 1


def make(state_dir: str) -> None:
    """The directory (and `.claude/` above it), mode 0700 whatever the umask."""
    os.makedirs(os.path.dirname(state_dir), exist_ok=True)
    os.makedirs(state_dir, mode=FOLDER_MODE, exist_ok=True)
    os.chmod(state_dir, FOLDER_MODE)


def mark_enabled(state_dir: str, common_dir: str, now: float) -> bool:
    """Mark huddle enabled (in the git directory) and give the state directory its settings
    file; False if it was enabled already (its settings are kept)."""
    marker = os.path.join(state_dir, MARKER)
    if not os.path.isfile(marker):
        atomic.write_json(marker, {"enabled_at": now, "format": FORMAT})
    mark = os.path.join(common_dir, ENABLED_MARK)
    if os.path.isfile(mark):
        return False
    atomic.write_json(mark, {"enabled_at": now, "uid": os.getuid(), "format": FORMAT})
    return True


def unmark(common_dir: str) -> None:
    try:
        os.unlink(os.path.join(common_dir, ENABLED_MARK))
    except FileNotFoundError:
        pass


class Contents:
    """What a state directory holds, told by kind: for a person deciding what to do with it."""

    def __init__(self, state_dir: str) -> None:
        self.owner = os.lstat(state_dir).st_uid
        self.files = 0
        self.links: list[str] = []  # relative paths of symlinks, never followed
        self.open_folders: list[str] = []  # folders others may write (mode beyond 0700)
        self.by_folder: dict[str, int] = {}
        for folder, folders, files in os.walk(state_dir):
            relative = os.path.relpath(folder, state_dir)
            try:
                if os.lstat(folder).st_mode & 0o077:
                    self.open_folders.append(relative)
            except OSError:
                pass
            for name in folders + files:
                if os.path.islink(os.path.join(folder, name)):
                    self.links.append(os.path.normpath(os.path.join(relative, name)))
            top = relative.split(os.sep)[0]
            self.by_folder[top] = self.by_folder.get(top, 0) + len(files)
            self.files += len(files)

    def problems(self) -> list[str]:
        """Why it cannot be taken as an earlier huddle's own, in words; none when it can."""
        found = []
        if self.owner != os.getuid():
            found.append(f"it belongs to another user (uid {self.owner})")
        if self.links:
            found.append(f"it holds symlinks: {', '.join(self.links[:5])}")
        if self.open_folders:
            found.append("others may write into it (mode beyond 700)")
        return found

    def keepable(self) -> bool:
        """Whether it may be kept if asked: folders others may write can be closed, a link or
        another user's directory cannot be made safe."""
        return self.owner == os.getuid() and not self.links

    def summary(self) -> str:
        kinds = ", ".join(
            f"{count} in {'the top' if name == '.' else name + '/'}"
            for name, count in sorted(self.by_folder.items())
            if count
        )
        return f"{self.files} file(s)" + (f": {kinds}" if kinds else "")


def set_aside(state_dir: str, now: float | None = None) -> str:
    """Move the state directory out of the way, whole, beside where it was; its new path."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    target = f"{state_dir}.untrusted-{stamp}"
    os.rename(state_dir, target)  # a link is moved as a link, never followed
    return target


def remove(state_dir: str) -> None:
    """Everything huddle keeps for the repository. A symlink is never followed."""
    import shutil

    if os.path.islink(state_dir):
        raise OSError(f"{state_dir} is a symlink")
    shutil.rmtree(state_dir)
