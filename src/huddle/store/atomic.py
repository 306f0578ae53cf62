"""Whole-file writes that readers never see half done, and tolerant JSON reads.

Paths are strings or path-likes; this module sticks to `os` so hooks need no pathlib.
"""

from __future__ import annotations

import itertools
import json
import os

from huddle.store.layout import FILE_MODE, FOLDER_MODE
from huddle.store.paths import refused

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_counter = itertools.count()


def _temp_beside(path: str) -> tuple[int, str]:
    """A new file next to `path`, named so that tidy.remove_temp_files finds leftovers."""
    folder, name = os.path.split(path)
    while True:
        tmp = os.path.join(folder, f".{name}.{os.getpid()}.{next(_counter)}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE), tmp
        except FileExistsError:
            continue  # left by an earlier process with the same pid


def make_dirs(path: str | os.PathLike[str]) -> None:
    """The folder `path` and every missing folder above it, each mode 0700: os.makedirs gives
    its mode to the last folder only, the others get the umask's."""
    try:
        os.mkdir(path, FOLDER_MODE)
    except FileExistsError:
        _check_folder(path)
    except FileNotFoundError:
        parent = os.path.dirname(os.fspath(path))
        if not parent or parent == os.fspath(path):
            raise
        make_dirs(parent)
        try:
            os.mkdir(path, FOLDER_MODE)
        except FileExistsError:  # made by another writer meanwhile
            _check_folder(path)


def _check_folder(path: str | os.PathLike[str]) -> None:
    if os.path.islink(path):
        raise refused(path)
    if not os.path.isdir(path):
        raise FileExistsError(f"{os.fspath(path)} is not a folder")


def write_bytes(path: str | os.PathLike[str], data: bytes, *, durable: bool = True) -> None:
    """Replace `path` with `data` in one step: temp file beside it, flush, fsync, rename."""
    target = os.fspath(path)
    fd, tmp = _temp_beside(target)
    try:
        with open(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass  # the first error is the one worth reporting
        raise


def write_json(path: str | os.PathLike[str], value: object, *, durable: bool = True) -> None:
    data = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    write_bytes(path, data, durable=durable)


class Corrupt(ValueError):
    """A state file exists but does not hold what it should."""


def read_json_object(path: str | os.PathLike[str], limit: int = 1 << 20) -> dict[str, Any]:
    """Read a JSON object written by `write_json`; raise Corrupt for anything else."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)  # a link in the state dir is never read
    with open(fd, "rb") as handle:
        data = handle.read(limit + 1)
    name = os.path.basename(os.fspath(path))
    if len(data) > limit:
        raise Corrupt(f"{name} is larger than {limit} bytes")
    try:
        value = json.loads(data)
    except ValueError as exc:
        raise Corrupt(f"{name} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise Corrupt(f"{name} does not hold a JSON object")
    return value


def create_exclusive(path: str | os.PathLike[str], data: bytes) -> bool:
    """Create `path` holding `data` only if nothing is there; True when this call made it.

    The content is written aside and linked into place, so the name never appears empty.
    """
    target = os.fspath(path)
    fd, tmp = _temp_beside(target)
    try:
        with open(fd, "wb") as handle:
            handle.write(data)
        try:
            os.link(tmp, target)
        except FileExistsError:
            return False
        return True
    finally:
        os.unlink(tmp)
