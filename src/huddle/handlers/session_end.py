"""SessionEnd: the session ends (peers/ending.py).

Claude Code gives all SessionEnd hooks 1.5 s together, so this touches only the session's own
record, its own leases (named in that record), the lock and task folders and the inboxes of
the few peers it tells.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from huddle.handlers.context import Context


def handle(context: Context) -> dict[str, Any] | None:
    from huddle.peers import ending

    ending.end(context.state_dir, context.session_id, context.now, context.event.reason)
    return None
