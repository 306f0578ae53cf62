"""The one way old entries leave a folder: remove those whose mtime is older than a limit.

Used by every sweep (leases, inboxes' `tmp/`, temp files of crashed writers). Symlinks are
judged and removed as links, never followed.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable


def remove_older_than(
    folder: str | os.PathLike[str],
    now: float,
    older_than: float,
    wanted: Callable[[str], bool] | None = None,
) -> int:
    """Remove the files in `folder` (those whose name `wanted` accepts) last changed more than
    `older_than` seconds before `now`; how many were removed. A missing folder holds nothing."""
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        if wanted is not None and not wanted(entry.name):
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                continue
            if now - entry.stat(follow_symlinks=False).st_mtime > older_than:
                os.unlink(entry.path)
                removed += 1
        except OSError:
            continue
    return removed


def is_temp_name(name: str) -> bool:
    """A name atomic.py gives the file it writes before renaming it into place."""
    return name.startswith(".") and name.endswith(".tmp")


def remove_temp_files(folder: str | os.PathLike[str], older_than: float, now: float) -> int:
    """Remove temp files left by writers that crashed between write and rename."""
    return remove_older_than(folder, now, older_than, is_temp_name)
