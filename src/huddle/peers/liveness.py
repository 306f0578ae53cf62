"""Is a session live? Judged from its stored record, for hooks and CLI alike.

A session is live while its Claude Code process exists (same pid, same start time, same host).
A record that cannot be checked against a process (another host, no pid) counts as live only as
long as a lease would after its last activity, and never on the strength of a time to come.
"""

from __future__ import annotations

from huddle.peers import procs
from huddle.store import heartbeats
from huddle.vocab import FUTURE_SLACK, OVER, UNVERIFIED_LIVE_FOR

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


def is_live(record: dict[str, Any], now: float) -> bool:
    """`record` is a heartbeat as stored (a dict); malformed fields count against it."""
    if record.get("state") in OVER:
        return False
    pid, started, host = record.get("pid"), record.get("pid_start"), record.get("host")
    running = procs.is_running(
        pid if isinstance(pid, int) and not isinstance(pid, bool) else None,
        started if isinstance(started, str) else None,
        host if isinstance(host, str) else None,
    )
    if running is None:
        last = record.get("last_activity")
        return isinstance(last, (int, float)) and -FUTURE_SLACK < now - last < UNVERIFIED_LIVE_FOR
    return running


def process_gone(record: dict[str, Any]) -> bool:
    """True only when the record's process can be checked (this host, a pid) and is not
    running: a crash, as opposed to a record that merely went quiet."""
    if record.get("state") in OVER:
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


def live_record(state_dir: str, session_id: object, now: float) -> dict[str, Any] | None:
    """The stored record of session `session_id` when that session is live; None when it is
    not, or has no readable record here, or `session_id` is no session id at all."""
    if not isinstance(session_id, str):
        return None
    try:
        record = heartbeats.read_raw(state_dir, session_id)
    except (OSError, ValueError):  # ValueError: not a session id, or atomic.Corrupt
        return None
    return record if is_live(record, now) else None


def live_records(
    state_dir: str,
    now: float,
    *,
    besides: str | None = None,
    where: Callable[[dict[str, Any]], bool] | None = None,
) -> list[dict[str, Any]]:
    """The stored records of every live session but `besides` (a session id) that `where`
    accepts; `where` is asked first, so only the sessions it keeps have their process looked
    at."""
    return [
        record
        for record in heartbeats.scan_raw(state_dir)
        if record.get("session_id") != besides
        and (where is None or where(record))
        and is_live(record, now)
    ]


def companion_of(state_dir: str, record: dict[str, Any]) -> dict[str, Any] | None:
    """The record of the running companion that wakes session `record` (a heartbeat as
    stored); None when no companion runs for its Claude Code process."""
    from huddle.store import companions

    pid, started, host = record.get("pid"), record.get("pid_start"), record.get("host")
    if not isinstance(pid, int) or isinstance(pid, bool) or not isinstance(started, str):
        return None
    if host != procs.host():
        return None
    found = companions.read(state_dir, companions.key(host, pid, started))
    if found is None:
        return None
    own, own_start = found.get("pid"), found.get("pid_start")
    if not isinstance(own, int) or isinstance(own, bool) or not isinstance(own_start, str):
        return None
    return found if procs.is_running(own, own_start, host) else None
