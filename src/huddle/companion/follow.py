"""Which session a companion serves: the one its Claude Code process runs now.

The client keeps its companion while its session id changes under it (/clear ends a session
and starts another in the same process), so the session is found from the client: the newest
record of that process (pid, start time, host) that has not ended.
"""

from __future__ import annotations

from huddle.store import atomic, heartbeats
from huddle.store.ids import is_session_id
from huddle.vocab import OVER

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def record_of(state_dir: str, session_id: str) -> dict[str, Any] | None:
    try:
        return heartbeats.read_raw(state_dir, session_id)
    except (OSError, atomic.Corrupt, ValueError):
        return None


def current(state_dir: str, session_id: str, pid: int, started: str, host: str) -> str | None:
    """`session_id` while its record says it goes on; else the client's newest session that
    has not ended; None when the client has none here (yet)."""
    record = record_of(state_dir, session_id)
    if record is not None and record.get("state") not in OVER:
        return session_id
    found = [
        r
        for r in heartbeats.scan_raw(state_dir)
        if r.get("pid") == pid
        and r.get("pid_start") == started
        and r.get("host") == host
        and r.get("state") not in OVER
        and is_session_id(r.get("session_id", ""))
        and isinstance(r.get("started_at"), (int, float))
    ]
    if not found:
        return None
    newest: str = max(found, key=lambda r: r["started_at"])["session_id"]
    return newest
