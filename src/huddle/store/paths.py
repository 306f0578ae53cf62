"""Paths inside the state directory that cannot lead outside it.

A repository, or anyone who can write the state directory, could put a symlink in it
(`ran -> ~/.config`). huddle follows none: `join` refuses a path any existing part of which
below the state directory is a link, and the file primitives never follow one in the last
part either (O_NOFOLLOW, lutimes, rename and unlink act on the link itself).
"""

from __future__ import annotations

import os
import stat


class Outside(OSError):
    """A path in the state directory that a symlink would lead somewhere else."""


def join(state_dir: str | os.PathLike[str], *parts: str) -> str:
    """`os.path.join(state_dir, *parts)`, once sure that no part of it that exists is a link."""
    path = os.fspath(state_dir)
    for index, part in enumerate(parts):
        path = os.path.join(path, part)
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            return os.path.join(path, *parts[index + 1 :])  # nothing below exists either
        except NotADirectoryError:
            return os.path.join(path, *parts[index + 1 :])  # using it fails on its own
        if stat.S_ISLNK(mode):
            raise refused(path)
    return path


def refused(path: str | os.PathLike[str]) -> Outside:
    return Outside(f"{os.fspath(path)} is a symlink: huddle follows none in its state directory")
