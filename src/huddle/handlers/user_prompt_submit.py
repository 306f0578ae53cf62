"""UserPromptSubmit: the session is working on a turn; messages waiting for it are shown."""

from __future__ import annotations

from huddle.handlers import own
from huddle.store import mailbox

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from huddle.context import Context

WORKING = "working"  # records.STATE_WORKING, without importing the schema on the hot path


def handle(context: Context) -> dict[str, Any] | None:
    own.set_state(context, WORKING)
    if not mailbox.has_new(context.state, context.session_id):
        return None
    messages = mailbox.take_new(context.state, context.session_id)
    if not messages:
        return None
    from huddle import inbox
    from huddle.handlers.output import additional_context

    return additional_context("UserPromptSubmit", inbox.render(messages))
