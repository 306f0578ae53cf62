"""Stop: the turn is over and the session waits for its user."""

from __future__ import annotations

from typing import Any

from huddle.context import Context
from huddle.handlers import own
from huddle.records import STATE_IDLE


def handle(context: Context) -> dict[str, Any] | None:
    own.set_state(context, STATE_IDLE)
    return None
