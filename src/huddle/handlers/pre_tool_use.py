"""PreToolUse: before an edit, is the file another live session's? Before a git command that
moves HEAD or rewrites the worktree, does another live session work in that worktree?"""

from __future__ import annotations

from huddle.handlers import own

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from huddle.handlers.context import Context

EDIT_TOOLS = ("Edit", "Write", "MultiEdit", "NotebookEdit")


def handle(context: Context) -> dict[str, Any] | None:
    own.touch(context)
    tool = context.event.tool_name
    if tool in EDIT_TOOLS:
        return _before_edit(context)
    if tool == "Bash" and "git" in context.event.command:
        from huddle.edits import git_guard

        return git_guard.check(context)
    return None


def _before_edit(context: Context) -> dict[str, Any] | None:
    from huddle.edits import conflicts, relpath

    target = relpath.resolve(context.location, context.event.file_path)
    if target is None:
        return None
    verdict = conflicts.check(context, target)
    if verdict is None:
        return None
    return decision(verdict.deny, verdict.text)


def decision(deny: bool, text: str) -> dict[str, Any]:
    if deny:
        return {
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": "deny",
                "permissionDecisionReason": text,
            }
        }
    return {"hookSpecificOutput": {"hookEventName": "PreToolUse", "additionalContext": text}}
