"""PostToolUse: an edit records the file as touched and takes or renews a soft lease on it;
after Bash, the branch is followed in case the command checked out another one."""

from __future__ import annotations

from huddle import repo
from huddle.handlers import own

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from huddle.context import Context

EDIT_TOOLS = ("Edit", "Write", "MultiEdit", "NotebookEdit")


def handle(context: Context) -> dict[str, Any] | None:
    tool = context.event.tool_name
    if tool in EDIT_TOOLS:
        _after_edit(context)
        return None
    own.touch(context)
    if tool == "Bash":
        # A Bash command may have checked out another branch; reading HEAD is cheap.
        record = own.load(context)
        if record.get("branch") != repo.branch(context.location):
            own.set_state(context, str(record.get("state", "working")))
    return None


def _after_edit(context: Context) -> None:
    from huddle import config, relpath
    from huddle.store import leases

    target = relpath.resolve(context.location, context.event.file_path)
    if target is None:
        own.touch(context)
        return
    settings = config.load(context.state)
    own.add_touched(context, [target.key], settings["recent_files"])
    leases.take(context.state, target.key, context.session_id, target.worktree, context.now)
