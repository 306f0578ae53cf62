"""UserPromptSubmit: the session is working on a turn; notes and messages waiting for it are
shown, each once."""

from __future__ import annotations

from huddle.handlers import own
from huddle.peers import departures
from huddle.store import mailbox
from huddle.vocab import WORKING

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from huddle.handlers.context import Context


def handle(context: Context) -> dict[str, Any] | None:
    own.set_state(context, WORKING)
    departures.look_for_crashes(context.state_dir, context.session_id, context.now)
    if not mailbox.waiting(context.state_dir, context.session_id):
        return None
    from huddle.handlers.output import additional_context
    from huddle.talk import inbox

    text = inbox.show_waiting(context.state_dir, context.session_id, context.now)
    return additional_context("UserPromptSubmit", text) if text else None
