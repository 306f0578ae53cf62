"""`huddle lock`, `huddle unlock` and `huddle locks`: explicit locks on files and globs."""

from __future__ import annotations

import json
import os
import time
from typing import Any

from huddle.cli.errors import UserError
from huddle.cli.here import Here, here, holder_of
from huddle.display import ago, clean, clock
from huddle.edits import relpath
from huddle.edits.conflicts import counts, holder_words
from huddle.store import config, heartbeats, locks


def pattern_of(h: Here, given: str) -> str:
    """A path or glob as the user typed it, as a worktree-relative lock pattern."""
    absolute = os.path.normpath(os.path.join(os.getcwd(), given))
    if not locks.is_glob(given):
        if os.path.isdir(absolute):
            # A lock on a folder's own name would cover none of the files in it.
            raise UserError(f"{given} is a folder: lock {given.rstrip('/')}/* to cover its files")
        target = relpath.resolve(h.location, absolute)
        if target is None:
            raise UserError(f"{given} is not a file in this repository")
        return target.key
    root = os.path.realpath(h.location.worktree)
    folder, rest = absolute, list[str]()
    while locks.is_glob(folder):
        folder, tail = os.path.split(folder)
        rest.insert(0, tail)
    folder = os.path.realpath(folder)
    if folder != root and not folder.startswith(root + os.sep):
        raise UserError(f"{given} is not inside this worktree ({root})")
    pattern = "/".join([*folder[len(root) + 1 :].split(os.sep), *rest]).strip("/")
    return pattern.lower() if relpath.folds_case(root) else pattern


def lock(given: str, ttl: str | None, reason: str) -> int:
    h = here()
    now = time.time()
    pattern = pattern_of(h, given)
    holder, name = holder_of(h)
    try:
        seconds = config.parse("lock_ttl", ttl) if ttl else config.load(h.state_dir)["lock_ttl"]
    except config.BadSetting as exc:
        raise UserError(f"--ttl {ttl}: {exc}") from None
    record = {
        "pattern": pattern,
        "holder": holder,
        "holder_name": name,
        "at": now,
        "expires": now + seconds,
        "reason": clean(reason, 300),
    }
    try:
        locks.acquire(h.state_dir, record, lambda existing: counts(existing, h.state_dir, now))
    except locks.AlreadyLocked as held:
        raise UserError(_held_message(h, held.lock)) from None
    print(
        f'locked {pattern} for "{name}" until {clock(record["expires"])}'
        f"{' (' + record['reason'] + ')' if record['reason'] else ''}"
    )
    return 0


def _held_message(h: Here, lock: dict[str, Any]) -> str:
    record = _holder_record(h, lock)
    who = holder_words(lock, record, h.location.main_worktree)
    reason = f' ("{clean(lock["reason"], 200)}")' if lock.get("reason") else ""
    ask = f'; ask with `huddle send {record["name"]} "..."`' if record else ""
    return f"{lock['pattern']} is locked by {who} until {clock(lock['expires'])}{reason}{ask}"


def _holder_record(h: Here, lock: dict[str, Any]) -> dict[str, Any] | None:
    holder = lock.get("holder")
    if not isinstance(holder, str) or holder.startswith("user:"):
        return None
    try:
        return heartbeats.read_raw(h.state_dir, holder)
    except (OSError, ValueError):
        return None


def unlock(given: str | None, force: bool, everything: bool) -> int:
    h = here()
    holder, name = holder_of(h)
    if everything:
        removed = locks.release_all(h.state_dir, holder)
        print(f"released {len(removed)} lock(s)" if removed else "you hold no locks")
        return 0
    if not given:
        raise UserError("say which lock: huddle unlock PATH-OR-GLOB (or --all)")
    pattern = pattern_of(h, given)
    existing = next((lk for lk in locks.every(h.state_dir) if lk["pattern"] == pattern), None)
    if existing is None:
        mine = [lk["pattern"] for lk in locks.every(h.state_dir) if lk.get("holder") == holder]
        raise UserError(f"no lock on {pattern}" + (f" (yours: {', '.join(mine)})" if mine else ""))
    if existing.get("holder") != holder and counts(existing, h.state_dir, time.time()):
        if not force:
            raise UserError(
                _held_message(h, existing)
                + ". `huddle unlock --force` breaks it and tells the holder."
            )
        _tell_holder(h, existing, name)
    locks.release(h.state_dir, pattern)
    print(f"unlocked {pattern}")
    return 0


def _tell_holder(h: Here, lock: dict[str, Any], breaker: str) -> None:
    from huddle.store import posting

    record = _holder_record(h, lock)
    if record is None:
        return
    text = (
        f"Your lock on {lock['pattern']} was broken by {breaker} with `huddle unlock --force`"
        f" at {clock(time.time())}. Others may now edit it."
    )
    sender = posting.Sender(h.session_id, breaker, "")
    posting.notice(h.state_dir, sender, str(lock["holder"]), str(record.get("name", "?")), text)


def list_locks(as_json: bool) -> int:
    h = here()
    now = time.time()
    current = [lk for lk in locks.every(h.state_dir) if counts(lk, h.state_dir, now)]
    current.sort(key=lambda lk: lk["pattern"])
    rows = []
    for lk in current:
        record = _holder_record(h, lk)
        rows.append(
            {
                "pattern": lk["pattern"],
                "holder": record.get("name") if record else str(lk.get("holder", ""))[5:],
                "holder_session": None
                if str(lk.get("holder", "")).startswith("user:")
                else lk.get("holder"),
                "since": lk.get("at"),
                "expires": lk["expires"],
                "reason": lk.get("reason", ""),
                "mine": h.session_id is not None and lk.get("holder") == h.session_id,
            }
        )
    if as_json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("No locks in this repository.")
        return 0
    for row in rows:
        since = ago(now - row["since"]) if isinstance(row["since"], (int, float)) else "?"
        reason = f'  "{clean(row["reason"], 60)}"' if row["reason"] else ""
        mark = "* " if row["mine"] else "  "
        print(
            f"{mark}{row['pattern']}  {row['holder']}  since {since}, until "
            f"{clock(row['expires'])}{reason}"
        )
    return 0
