"""PostToolUse: an edit records the file as touched and takes or renews a soft lease on it;
after Bash, the branch is followed in case the command checked out another one."""

from __future__ import annotations

from huddle.handlers import own
from huddle.repo import gitfiles
from huddle.store import mailbox
from huddle.vocab import BASH, EDIT_TOOLS, WORKING

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from huddle.handlers.context import Context


def handle(context: Context) -> dict[str, Any] | None:
    tool = context.event.tool_name
    if tool in EDIT_TOOLS:
        _after_edit(context)
    else:
        own.touch(context)
        if tool == BASH:
            # A Bash command may have checked out another branch; reading HEAD is cheap.
            record = own.load(context)
            if record.get("branch") != gitfiles.branch(context.location):
                own.set_state(context, str(record.get("state", WORKING)))
    return _urgent(context)


def _urgent(context: Context) -> dict[str, Any] | None:
    """Urgent messages, next to the tool result, so a busy session need not finish its turn."""
    names = mailbox.waiting(context.state_dir, context.session_id)
    if not any(mailbox.is_urgent(n) for n in names):
        return None
    if mailbox.recently_interrupted(
        context.state_dir, context.session_id, context.now, mailbox.URGENT_EVERY
    ):
        return None
    from huddle.handlers.output import additional_context
    from huddle.talk import inbox

    text = inbox.show_waiting(context.state_dir, context.session_id, context.now, urgent_only=True)
    if text is None:
        return None
    mailbox.mark_interrupted(context.state_dir, context.session_id, context.now)
    return additional_context("PostToolUse", text)


def _after_edit(context: Context) -> None:
    from huddle.edits import relpath
    from huddle.store import config, leases

    target = relpath.resolve(context.location, context.event.file_path)
    if target is None:
        own.touch(context)
        return
    settings = config.load(context.state_dir)
    own.add_touched(context, [target.key], settings["recent_files"])
    leases.take(context.state_dir, target.key, context.session_id, target.worktree, context.now)
