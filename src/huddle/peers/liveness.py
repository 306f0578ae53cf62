"""Is a session live? Judged from its stored record, for hooks and CLI alike.

A session is live while its Claude Code process exists (same pid, same start time, same host).
A record that cannot be checked against a process (another host, no pid) counts as live for a
while after its last activity.
"""

from __future__ import annotations

from huddle.peers import procs

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

UNVERIFIABLE_LIVE_FOR = 6 * 3600.0
ENDED = "ended"
GONE = "gone"


def is_live(record: dict[str, Any], now: float) -> bool:
    """`record` is a heartbeat as stored (a dict); malformed fields count against it."""
    if record.get("state") in (ENDED, GONE):
        return False
    pid, started, host = record.get("pid"), record.get("pid_start"), record.get("host")
    running = procs.is_running(
        pid if isinstance(pid, int) and not isinstance(pid, bool) else None,
        started if isinstance(started, str) else None,
        host if isinstance(host, str) else None,
    )
    if running is None:
        last = record.get("last_activity")
        return isinstance(last, (int, float)) and now - last < UNVERIFIABLE_LIVE_FOR
    return running


def process_gone(record: dict[str, Any]) -> bool:
    """True only when the record's process can be checked (this host, a pid) and is not
    running: a crash, as opposed to a record that merely went quiet."""
    if record.get("state") in (ENDED, GONE):
        return False
    pid, started, host = record.get("pid"), record.get("pid_start"), record.get("host")
    if not isinstance(pid, int) or isinstance(pid, bool):
        return False
    return (
        procs.is_running(
            pid,
            started if isinstance(started, str) else None,
            host if isinstance(host, str) else None,
        )
        is False
    )
