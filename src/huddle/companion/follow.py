"""Which session a companion serves: the one its Claude Code process runs now.

The client keeps its companion (and its MCP server) while its session id changes under it:
/clear ends a session and starts another in the same process, /resume and a fork switch to
another. So the session is found from the client: of the records of that process (pid, start
time, host) that have not ended, the one active last.
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
    """The client's session now: of its records (same pid, start time and host) that have not
    ended, the one active last (a session that starts is active at once; /clear ends the one it
    replaces, /resume may not); `session_id` when the client has none but that one; None when
    it has none here (yet)."""
    found = [
        r
        for r in heartbeats.scan_raw(state_dir)
        if r.get("pid") == pid
        and r.get("pid_start") == started
        and r.get("host") == host
        and r.get("state") not in OVER
        and is_session_id(r.get("session_id", ""))
        and isinstance(r.get("last_activity"), (int, float))
    ]
    if found:
        newest: str = max(found, key=lambda r: r["last_activity"])["session_id"]
        return newest
    record = record_of(state_dir, session_id) if is_session_id(session_id) else None
    return session_id if record is not None and record.get("state") not in OVER else None
