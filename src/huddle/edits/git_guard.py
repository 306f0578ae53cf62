"""Before a Bash command: a git command that moves HEAD or rewrites the index or the worktree,
while another live session works in that same worktree, is flagged (or denied, by setting)."""

from __future__ import annotations

import os

from huddle.display import peer
from huddle.edits.verdict import Verdict
from huddle.peers import liveness
from huddle.repo import gitfiles
from huddle.shell import gitcommands
from huddle.store import config

SHOWN = 3  # peers named in one warning; the rest are counted

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def check(
    state_dir: str, session_id: str, command: str, cwd: str, main_worktree: str, now: float
) -> Verdict | None:
    """What session `session_id` is told before it runs `command` in `cwd`; None: nothing."""
    mode = config.load(state_dir)["git_guard"]
    if mode == "off":
        return None
    actions = gitcommands.inspect(command, cwd)
    if not actions:
        return None
    notes = []
    for action in actions:
        peers = _peers_in(state_dir, session_id, action.directory, now)
        if not peers:
            continue
        named = "; ".join(f"session {peer(record, main_worktree)}" for record in peers[:SHOWN])
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
    if mode == "deny":
        text = "\n".join(notes) + (
            " The command was not run (this repository's git_guard setting is deny). Agree with"
            ' the other session first (`huddle send NAME "..."`).'
        )
        return Verdict(True, text)
    return Verdict(
        False, "\n".join(notes) + " Check with the other session before doing this again."
    )


def _peers_in(state_dir: str, session_id: str, directory: str, now: float) -> list[dict[str, Any]]:
    """The live sessions other than `session_id` whose worktree holds `directory`."""
    try:
        where = gitfiles.locate(directory)
    except gitfiles.NotARepository:
        return []
    worktree = os.path.realpath(where.worktree)
    resolved: dict[str, str] = {}  # peers share a few worktrees: resolve each path once

    def there(record: dict[str, Any]) -> bool:
        theirs = str(record.get("worktree", ""))
        if theirs not in resolved:
            resolved[theirs] = os.path.realpath(theirs)
        return resolved[theirs] == worktree

    return liveness.live_records(state_dir, now, besides=session_id, where=there)
