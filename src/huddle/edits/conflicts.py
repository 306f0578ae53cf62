"""Before an edit: does another live session hold the file?

An explicit lock held by another live session denies the edit. A soft lease (the file was
edited recently by another live session) lets it go ahead with a warning that names the peer
and the risk. The same warning about the same file and peer is shown at most once per
`warn_every` seconds.
"""

from __future__ import annotations

import os

from huddle.display import ago, clean, clock, peer
from huddle.edits.relpath import encode
from huddle.peers import liveness
from huddle.store import atomic, config, heartbeats, leases, locks

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from huddle.edits.relpath import Target
    from huddle.handlers.context import Context

WARNED = "warned"


class Verdict:
    __slots__ = ("deny", "text")

    def __init__(self, deny: bool, text: str) -> None:
        self.deny = deny
        self.text = text


def check(context: Context, target: Target) -> Verdict | None:
    settings = config.load(context.state_dir)
    me = context.session_id
    for lock in locks.matching(context.state_dir, target.key, context.now):
        holder = lock.get("holder")
        if holder == me:
            continue
        record = _live_record(context, holder)
        if record is not None or _is_person(lock):
            return Verdict(True, _lock_reason(context, target, lock, record))
    warnings = []
    for lease in leases.holders(context.state_dir, target.key, context.now, settings["lease_ttl"]):
        holder = lease.get("session_id")
        if holder == me or not isinstance(holder, str):
            continue
        record = _live_record(context, holder)
        if record is None or not _first_in_a_while(context, target.key, holder, settings):
            continue
        warnings.append(_lease_warning(context, target, lease, record))
    return Verdict(False, "\n".join(warnings)) if warnings else None


def _live_record(context: Context, session_id: object) -> dict[str, Any] | None:
    if not isinstance(session_id, str):
        return None
    try:
        record = heartbeats.read_raw(context.state_dir, session_id)
    except (OSError, ValueError):
        return None
    return record if liveness.is_live(record, context.now) else None


def _is_person(lock: dict[str, Any]) -> bool:
    return str(lock.get("holder", "")).startswith("user:")


def counts(lock: dict[str, Any], state_dir: str, now: float) -> bool:
    """Whether an existing lock still binds others: unexpired, and its holder still here."""
    if not isinstance(lock.get("expires"), (int, float)) or lock["expires"] <= now:
        return False
    if _is_person(lock):
        return True
    holder = lock.get("holder")
    try:
        record = heartbeats.read_raw(state_dir, holder) if isinstance(holder, str) else None
    except (OSError, ValueError):
        return False
    return record is not None and liveness.is_live(record, now)


def holder_words(lock: dict[str, Any], record: dict[str, Any] | None, main: str) -> str:
    if record is not None:
        return f"session {peer(record, main)}"
    person = clean(str(lock.get("holder", "user:?"))[5:], 40)
    return f"{person}, a person at a terminal"


def _lock_reason(
    context: Context, target: Target, lock: dict[str, Any], record: dict[str, Any] | None
) -> str:
    main = context.location.main_worktree
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
    context: Context, target: Target, lease: dict[str, Any], record: dict[str, Any]
) -> str:
    main = context.location.main_worktree
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
        f"touched it {ago(context.now - lease['at'])}. {risk} Your edit went ahead. To "
        f'coordinate: `huddle send {name} "..."`.'
    )


def _first_in_a_while(context: Context, key: str, holder: str, settings: dict[str, Any]) -> bool:
    """True (and remembered) unless this warning was shown within `warn_every` seconds."""
    folder = os.path.join(context.state_dir, WARNED, context.session_id)
    marker = os.path.join(folder, f"{encode(key)}.{holder}")
    try:
        if context.now - os.stat(marker).st_mtime < settings["warn_every"]:
            return False
        os.utime(marker, (context.now, context.now))
    except FileNotFoundError:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        atomic.write_bytes(marker, b"", durable=False)
        os.utime(marker, (context.now, context.now))
    return True
