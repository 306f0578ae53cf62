"""PreToolUse: before an edit, is the file another live session's? Before a git command that
moves HEAD or rewrites the worktree, does another live session work in that worktree?"""

from __future__ import annotations

from huddle.handlers import own
from huddle.vocab import BASH, EDIT_TOOLS, PRE_TOOL_USE

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from huddle.edits.verdict import Verdict
    from huddle.handlers.context import Context


def handle(context: Context) -> dict[str, Any] | None:
    own.touch(context)
    tool = context.event.tool_name
    if tool in EDIT_TOOLS:
        verdict = _before_edit(context)
    elif tool == BASH and "git" in context.event.command:
        from huddle.edits import git_guard

        verdict = git_guard.check(
            context.state_dir,
            context.session_id,
            context.event.command,
            context.cwd,
            context.location.main_worktree,
            context.now,
        )
    else:
        return None
    return None if verdict is None else decision(verdict)


def _before_edit(context: Context) -> Verdict | None:
    from huddle.edits import conflicts, relpath

    target = relpath.resolve(context.location, context.event.file_path)
    if target is None:
        return None
    return conflicts.check(
        context.state_dir, context.session_id, target, context.location.main_worktree, context.now
    )


def decision(verdict: Verdict) -> dict[str, Any]:
    """The hook's answer: a deny with its reason, or the text shown beside the tool call."""
    if verdict.deny:
        return {
            "hookSpecificOutput": {
                "hookEventName": PRE_TOOL_USE,
                "permissionDecision": "deny",
                "permissionDecisionReason": verdict.text,
            }
        }
    return {
        "hookSpecificOutput": {"hookEventName": PRE_TOOL_USE, "additionalContext": verdict.text}
    }
