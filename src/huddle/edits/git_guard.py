"""PreToolUse on Bash: a git command that moves HEAD or rewrites the index or the worktree,
while another live session works in that same worktree, is flagged (or denied, by setting)."""

from __future__ import annotations

import os

from huddle.display import peer
from huddle.peers import liveness
from huddle.repo import gitfiles
from huddle.shell import gitcommands
from huddle.store import config, heartbeats

SHOWN = 3  # peers named in one warning; the rest are counted

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from huddle.handlers.context import Context


def check(context: Context) -> dict[str, Any] | None:
    mode = config.load(context.state_dir)["git_guard"]
    if mode == "off":
        return None
    actions = gitcommands.inspect(context.event.command, context.cwd)
    if not actions:
        return None
    notes = []
    for action in actions:
        peers = _peers_in(context, action.directory)
        if not peers:
            continue
        main = context.location.main_worktree
        named = "; ".join(f"session {peer(record, main)}" for record in peers[:SHOWN])
        if len(peers) > SHOWN:
            named += f"; and {len(peers) - SHOWN} more (`huddle sessions`)"
        who = (
            "Another live Claude Code session works"
            if len(peers) == 1
            else (f"{len(peers)} other live Claude Code sessions work")
        )
        notes.append(
            f"huddle: `{action.command}` {action.effect}. {who} in that worktree: {named}."
        )
    if not notes:
        return None
    from huddle.handlers.pre_tool_use import decision

    if mode == "deny":
        text = "\n".join(notes) + (
            " The command was not run (this repository's git_guard setting is deny). Agree with"
            ' the other session first (`huddle send NAME "..."`).'
        )
        return decision(True, text)
    text = "\n".join(notes) + " Check with the other session before doing this again."
    return decision(False, text)


def _peers_in(context: Context, directory: str) -> list[dict[str, Any]]:
    try:
        where = gitfiles.locate(directory)
    except gitfiles.NotARepository:
        return []
    worktree = os.path.realpath(where.worktree)
    resolved: dict[str, str] = {}  # peers share a few worktrees: resolve each path once
    found = []
    for name in _heartbeat_names(context.state_dir):
        session_id = name[: -len(heartbeats.SUFFIX)]
        if session_id == context.session_id:
            continue
        try:
            record = heartbeats.read_raw(context.state_dir, session_id)
        except (OSError, ValueError):
            continue
        theirs = str(record.get("worktree", ""))
        if theirs not in resolved:
            resolved[theirs] = os.path.realpath(theirs)
        if resolved[theirs] != worktree:
            continue
        if liveness.is_live(record, context.now):
            found.append(record)
    return found


def _heartbeat_names(state_dir: str) -> list[str]:
    from huddle.store.ids import is_session_id

    try:
        names = os.listdir(state_dir)
    except OSError:
        return []
    return [n for n in names if n.endswith(heartbeats.SUFFIX) and is_session_id(n[:-5])]
