"""Whole-file writes that readers never see half done, and tolerant JSON reads."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

FILE_MODE = 0o600


def write_bytes(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Replace `path` with `data` in one step: temp file beside it, flush, fsync, rename."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass  # the first error is the one worth reporting
        raise


def write_json(path: Path, value: Any, *, durable: bool = True) -> None:
    data = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    write_bytes(path, data, durable=durable)


class Corrupt(ValueError):
    """A state file exists but does not hold what it should."""


def read_json_object(path: Path, limit: int = 1 << 20) -> dict[str, Any]:
    """Read a JSON object written by `write_json`; raise Corrupt for anything else."""
    with open(path, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise Corrupt(f"{path.name} is larger than {limit} bytes")
    try:
        value = json.loads(data)
    except ValueError as exc:
        raise Corrupt(f"{path.name} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise Corrupt(f"{path.name} does not hold a JSON object")
    return value


def create_exclusive(path: Path, data: bytes) -> bool:
    """Create `path` holding `data` only if nothing is there; True when this call made it.

    The content is written aside and linked into place, so the name never appears empty.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, FILE_MODE)
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        return True
    finally:
        os.unlink(tmp)


def sweep_temp_files(folder: Path, older_than: float, now: float) -> int:
    """Remove temp files left by writers that crashed between write and rename."""
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        if not (entry.name.startswith(".") and entry.name.endswith(".tmp")):
            continue
        try:
            if now - entry.stat(follow_symlinks=False).st_mtime > older_than:
                os.unlink(entry.path)
                removed += 1
        except OSError:
            continue
    return removed

