"""Hook events, parsed once from Claude Code's stdin JSON into typed values.

Plain classes rather than dataclasses: this runs on every hook call, and importing
dataclasses (with inspect behind it) costs more than the rest of the hook.
"""

from __future__ import annotations

import json

from huddle.store.ids import is_session_id
from huddle.vocab import EVENTS

MAX_INPUT = 32 << 20


class BadEvent(ValueError):
    """Input that is not an event huddle can act on."""


class Event:
    __slots__ = (
        "name",
        "session_id",
        "cwd",
        "source",
        "tool_name",
        "file_path",
        "command",
        "prompt",
        "reason",
    )

    def __init__(
        self,
        name: str,
        session_id: str,
        cwd: str,
        source: str = "",  # SessionStart: startup, resume, clear, compact, fork
        tool_name: str = "",
        file_path: str = "",  # edit tools: the absolute path of the file
        command: str = "",  # Bash
        prompt: str = "",
        reason: str = "",  # SessionEnd
    ) -> None:
        self.name = name
        self.session_id = session_id
        self.cwd = cwd
        self.source = source
        self.tool_name = tool_name
        self.file_path = file_path
        self.command = command
        self.prompt = prompt
        self.reason = reason


def parse(name: str, raw: bytes) -> Event:
    if name not in EVENTS:
        raise BadEvent(f"unknown hook event {name!r}")
    if len(raw) > MAX_INPUT:
        raise BadEvent(f"input of {len(raw)} bytes is larger than {MAX_INPUT}")
    if not raw.strip():
        raise BadEvent("empty input")
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise BadEvent(f"input is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BadEvent("input is not a JSON object")
    session_id = data.get("session_id")
    if not isinstance(session_id, str) or not is_session_id(session_id):
        raise BadEvent(f"session_id {str(session_id)[:80]!r} is not a UUID")
    cwd = data.get("cwd")
    if not isinstance(cwd, str) or not cwd.startswith("/") or "\0" in cwd:
        raise BadEvent("cwd is missing or not an absolute path")
    tool_input = data.get("tool_input")
    if not isinstance(tool_input, dict):
        tool_input = {}
    return Event(
        name=name,
        session_id=session_id,
        cwd=cwd,
        source=_text(data.get("source")),
        tool_name=_text(data.get("tool_name")),
        file_path=_text(tool_input.get("file_path") or tool_input.get("notebook_path")),
        command=_text(tool_input.get("command")),
        prompt=_text(data.get("prompt")),
        reason=_text(data.get("reason")),
    )


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""
