"""SessionStart: write the heartbeat, tidy old records, and tell the session who else is here."""

from __future__ import annotations

from huddle import bootstrap, digest, sessions
from huddle.handlers import own
from huddle.handlers.output import additional_context

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from huddle.context import Context


def handle(context: Context) -> dict[str, Any] | None:
    bootstrap.start_if_needed()
    me = own.register(context)
    everyone = sessions.load_all(context.state, context.now)
    sessions.sweep(context.state, everyone, context.now)
    peers = [s for s in everyone if s.live and s.session_id != me.session_id]
    text = digest.startup(peers, me, context.location.main_worktree, context.now)
    return additional_context("SessionStart", text) if text else None
