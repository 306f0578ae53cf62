"""SessionEnd: mark the record ended.

Claude Code gives all SessionEnd hooks 1.5 s together, so this reads and writes one small file
and does nothing else.
"""

from __future__ import annotations

from huddle.store import atomic, heartbeats

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from huddle.context import Context

ENDED = "ended"  # records.STATE_ENDED


def handle(context: Context) -> dict[str, Any] | None:
    try:
        record = heartbeats.read_raw(context.state, context.session_id)
    except (FileNotFoundError, atomic.Corrupt):
        return None  # never registered here: nothing to end
    record["state"] = ENDED
    record["ended_at"] = context.now
    record["last_activity"] = context.now
    heartbeats.write_raw(context.state, record)
    return None
