"""PostToolUse on edit tools and Bash: keep the heartbeat warm; follow a branch switch."""

from __future__ import annotations

from huddle import repo
from huddle.handlers import own

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from huddle.context import Context


def handle(context: Context) -> dict[str, Any] | None:
    own.touch(context)
    if context.event.tool_name == "Bash":
        # A Bash command may have checked out another branch; reading HEAD is cheap.
        record = own.load(context)
        if record.get("branch") != repo.branch(context.location):
            own.set_state(context, str(record.get("state", "working")), record)
    return None
