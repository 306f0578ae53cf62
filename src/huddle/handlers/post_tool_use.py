"""PostToolUse on edit tools and Bash: keep the heartbeat warm; follow a branch switch."""

from __future__ import annotations

from typing import Any

from huddle import repo
from huddle.context import Context
from huddle.handlers import own


def handle(context: Context) -> dict[str, Any] | None:
    own.touch(context)
    if context.event.tool_name == "Bash":
        # A Bash command may have checked out another branch; reading HEAD is cheap.
        record = own.load(context)
        if record.branch != repo.branch(context.location):
            own.set_state(context, record.state)
    return None
