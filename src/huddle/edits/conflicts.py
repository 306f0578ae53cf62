"""Before an edit: does another live session hold the file?

An explicit lock held by another live session (or by a person) denies the edit. A soft lease
(the file was edited recently by another live session) lets it go ahead with a warning that
names the peer and the risk. The same warning about the same file and peer is shown at most
once per `warn_every` seconds.
"""

from __future__ import annotations

import os

from huddle.display import ago, clean, clock, peer
from huddle.edits.verdict import Verdict
from huddle.peers import liveness
from huddle.store import config, leases, locks, warned

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from huddle.edits.relpath import Target

PERSON = "user:"  # how a lock held by a person at a terminal names its holder


def check(
    state_dir: str, session_id: str, target: Target, main_worktree: str, now: float
) -> Verdict | None:
    """What session `session_id` is told before it edits `target`; None: nothing."""
    settings = config.load(state_dir)
    for lock in locks.matching(state_dir, target.key, now):
        holder = lock.get("holder")
        if holder == session_id:
            continue
        record = liveness.live_record(state_dir, holder, now)
        if record is not None or _is_person(lock):
            return Verdict(True, _lock_reason(target, lock, record, main_worktree))
    warnings = []
    for lease in leases.holders(state_dir, target.key, now, settings["lease_ttl"]):
        holder = lease.get("session_id")
        if holder == session_id:
            continue
        record = liveness.live_record(state_dir, holder, now)
        if record is None or not warned.first_in_a_while(
            state_dir, session_id, target.key, str(holder), now, settings["warn_every"]
        ):
            continue
        warnings.append(_lease_warning(target, lease, record, main_worktree, now))
    return Verdict(False, "\n".join(warnings)) if warnings else None


def _is_person(lock: dict[str, Any]) -> bool:
    return str(lock.get("holder", "")).startswith(PERSON)


def counts(lock: dict[str, Any], state_dir: str, now: float) -> bool:
    """Whether an existing lock still binds others: unexpired, and its holder still here."""
    if not isinstance(lock.get("expires"), (int, float)) or lock["expires"] <= now:
        return False
    if _is_person(lock):
        return True
    return liveness.live_record(state_dir, lock.get("holder"), now) is not None


def holder_words(lock: dict[str, Any], record: dict[str, Any] | None, main: str) -> str:
    if record is not None:
        return f"session {peer(record, main)}"
    person = clean(str(lock.get("holder", PERSON + "?"))[len(PERSON) :], 40)
    return f"{person}, a person at a terminal"


def _lock_reason(
    target: Target, lock: dict[str, Any], record: dict[str, Any] | None, main: str
) -> str:
    pattern = clean(str(lock["pattern"]), 200)
    what = target.key if pattern == target.key else f"{target.key} (lock on {pattern})"
    reason = lock.get("reason")
    why = f' Its reason: "{clean(reason, 200)}".' if isinstance(reason, str) and reason else ""
    name = clean(str(record.get("name", "?")), 40) if record else None
    ask = (
        f'Ask for it with `huddle send {name} "..."`, or work on something else until it is '
        "unlocked."
        if name
        else "Ask that person for it, or work on something else until it is unlocked."
    )
    return (
        f"huddle: {what} is locked by {holder_words(lock, record, main)} until "
        f"{clock(lock['expires'])}.{why} The edit was not made. {ask}"
    )


def _lease_warning(
    target: Target, lease: dict[str, Any], record: dict[str, Any], main: str, now: float
) -> str:
    name = clean(str(record.get("name", "?")), 40)
    same = os.path.realpath(str(lease.get("worktree", ""))) == os.path.realpath(target.worktree)
    if same:
        risk = (
            "You are both in the same worktree: each of you will overwrite the other's changes "
            "to this file."
        )
    else:
        risk = (
            "It works in another worktree: your branches will conflict in this file when they meet."
        )
    return (
        f"huddle: {target.key} is also being edited by session {peer(record, main)}, which "
        f"touched it {ago(now - lease['at'])}. {risk} Your edit went ahead. To "
        f'coordinate: `huddle send {name} "..."`.'
    )
