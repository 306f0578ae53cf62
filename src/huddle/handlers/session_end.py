"""SessionEnd: mark the record ended, give back everything the session held, and tell the
peers it worked with that it left.

Claude Code gives all SessionEnd hooks 1.5 s together, so this touches only the session's own
record, its own leases (named in that record), the lock and task folders and the inboxes of
the few peers it tells. After /clear (reason "clear") the process goes on as a new session
that takes everything over (lineage.py), so nothing is given back and nobody is told.
"""

from __future__ import annotations

from huddle.store import atomic, heartbeats
from huddle.vocab import END_CLEAR, ENDED

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from huddle.handlers.context import Context


def handle(context: Context) -> dict[str, Any] | None:
    from huddle.peers import departures, holdings

    reason = context.event.reason
    given: list[holdings.Held] = []

    def end(record: dict[str, Any]) -> None:
        record["state"] = ENDED
        record["ended_at"] = context.now
        record["last_activity"] = context.now
        record["end_reason"] = reason or None
        if reason != END_CLEAR:
            given.append(holdings.give_back(context.state_dir, record))

    try:
        record = heartbeats.update(context.state_dir, context.session_id, end)
    except (FileNotFoundError, atomic.Corrupt):
        return None  # never registered here: nothing to end
    if given:
        departures.announce_end(context.state_dir, record, given[0], context.now)
    return None
