"""Companions: the process that wakes a session when something waits for it while it is idle.

There is one per Claude Code process (the client), named by the client's host, pid and start
time, because a client keeps its companion while its session id changes under it (/clear).
`companions/<client>.lock` is held (flock) by the companion that runs: another one started for
the same client waits for it instead of delivering a second time. `companions/<client>.json`
says which process that is, which session it serves now and when it last delivered, for
`huddle doctor` and `huddle sessions`.
"""

from __future__ import annotations

import os

from huddle.store import atomic, paths
from huddle.store.layout import COMPANIONS, FILE_MODE

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def key(host: str, pid: int, started: str) -> str:
    """The file name of the companion of client `pid` (started at `started`) on `host`."""
    import hashlib

    return hashlib.sha256(f"{host}\0{pid}\0{started}".encode()).hexdigest()[:24]


def hold(state_dir: str, name: str) -> int | None:
    """Take the companion's lock for client `name` and return its descriptor (kept open for as
    long as the companion runs); None when another process holds it."""
    import fcntl

    folder = paths.join(state_dir, COMPANIONS)
    atomic.make_dirs(folder)
    fd = os.open(
        os.path.join(folder, name + ".lock"),
        os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
        FILE_MODE,
    )
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def write(state_dir: str, name: str, record: dict[str, Any]) -> None:
    atomic.write_json(paths.join(state_dir, COMPANIONS, name + ".json"), record, durable=False)


def read(state_dir: str, name: str) -> dict[str, Any] | None:
    try:
        return atomic.read_json_object(paths.join(state_dir, COMPANIONS, name + ".json"))
    except (OSError, atomic.Corrupt):
        return None


def remove(state_dir: str, name: str) -> None:
    """The companion's record; its lock file stays, as lock files do (another may wait on it)."""
    try:
        os.unlink(paths.join(state_dir, COMPANIONS, name + ".json"))
    except FileNotFoundError:
        pass
