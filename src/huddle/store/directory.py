"""The state directory itself: made when huddle is enabled in a repository, its marker written,
and removed whole when huddle is disabled there."""

from __future__ import annotations

import os

from huddle.store import atomic
from huddle.store.layout import FOLDER_MODE, MARKER

FORMAT = 1


def make(state_dir: str) -> None:
    """The directory (and `.claude/` above it), mode 0700 whatever the umask."""
    os.makedirs(os.path.dirname(state_dir), exist_ok=True)
    os.makedirs(state_dir, mode=FOLDER_MODE, exist_ok=True)
    os.chmod(state_dir, FOLDER_MODE)


def mark_enabled(state_dir: str, now: float) -> bool:
    """Write the marker that huddle is enabled here; False if it was already there (its
    settings are kept)."""
    marker = os.path.join(state_dir, MARKER)
    if os.path.isfile(marker):
        return False
    atomic.write_json(marker, {"enabled_at": now, "format": FORMAT})
    return True


def count_files(state_dir: str) -> int:
    return sum(len(files) + len(folders) for _, folders, files in os.walk(state_dir))


def remove(state_dir: str) -> None:
    """Everything huddle keeps for the repository. A symlink is never followed."""
    import shutil

    if os.path.islink(state_dir):
        raise OSError(f"{state_dir} is a symlink")
    shutil.rmtree(state_dir)
