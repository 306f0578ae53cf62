"""SessionEnd: mark the record ended. Claude Code gives all SessionEnd hooks 1.5 s together,
so this reads and writes one small file and does nothing else."""

from __future__ import annotations

from typing import Any

from huddle.context import Context
from huddle.records import STATE_ENDED
from huddle.store import atomic, heartbeats


def handle(context: Context) -> dict[str, Any] | None:
    try:
        record = heartbeats.read(context.state, context.session_id)
    except (FileNotFoundError, atomic.Corrupt):
        return None  # never registered here: nothing to end
    record.state = STATE_ENDED
    record.ended_at = context.now
    record.last_activity = context.now
    heartbeats.write(context.state, record)
    return None
