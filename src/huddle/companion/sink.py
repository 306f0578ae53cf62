"""Where a companion's delivery goes: the monitor's stdout, whose every write the client turns
into one event for the model (one write, so several items make one event); or the waiter's
stderr, which the client shows the model when the waiter exits with code 2."""

from __future__ import annotations

import os


class Gone(OSError):
    """The client no longer reads: it has exited."""


def to_monitor(text: str) -> None:
    _write(1, text)


def to_rewake(text: str) -> None:
    _write(2, text)


def _write(fd: int, text: str) -> None:
    data = (text.rstrip("\n") + "\n").encode("utf-8")
    try:
        while data:
            data = data[os.write(fd, data) :]
    except (BrokenPipeError, ConnectionResetError) as exc:
        raise Gone(str(exc)) from None
