"""Whether a headless client stopped reading its input (its host closed its stdin).

In the stream-json mode the client does not exit while an asyncRewake hook still runs, so the
waiter must notice first. On Linux it looks at the client's stdin without ever reading it:

- a pipe (a Python host): opened through /proc and polled, it reports a hang-up once every
  writer has closed it;
- a socket (a Node host hands its child socketpairs): the kernel's socket diagnostics
  (NETLINK_SOCK_DIAG) say when it was shut down, which closing the other end does.

Where neither can be done (another system), `watchable` is False and the waiter does not wait.
"""

from __future__ import annotations

import os
import select
import stat
import struct

NETLINK_SOCK_DIAG, SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST = 4, 20, 1
UNIX_DIAG_SHUTDOWN = 6  # an attribute of every answer: the socket's sk_shutdown bits
SHUT = 3  # RCV_SHUTDOWN | SEND_SHUTDOWN: what the end of a socketpair gets when the other closes


class Hangup:
    __slots__ = ("_fd", "_poll", "_inode")

    def __init__(self, pid: int) -> None:
        self._fd: int | None = None
        self._poll = None
        self._inode: int | None = None
        try:
            link = os.readlink(f"/proc/{pid}/fd/0")
        except OSError:
            return
        if link.startswith("socket:[") and link.endswith("]"):
            inode = int(link[len("socket:[") : -1])
            if _shutdown_of(inode) == 0:  # answered, and still open
                self._inode = inode
            return
        if not link.startswith("pipe:") or not hasattr(select, "poll"):
            return
        try:
            fd = os.open(f"/proc/{pid}/fd/0", os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:
            return
        if not stat.S_ISFIFO(os.fstat(fd).st_mode):
            os.close(fd)
            return
        self._fd, self._poll = fd, select.poll()
        self._poll.register(fd, 0)  # hang-ups and errors are reported whatever is asked for

    @property
    def watchable(self) -> bool:
        return self._fd is not None or self._inode is not None

    def happened(self) -> bool:
        if self._inode is not None:
            shut = _shutdown_of(self._inode)
            return shut is None or shut & SHUT == SHUT
        if self._fd is None or self._poll is None:
            return False
        return any(events & (select.POLLHUP | select.POLLERR) for _, events in self._poll.poll(0))


def _shutdown_of(inode: int) -> int | None:
    """The shutdown bits of the Unix socket `inode`; None when the kernel does not say (the
    socket is gone, or the query cannot be made)."""
    import socket

    try:
        query = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_SOCK_DIAG)
    except (OSError, AttributeError):
        return None
    try:
        # struct unix_diag_req: family, protocol, pad, states (all), inode, show, cookie (none)
        body = struct.pack(
            "=BBHIII2I", socket.AF_UNIX, 0, 0, 0xFFFFFFFF, inode, 0, 0xFFFFFFFF, 0xFFFFFFFF
        )
        head = struct.pack("=IHHII", 16 + len(body), SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, 1, 0)
        query.settimeout(1.0)
        query.sendto(head + body, (0, 0))
        answer = query.recv(65536)
    except OSError:
        return None
    finally:
        query.close()
    if len(answer) < 32:
        return None
    length, kind = struct.unpack_from("=IH", answer, 0)
    if kind != SOCK_DIAG_BY_FAMILY:
        return None  # an error: no such socket
    at = 16 + 16  # after the netlink header and struct unix_diag_msg
    while at + 4 <= min(length, len(answer)):
        size, attribute = struct.unpack_from("=HH", answer, at)
        if size < 4:
            break
        if attribute == UNIX_DIAG_SHUTDOWN and size >= 5:
            return answer[at + 4]
        at += (size + 3) & ~3
    return None
