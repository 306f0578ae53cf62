"""An exclusive lock on a file, the same for commands and hooks.

Commands take it with filelock, a runtime dependency. Hooks run on the standard library alone
(`python -S`), so there it is taken with fcntl.flock, which is what filelock uses on Unix: the
two exclude each other. The lock file is never removed.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

TIMEOUT = 30.0
POLL = 0.005


class Timeout(TimeoutError):
    """The lock stayed held by someone else for the whole timeout."""


@contextmanager
def exclusive(path: str, timeout: float = TIMEOUT) -> Iterator[None]:
    try:
        import filelock
    except ImportError:
        with _flock(path, timeout):
            yield
        return
    with filelock.FileLock(path, timeout=timeout):  # its Timeout is a TimeoutError too
        yield


@contextmanager
def _flock(path: str, timeout: float) -> Iterator[None]:
    import fcntl

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise Timeout(f"{path} stayed locked for {timeout:g}s") from None
                time.sleep(POLL)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the flock
