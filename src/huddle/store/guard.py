"""The one exclusive lock on a file that huddle takes, for commands and hooks alike.

`with guard.exclusive(path):` holds the lock until the block ends. Commands take it with
filelock, a runtime dependency. Hooks run `python -S` on the standard library alone, so there
it is fcntl.flock, which is what filelock uses on Unix: the two exclude each other. The lock
file is created when missing and never removed: someone may be waiting on it.

A plain class rather than contextlib.contextmanager: importing contextlib costs a hook more
than the rest of its work.
"""

from __future__ import annotations

import os
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

TIMEOUT = 30.0
POLL = 0.005
MODE = 0o600


class Timeout(TimeoutError):
    """The lock stayed held by someone else for the whole timeout."""


class exclusive:  # noqa: N801 - used as `with guard.exclusive(path):`, like a function
    """An exclusive lock on `path`, waited for at most `timeout` seconds (None: as long as it
    takes). Raises Timeout, a TimeoutError, when it cannot be had in time."""

    __slots__ = ("path", "timeout", "_fd", "_filelock")

    def __init__(self, path: str, timeout: float | None = TIMEOUT) -> None:
        self.path = path
        self.timeout = timeout
        self._fd = -1
        self._filelock: Any = None

    def __enter__(self) -> None:
        if os.path.islink(self.path):  # filelock would open (and truncate) whatever it names
            from huddle.store.paths import Outside

            raise Outside(f"{self.path} is a symlink: huddle locks no file through one")
        if not sys.flags.no_site:
            try:
                import filelock
            except ImportError:
                pass
            else:
                wait = -1 if self.timeout is None else self.timeout
                self._filelock = filelock.FileLock(self.path, timeout=wait, mode=MODE)
                try:
                    self._filelock.acquire()
                except filelock.Timeout:
                    raise Timeout(f"{self.path} stayed locked for {self.timeout:g}s") from None
                return
        self._fd = _flock(self.path, self.timeout)

    def __exit__(self, *exc: object) -> None:
        if self._filelock is not None:
            self._filelock.release()
            self._filelock = None
        elif self._fd >= 0:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = -1


def _flock(path: str, timeout: float | None) -> int:
    import fcntl

    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, MODE)
    try:
        if timeout is None:
            fcntl.flock(fd, fcntl.LOCK_EX)
            return fd
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise Timeout(f"{path} stayed locked for {timeout:g}s") from None
                time.sleep(POLL)
    except BaseException:
        os.close(fd)
        raise
