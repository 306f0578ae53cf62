"""Soft leases: editing a file leases it to the editing session for a while.

`leases/<encoded file name>/<session id>.json`, one small file per session and file, so that
asking "who else holds this file?" lists one folder, however many leases the repository has.
A lease counts until its time runs out (the TTL is applied when it is read, so a changed
setting applies at once) or until its holder is no longer live.
"""

from __future__ import annotations

import os

from huddle.store import atomic, paths
from huddle.store.ids import is_session_id
from huddle.store.layout import LEASES, encode
from huddle.vocab import FUTURE_SLACK

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _log(message: str) -> None:
    from huddle import log

    log.write(message)


def _path(state_dir: str, key: str, session_id: str) -> str:
    if not is_session_id(session_id):
        raise ValueError(f"not a session id: {session_id!r}")
    return paths.join(state_dir, LEASES, encode(key), session_id + ".json")


def take(state_dir: str, key: str, session_id: str, worktree: str, now: float) -> None:
    """Take or renew the session's lease on `key`."""
    path = _path(state_dir, key, session_id)
    entry = {"path": key, "session_id": session_id, "worktree": worktree, "at": now}
    for attempt in (1, 2):
        atomic.make_dirs(os.path.dirname(path))
        try:
            atomic.write_json(path, entry, durable=False)
            return
        except FileNotFoundError:
            if attempt == 2:  # a sweep removed the empty folder in between, twice
                raise


def holders(state_dir: str, key: str, now: float, ttl: float) -> list[dict[str, Any]]:
    """The unexpired leases on `key`, newest first; whether the holders are live is not judged."""
    folder = paths.join(state_dir, LEASES, encode(key))
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return []
    found = []
    for entry in entries:
        if not entry.name.endswith(".json") or not is_session_id(entry.name[:-5]):
            continue
        try:
            lease = atomic.read_json_object(entry.path, limit=4096)
        except (OSError, atomic.Corrupt):
            continue
        at = lease.get("at")
        if (
            lease.get("path") == key
            and lease.get("session_id") == entry.name[:-5]
            and isinstance(at, (int, float))
            and now - at < ttl
        ):
            if now - at < -FUTURE_SLACK:
                _log(f"ignoring the lease {entry.path}: it is dated in the future")
                continue
            found.append(lease)
    found.sort(key=lambda lease: lease["at"], reverse=True)
    return found


def release(state_dir: str, keys: list[str], session_id: str) -> None:
    for key in keys:
        try:
            os.unlink(_path(state_dir, key, session_id))
        except (FileNotFoundError, NotADirectoryError):
            pass


def held(state_dir: str, keys: list[str], session_id: str) -> list[str]:
    """Which of `keys` the session still has a lease file on (expired or not)."""
    return [key for key in keys if os.path.exists(_path(state_dir, key, session_id))]


def others(state_dir: str, key: str, session_id: str) -> list[str]:
    """Ids of the other sessions with a lease file on `key`."""
    try:
        names = os.listdir(paths.join(state_dir, LEASES, encode(key)))
    except (FileNotFoundError, NotADirectoryError):
        return []
    found = [n[:-5] for n in names if n.endswith(".json") and is_session_id(n[:-5])]
    return [other for other in found if other != session_id]


def transfer(
    state_dir: str, keys: list[str], old: str, new: str, worktree: str, now: float
) -> None:
    """Give `old`'s leases on `keys` to `new` (a session /clear replaced)."""
    for key in held(state_dir, keys, old):
        take(state_dir, key, new, worktree, now)
        release(state_dir, [key], old)


def sweep(state_dir: str, now: float, older_than: float) -> int:
    """Remove leases older than `older_than` seconds, and folders left empty."""
    from huddle.store.tidy import remove_older_than

    removed = 0
    root = paths.join(state_dir, LEASES)
    try:
        # A link among them is never followed: whatever it points at is not huddle's.
        folders = [e.path for e in os.scandir(root) if e.is_dir(follow_symlinks=False)]
    except OSError:
        return 0
    for folder in folders:
        removed += remove_older_than(folder, now, older_than)
        try:
            os.rmdir(folder)  # only succeeds when empty
        except OSError:
            pass
    return removed
