"""Whether a headless client stopped reading its input (its host closed its stdin).

In the stream-json mode the client does not exit while an asyncRewake hook still runs, so the
waiter must notice first. On Linux the client's stdin pipe is opened through /proc, never read,
and polled: it reports a hang-up once every writer has closed it. Where that cannot be done
(another system, stdin a socket), `watchable` is False and the waiter keeps a shorter life.
"""

from __future__ import annotations

import os
import select
import stat


class Hangup:
    __slots__ = ("_fd", "_poll")

    def __init__(self, pid: int) -> None:
        self._fd: int | None = None
        self._poll = select.poll() if hasattr(select, "poll") else None
        try:
            fd = os.open(f"/proc/{pid}/fd/0", os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:
            return
        if not stat.S_ISFIFO(os.fstat(fd).st_mode) or self._poll is None:
            os.close(fd)
            return
        self._fd = fd
        self._poll.register(fd, 0)  # hang-ups and errors are reported whatever is asked for

    @property
    def watchable(self) -> bool:
        return self._fd is not None

    def happened(self) -> bool:
        if self._fd is None or self._poll is None:
            return False
        return any(events & (select.POLLHUP | select.POLLERR) for _, events in self._poll.poll(0))
