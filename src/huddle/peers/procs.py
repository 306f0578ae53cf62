"""Is a recorded process still the same process? Pid, start time and host together say so.

A pid alone lies once the process is gone and the number is reused; the start time read when
the record was made tells the two apart.
"""

from __future__ import annotations

import os
import sys


def host() -> str:
    return os.uname().nodename


def start_time(pid: int) -> str | None:
    """An opaque token for when process `pid` started, or None if there is no such process."""
    if pid <= 0:
        return None
    if sys.platform.startswith("linux"):
        return _linux_start_time(pid)
    return _ps_start_time(pid)


def _linux_start_time(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: fields count from the last ')'.
    fields = stat[stat.rfind(b")") + 2 :].split()
    try:
        return fields[19].decode("ascii")
    except IndexError:
        return None


def _ps_start_time(pid: int) -> str | None:
    import subprocess  # not on Linux, where /proc answers without a child process

    try:
        out = subprocess.run(
            ["ps", "-o", "lstart=", "-p", str(pid)],
            capture_output=True,
            text=True,
            timeout=2,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return out or None


def is_running(pid: int | None, started: str | None, on_host: str | None) -> bool | None:
    """True/False when it can be told; None when the process lives on another host."""
    if pid is None or on_host != host():
        return None
    now = start_time(pid)
    if now is None:
        return False
    return started is None or now == started
