"""UserPromptSubmit: the session is working on a turn."""

from __future__ import annotations

from typing import Any

from huddle.context import Context
from huddle.handlers import own
from huddle.records import STATE_WORKING


def handle(context: Context) -> dict[str, Any] | None:
    own.set_state(context, STATE_WORKING)
    return None
