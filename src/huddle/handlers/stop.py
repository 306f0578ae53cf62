"""Stop: the turn is over and the session waits for its user."""

from __future__ import annotations

from huddle.handlers import own

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from huddle.context import Context

IDLE = "idle"  # records.STATE_IDLE, without importing the schema on the hot path


def handle(context: Context) -> dict[str, Any] | None:
    own.set_state(context, IDLE)
    return None
