"""Sleeping until something changes: inotify on Linux, a short sleep elsewhere.

The companion sleeps most of its life. With inotify it is woken only when a file lands in the
folders it watches (the session's inbox, the state directory) or when its own timeout ends, so at
rest it costs one wake-up a second and a message is seen the moment it is delivered. Where
inotify cannot be had (another system, the per-user limit of inotify instances reached), it polls
every POLL seconds instead.
"""

from __future__ import annotations

import os
import select
import sys
import time

POLL = 0.2
# <sys/inotify.h>
IN_MODIFY, IN_ATTRIB, IN_MOVED_TO, IN_CREATE = 0x2, 0x4, 0x80, 0x100
IN_NONBLOCK, IN_CLOEXEC = 0o4000, 0o2000000
WATCHED = IN_MODIFY | IN_ATTRIB | IN_MOVED_TO | IN_CREATE


class Changes:
    __slots__ = ("_fd", "_libc", "_watched")

    def __init__(self) -> None:
        self._fd = -1
        self._libc = None
        self._watched: set[str] = set()
        if not sys.platform.startswith("linux"):
            return
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        except (OSError, AttributeError):
            return
        if fd >= 0:
            self._fd, self._libc = fd, libc

    @property
    def notified(self) -> bool:
        """Whether changes wake it (inotify), rather than it polling."""
        return self._fd >= 0

    def watch(self, folder: str) -> None:
        """Be woken by files created, renamed into, written or touched in `folder`."""
        if self._libc is None or folder in self._watched:
            return
        if self._libc.inotify_add_watch(self._fd, os.fsencode(folder), WATCHED) >= 0:
            self._watched.add(folder)

    def wait(self, timeout: float) -> None:
        """Until something watched changes, or `timeout` seconds pass."""
        timeout = max(0.0, timeout)
        if self._fd < 0 or not self._watched:
            time.sleep(min(timeout, POLL))
            return
        ready, _, _ = select.select([self._fd], [], [], timeout)
        if ready:
            try:
                while os.read(self._fd, 1 << 16):
                    pass
            except BlockingIOError:
                pass  # drained
