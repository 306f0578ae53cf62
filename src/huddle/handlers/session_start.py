"""SessionStart: write the heartbeat, tidy old records, and tell the session who else is here."""

from __future__ import annotations

import os

from huddle import bootstrap, digest, inbox, log, sessions
from huddle.handlers import own, stop
from huddle.handlers.output import additional_context

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from huddle.context import Context


def handle(context: Context) -> dict[str, Any] | None:
    bootstrap.start_if_needed()
    bootstrap.remember_interpreter()
    share_data_dir()
    everyone = sessions.load_all(context.state, context.now)
    peers = [s for s in everyone if s.live and s.session_id != context.session_id]
    try:
        me = own.register(context)
    except OSError as exc:
        # The session still learns about its peers when its own record cannot be written.
        log.write(f"SessionStart: could not write the heartbeat of {context.session_id}: {exc!r}")
        me = None
    else:
        sessions.sweep(context.state, everyone, context.now)
        stop.take_baseline(context)
    parts = [digest.startup(peers, me, context.location.main_worktree, context.now)]
    if context.event.source in ("startup", "") and me is not None:
        parts.append(digest.recent_notes(context.state, context.session_id, context.now))
    # Whatever waits for a resumed session shares one injection's budget with the rest.
    room = inbox.BUDGET - sum(len(p) for p in parts if p)
    parts.append(inbox.show_waiting(context.state, context.session_id, context.now, budget=room))
    text = "\n\n".join(p for p in parts if p)
    return additional_context("SessionStart", text) if text else None


def share_data_dir() -> None:
    """Tell the session's later Bash calls where the plugin's data is.

    Claude Code gives Bash tool calls neither CLAUDE_PLUGIN_DATA nor CLAUDE_PLUGIN_ROOT; without
    this, `huddle` run by the model could not find the plugin's venv or log.
    """
    env_file = os.environ.get("CLAUDE_ENV_FILE")
    data = os.environ.get("CLAUDE_PLUGIN_DATA")
    if not env_file or not data:
        return
    line = "export HUDDLE_PLUGIN_DATA='" + data.replace("'", "'\\''") + "'\n"
    try:
        with open(env_file, encoding="utf-8") as handle:
            if line in handle.read():
                return
    except FileNotFoundError:
        pass
    with open(env_file, "a", encoding="utf-8") as handle:
        handle.write(line)
