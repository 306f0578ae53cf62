"""SessionEnd: mark the record ended and give back the session's leases and locks.

Claude Code gives all SessionEnd hooks 1.5 s together, so this touches only the session's own
record, its own leases (named in that record) and the lock folder.
"""

from __future__ import annotations

from huddle.store import atomic, heartbeats, leases, locks

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from huddle.context import Context

ENDED = "ended"  # records.STATE_ENDED


def handle(context: Context) -> dict[str, Any] | None:
    def end(record: dict[str, Any]) -> None:
        record["state"] = ENDED
        record["ended_at"] = context.now
        record["last_activity"] = context.now

    try:
        record = heartbeats.update(context.state, context.session_id, end)
    except (FileNotFoundError, atomic.Corrupt):
        return None  # never registered here: nothing to end
    files = record.get("files")
    keys = [
        f["path"]
        for f in (files if isinstance(files, list) else [])
        if isinstance(f, dict) and isinstance(f.get("path"), str)
    ]
    leases.release(context.state, keys, context.session_id)
    locks.release_all(context.state, context.session_id)
    return None
