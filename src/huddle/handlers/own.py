"""The running session's own heartbeat, as the hot-path handlers keep it current.

These work on the stored JSON directly, so a hook that only marks activity or flips the state
never imports the schema module; registering (rare) does.
"""

from __future__ import annotations

from huddle.repo import gitfiles
from huddle.store import atomic, heartbeats
from huddle.vocab import COMPACT

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from huddle.handlers.context import Context


def touch(context: Context) -> None:
    """Mark activity; register the session if it has no record here yet.

    A session has no record when huddle was enabled after it started, or when it moved into
    this repository: the first hook it runs here makes it known.
    """
    if not heartbeats.touch(context.state_dir, context.session_id, context.now):
        register(context)


def load(context: Context) -> dict[str, Any]:
    try:
        return heartbeats.read_raw(context.state_dir, context.session_id)
    except (FileNotFoundError, atomic.Corrupt):
        return register(context).to_json()


def register(context: Context) -> Any:
    from huddle.peers import sessions

    return sessions.register(
        context.state_dir,
        context.session_id,
        context.location,
        context.cwd,
        sessions.current_pid(),
        context.now,
        # Compaction can happen inside a turn (auto-compact): the session is still working.
        keep_state=context.event.source == COMPACT,
    )


def update(context: Context, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Change the session's record under its lock, registering it first if need be."""
    try:
        return heartbeats.update(context.state_dir, context.session_id, change)
    except (FileNotFoundError, atomic.Corrupt):
        register(context)
        return heartbeats.update(context.state_dir, context.session_id, change)


def set_state(context: Context, state: str) -> dict[str, Any]:
    """Record the session's state, and where it is now: branch, worktree and cwd follow it."""

    def change(record: dict[str, Any]) -> None:
        record["state"] = state
        record["branch"] = gitfiles.branch(context.location)
        record["worktree"] = context.location.worktree
        record["cwd"] = context.cwd
        record["last_activity"] = context.now

    return update(context, change)


def add_touched(context: Context, keys: list[str], limit: int) -> dict[str, Any]:
    """Put `keys` first in the session's recently touched files, newest first, `limit` kept."""

    def change(record: dict[str, Any]) -> None:
        files = record.get("files")
        kept = [
            f
            for f in (files if isinstance(files, list) else [])
            if isinstance(f, dict) and f.get("path") not in keys
        ]
        record["files"] = ([{"path": k, "at": context.now} for k in keys] + kept)[:limit]
        record["last_activity"] = context.now

    return update(context, change)
