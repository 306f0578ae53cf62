"""PreToolUse on edit tools and Bash: keep the heartbeat warm."""

from __future__ import annotations

from huddle.handlers import own

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from huddle.context import Context


def handle(context: Context) -> dict[str, Any] | None:
    own.touch(context)
    return None
