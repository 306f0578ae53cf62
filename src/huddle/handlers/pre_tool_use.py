"""PreToolUse on edit tools and Bash: keep the heartbeat warm."""

from __future__ import annotations

from typing import Any

from huddle.context import Context
from huddle.handlers import own


def handle(context: Context) -> dict[str, Any] | None:
    own.touch(context)
    return None
