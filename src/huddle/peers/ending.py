"""A session's end: its record marked ended, everything it held given back, and the peers it
worked with told that it left. After /clear (reason "clear") the process goes on as a new
session that takes everything over (lineage.py), so nothing is given back and nobody is told.
"""

from __future__ import annotations

from huddle.store import atomic, heartbeats
from huddle.vocab import END_CLEAR, ENDED

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def end(state_dir: str, session_id: str, now: float, reason: str) -> None:
    from huddle.peers import departures, holdings

    given: list[holdings.Held] = []

    def change(record: dict[str, Any]) -> None:
        record["state"] = ENDED
        record["ended_at"] = now
        record["last_activity"] = now
        record["end_reason"] = reason or None
        if reason != END_CLEAR:
            given.append(holdings.give_back(state_dir, record))

    try:
        record = heartbeats.update(state_dir, session_id, change)
    except (FileNotFoundError, atomic.Corrupt):
        return  # never registered here: nothing to end
    if given:
        departures.announce_end(state_dir, record, given[0], now)
