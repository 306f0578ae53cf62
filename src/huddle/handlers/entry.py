"""The one way into huddle from a Claude Code hook, and its error boundary.

Read the event, find the repository, run the handler, print at most one JSON object. Whatever
goes wrong is logged and the hook exits 0 with no output: huddle must never get in the way.
"""

from __future__ import annotations

import json
import os
import sys
import time

from huddle.handlers.events import MAX_INPUT, BadEvent, parse

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from huddle.handlers.context import Context

    Handler = Callable[[Context], "dict[str, Any] | None"]


def main(event_name: str) -> None:
    """Run one hook; always exits 0."""
    try:
        output = run(event_name, _read_stdin())
        if output:
            # Bytes, so that no locale setting can turn a peer's name into an encoding error.
            sys.stdout.buffer.write(json.dumps(output, ensure_ascii=False).encode("utf-8"))
            sys.stdout.buffer.flush()
    except BadEvent as exc:
        _log(f"{event_name}: ignored bad input: {exc}")
    except BaseException as exc:  # noqa: BLE001 - this is the boundary
        _log(f"{event_name}: failed: {exc!r}", with_traceback=True)
    finally:
        # Skip interpreter teardown; nothing is left to flush but stdout, flushed above.
        os._exit(0)


def _log(message: str, *, with_traceback: bool = False) -> None:
    from huddle import log  # most hooks have nothing to log: they never import it

    log.write(message, with_traceback=with_traceback)


def _read_stdin() -> bytes:
    return sys.stdin.buffer.read(MAX_INPUT + 1)


def run(event_name: str, raw: bytes) -> dict[str, Any] | None:
    from huddle.handlers.context import Context
    from huddle.repo import gitfiles

    event = parse(event_name, raw)
    cwd = event.cwd
    if not os.path.isdir(cwd):
        cwd = os.getcwd()
        _log(f"{event_name}: cwd {event.cwd[:300]!r} is not a directory; using {cwd!r}")
    try:
        location = gitfiles.locate(cwd)
    except gitfiles.NotARepository:
        return None
    if not gitfiles.is_enabled(location):
        return None
    reason = gitfiles.untrusted_reason(location)
    if reason is not None:
        # Someone means huddle to run here, but its state directory cannot be trusted. Where
        # huddle never keeps state (the home directory) that goes without saying.
        if gitfiles.refuse_reason(location) is None:
            _log(f"{event_name}: ignoring this repository: {reason} (`huddle doctor` says more)")
        return None
    state_dir = location.state_dir
    context = Context(event=event, location=location, state_dir=state_dir, now=time.time(), cwd=cwd)
    output = handler_for(event_name)(context)
    try:
        context.mark_ran()
    except OSError as exc:  # bookkeeping for doctor must not cost the handler's answer
        _log(f"{event_name}: could not mark the hook as run: {exc}")
    return output


_MODULES = {
    "SessionStart": "session_start",
    "UserPromptSubmit": "user_prompt_submit",
    "PreToolUse": "pre_tool_use",
    "PostToolUse": "post_tool_use",
    "Stop": "stop",
    "SessionEnd": "session_end",
}


def handler_for(event_name: str) -> Handler:
    """The event's handler: only its module is imported, so hooks pay for nothing else."""
    name = f"huddle.handlers.{_MODULES[event_name]}"
    __import__(name)
    handler: Handler = sys.modules[name].handle
    return handler
