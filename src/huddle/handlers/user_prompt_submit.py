"""UserPromptSubmit: the session is working on a turn."""

from __future__ import annotations

from huddle.handlers import own

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from huddle.context import Context

WORKING = "working"  # records.STATE_WORKING, without importing the schema on the hot path


def handle(context: Context) -> dict[str, Any] | None:
    own.set_state(context, WORKING)
    return None
