"""One module per Claude Code hook event; each exposes `handle(context) -> output or None`.

Only the module of the running event is imported, and the hot-path handlers import nothing
heavy: hooks pay for nothing they do not use.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from huddle.handlers.context import Context

    Handler = Callable[[Context], "dict[str, Any] | None"]

_MODULES = {
    "SessionStart": "session_start",
    "UserPromptSubmit": "user_prompt_submit",
    "PreToolUse": "pre_tool_use",
    "PostToolUse": "post_tool_use",
    "Stop": "stop",
    "SessionEnd": "session_end",
}


def handler_for(event_name: str) -> Handler:
    name = f"huddle.handlers.{_MODULES[event_name]}"
    __import__(name)
    handler: Handler = sys.modules[name].handle
    return handler
