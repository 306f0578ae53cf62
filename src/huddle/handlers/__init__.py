"""One module per Claude Code hook event; each exposes `handle(context) -> output or None`.

Only the module of the running event is imported: hooks pay for nothing they do not use.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from huddle.context import Context

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
    module = importlib.import_module(f"huddle.handlers.{_MODULES[event_name]}")
    return module.handle  # type: ignore[no-any-return]
