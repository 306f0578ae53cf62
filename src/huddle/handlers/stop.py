"""Stop: the turn is over and the session waits for its user.

Files that Bash commands changed during the turn (`sed -i`, a formatter, a code generator) are
found here, off the tool-call path: the worktree's changed files now, against those at the end
of the previous turn. What changed is recorded as touched and leased, like an edit.
"""

from __future__ import annotations

import os

from huddle.handlers import own
from huddle.peers import departures
from huddle.vocab import IDLE

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from huddle.handlers.context import Context


def handle(context: Context) -> dict[str, Any] | None:
    own.set_state(context, IDLE)
    record_bash_changes(context)
    departures.look_for_crashes(context.state_dir, context.session_id, context.now)
    return None


def take_baseline(context: Context) -> None:
    """What the worktree looks like now, for the end of the first turn to compare with."""
    from huddle.edits import worktree_changes
    from huddle.store import turns

    snap = worktree_changes.snapshot(context.location.worktree)
    if snap is not None:
        turns.save(context.state_dir, context.session_id, snap)


def record_bash_changes(context: Context) -> None:
    from huddle.edits import relpath, worktree_changes
    from huddle.store import config, leases, turns

    before = turns.load(context.state_dir, context.session_id)
    after = worktree_changes.snapshot(context.location.worktree)
    if after is None:
        return
    turns.save(context.state_dir, context.session_id, after)
    changed = worktree_changes.changed_between(before, after)
    if not changed:
        return
    settings = config.load(context.state_dir)
    keys = []
    for name in changed:
        target = relpath.resolve(context.location, os.path.join(context.location.worktree, name))
        if target is not None and not _edited_by_a_peer(context, target.key, settings):
            keys.append(target.key)
    if not keys:
        return
    keys = keys[: settings["recent_files"]]
    own.add_touched(context, keys, settings["recent_files"])
    for key in keys:
        leases.take(
            context.state_dir, key, context.session_id, context.location.worktree, context.now
        )


def _edited_by_a_peer(context: Context, key: str, settings: dict[str, Any]) -> bool:
    """A peer in the same worktree that edited the file this turn changed it, not this session."""
    from huddle.peers import liveness
    from huddle.store import leases

    worktree = os.path.realpath(context.location.worktree)
    for lease in leases.holders(context.state_dir, key, context.now, settings["lease_ttl"]):
        holder = lease.get("session_id")
        if holder == context.session_id:
            continue
        if os.path.realpath(str(lease.get("worktree", ""))) != worktree:
            continue
        if liveness.live_record(context.state_dir, holder, context.now) is not None:
            return True
    return False
