"""Explicit locks on a file or a glob, taken with `huddle lock`.

`locks/<encoded pattern>.json` for a single file and `locks/globs/<encoded pattern>.json` for a
glob, so that the edit hook checks one file by name plus the (few) globs, never every lock.
Taking a lock is a read-check-write of shared state, done under `locks/.lock` (guard.py): of
any number of sessions racing for overlapping locks, exactly one wins. Globs match whole
worktree-relative paths with fnmatch, so `*` crosses folders: `src/*.py` covers `src/a/b.py`.
"""

from __future__ import annotations

import os
import time

from huddle.store import atomic, guard, paths
from huddle.store.config import MAX_SECONDS
from huddle.store.layout import GLOBS, GUARD, LOCKS, encode
from huddle.vocab import FUTURE_SLACK

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

GLOB_CHARS = "*?["


def is_glob(pattern: str) -> bool:
    return any(c in pattern for c in GLOB_CHARS)


def _path(state_dir: str, pattern: str) -> str:
    folders = (LOCKS, GLOBS) if is_glob(pattern) else (LOCKS,)
    return paths.join(state_dir, *folders, encode(pattern) + ".json")


class AlreadyLocked(Exception):
    """Another holder has a lock that overlaps the one asked for."""

    def __init__(self, lock: dict[str, Any]) -> None:
        super().__init__(lock.get("pattern"))
        self.lock = lock


def _read(path: str) -> dict[str, Any] | None:
    try:
        lock = atomic.read_json_object(path, limit=16384)
    except (OSError, atomic.Corrupt):
        return None
    pattern = lock.get("pattern")
    expires = lock.get("expires")
    if not isinstance(pattern, str) or not isinstance(expires, (int, float)):
        return None
    at = lock.get("at")
    taken = at if isinstance(at, (int, float)) else expires
    if taken > time.time() + FUTURE_SLACK or expires - taken > MAX_SECONDS:
        from huddle import log

        log.write(f"ignoring the lock {path}: taken in the future or for longer than allowed")
        return None
    return lock


def matching(state_dir: str, key: str, now: float) -> list[dict[str, Any]]:
    """Unexpired locks that cover the file `key`: the one on it by name, and matching globs."""
    found = []
    exact = _read(_path(state_dir, key))
    if exact is not None and exact["pattern"] == key and exact["expires"] > now:
        found.append(exact)
    try:
        globs = list(os.scandir(paths.join(state_dir, LOCKS, GLOBS)))
    except (FileNotFoundError, NotADirectoryError):
        return found
    if globs:
        from fnmatch import fnmatchcase  # only when some glob is locked

        for entry in globs:
            lock = _read(entry.path) if entry.name.endswith(".json") else None
            if lock and lock["expires"] > now and fnmatchcase(key, lock["pattern"]):
                found.append(lock)
    return found


def every(state_dir: str) -> list[dict[str, Any]]:
    """All lock records, expired ones included."""
    found = []
    for folder in (paths.join(state_dir, LOCKS), paths.join(state_dir, LOCKS, GLOBS)):
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if entry.name.endswith(".json") and entry.is_file(follow_symlinks=False):
                lock = _read(entry.path)
                if lock is not None:
                    found.append(lock)
    return found


def overlap(a: str, b: str) -> bool:
    """Could one file be covered by both patterns? Exact for files, a fair guess for globs."""
    from fnmatch import fnmatchcase

    return a == b or fnmatchcase(a, b) or fnmatchcase(b, a)


def acquire(
    state_dir: str,
    lock: dict[str, Any],
    counts: Callable[[dict[str, Any]], bool],
) -> dict[str, Any]:
    """Write `lock` unless another holder's lock overlaps it; raise AlreadyLocked with that lock.

    `counts(existing)` says whether an existing lock still counts (unexpired, holder live); one
    that does not is removed on the way. The caller's own lock on the same pattern is renewed.
    """
    folder = paths.join(state_dir, LOCKS)
    atomic.make_dirs(os.path.join(folder, GLOBS))
    with guard.exclusive(os.path.join(folder, GUARD)):
        for existing in every(state_dir):
            if not counts(existing):
                _remove(state_dir, existing)
            elif existing.get("holder") == lock["holder"]:
                continue
            elif overlap(existing["pattern"], lock["pattern"]):
                raise AlreadyLocked(existing)
        atomic.write_json(_path(state_dir, lock["pattern"]), lock)
    return lock


def release(state_dir: str, pattern: str) -> dict[str, Any] | None:
    """Remove the lock on exactly `pattern`; the removed lock, or None if there was none."""
    existing = _read(_path(state_dir, pattern))
    if existing is None or existing["pattern"] != pattern:
        return None
    _remove(state_dir, existing)
    return existing


def _remove(state_dir: str, lock: dict[str, Any]) -> None:
    try:
        os.unlink(_path(state_dir, lock["pattern"]))
    except FileNotFoundError:
        pass


def release_all(state_dir: str, holder: str) -> list[dict[str, Any]]:
    """Remove every lock `holder` has (at SessionEnd); the locks removed."""
    removed = [lock for lock in every(state_dir) if lock.get("holder") == holder]
    for lock in removed:
        _remove(state_dir, lock)
    return removed


def held_by(state_dir: str, holder: str) -> list[dict[str, Any]]:
    return [lock for lock in every(state_dir) if lock.get("holder") == holder]


def transfer(state_dir: str, old: str, new: str, name: str) -> list[dict[str, Any]]:
    """Give `old`'s locks to `new` (a session /clear replaced in the same process)."""
    folder = paths.join(state_dir, LOCKS)
    if not os.path.isdir(folder):
        return []  # nobody ever took a lock here
    moved = []
    with guard.exclusive(os.path.join(folder, GUARD)):
        for lock in held_by(state_dir, old):
            lock = {**lock, "holder": new, "holder_name": name}
            atomic.write_json(_path(state_dir, lock["pattern"]), lock)
            moved.append(lock)
    return moved
