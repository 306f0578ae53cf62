"""Where a companion's delivery goes: the monitor's stdout, whose every write the client turns
into one event for the model (one write, so several items make one event); or the waiter's
stderr, which the client shows the model when the waiter exits with code 2."""

from __future__ import annotations

import os

# The client cuts a monitor's event at 3,000 characters ("...(truncated)"): one delivery stays
# under it, and what does not fit follows in the woken turn (its UserPromptSubmit hook shows it)
# or in the next delivery.
BUDGET = 2500  # lines and the frame as counted by inbox.take; the head may run longer


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
