"""Sessions that leave: a crash its peers notice, a clean end told to those it worked with.

A session whose Claude Code process died without SessionEnd (killed, crashed) still has a
record that says working or idle. The first hook of any peer that finds it (SessionStart,
UserPromptSubmit or Stop) marks the record gone under the record's own lock, so exactly one
hook does the rest: it gives back what the session held (locks, leases, claimed tasks) and
leaves one notice in the inbox of every live peer, shown at that peer's next turn boundary.

A session that ends cleanly gives everything back at SessionEnd and tells the live peers it had
something to do with: those leasing the same files, those it exchanged messages with, and
those who put the tasks it held on the board.
"""

from __future__ import annotations

import os

from huddle import liveness, log
from huddle.display import clean
from huddle.store import atomic, heartbeats, leases, locks, mailbox, tasks

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

    Record = dict[str, Any]

GONE = "gone"  # records.STATE_GONE
CRASHED = "crashed"  # records.END_CRASHED
LISTED = 8  # items of one kind named in a notice
MESSAGES_LOOKED_AT = 50  # the newest received messages whose senders hear of a clean end


class Held:
    """What a session gave back: lock patterns, leased file keys, tasks reopened."""

    __slots__ = ("locks", "files", "tasks")

    def __init__(self, locks: list[str], files: list[str], tasks: list[dict[str, Any]]) -> None:
        self.locks = locks
        self.files = files
        self.tasks = tasks


def file_keys(record: Record) -> list[str]:
    files = record.get("files")
    return [
        f["path"]
        for f in (files if isinstance(files, list) else [])
        if isinstance(f, dict) and isinstance(f.get("path"), str)
    ]


def release(state: str, record: Record) -> Held:
    """Give back every lock, lease and claimed task of the session `record` describes."""
    session_id = record["session_id"]
    files = leases.held(state, file_keys(record), session_id)
    leases.release(state, files, session_id)
    patterns = [str(lock["pattern"]) for lock in locks.release_all(state, session_id)]
    return Held(patterns, files, tasks.release_all(state, session_id))


def give_back(state: str, record: Record) -> Held:
    """release(), noting in the record (which the caller writes) the locks and tasks given
    back: a session resumed later is told. Leases come back by themselves with the next edit."""
    held = release(state, record)
    record["released"] = describe(held) if held.locks or held.tasks else None
    return held


def listing(items: list[str], limit: int = LISTED, width: int = 0) -> str:
    """Items joined by commas: at most `limit` of them and, given a `width`, as many as fit in
    it, with "and N more" for the rest."""
    shown: list[str] = []
    used = 0
    for index, text in enumerate(items[:limit]):
        rest = len(items) - index - 1
        room = width - used - (len(f" and {rest} more") if rest else 0)
        if width and shown and len(text) + 2 > room:
            break
        shown.append(text)
        used += len(text) + 2
    more = len(items) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more else "")


def task_words(task: dict[str, Any]) -> str:
    """A task's id and title, the title JSON-quoted: a quote in it cannot end it early."""
    import json

    title = json.dumps(clean(str(task.get("title", "")), 80), ensure_ascii=False)
    return f"{task['id']} {title}"


def describe(held: Held) -> str:
    parts = []
    if held.locks:
        parts.append("locks on " + listing([clean(p, 200) for p in held.locks]))
    if held.files:
        parts.append(
            "leases on files it was editing: " + listing([clean(f, 200) for f in held.files])
        )
    if held.tasks:
        parts.append("tasks " + listing([task_words(t) for t in held.tasks]) + " (open again)")
    return "; ".join(parts) if parts else "no locks, file leases or tasks"


def who(record: Record) -> str:
    name = clean(str(record.get("name", "?")), 40)
    branch = record.get("branch")
    return f'session "{name}"' + (
        f" (branch {clean(branch, 80)})" if isinstance(branch, str) else ""
    )


# -- crashes


def look_for_crashes(state: str, me: str, now: float) -> None:
    """notice_crashes for a hook: a failure is logged, and the hook goes on."""
    try:
        notice_crashes(state, me, now)
    except OSError as exc:
        log.write(f"could not look for sessions that ended unexpectedly: {exc!r}")


def notice_crashes(state: str, me: str, now: float) -> int:
    """Deal with every peer whose process died without SessionEnd; how many were found.

    Cheap when nobody crashed: one read of each record and of its process's start time.
    """
    records = list(heartbeats.scan_raw(state))
    gone = [r for r in records if r.get("session_id") != me and liveness.process_gone(r)]
    found = 0
    for record in gone:
        done = _mark_gone(state, record["session_id"], now)
        if done is None:
            continue  # another hook got there first, or the record changed meanwhile
        found += 1
        marked, held = done
        text = (
            f"{who(marked)} ended unexpectedly: its Claude Code process is gone and it never "
            f"said goodbye. It held {describe(held)}."
        )
        if held.locks or held.files:
            text += (
                " Those locks and leases no longer count; check its files before relying on "
                "unfinished work."
            )
        live = [
            r
            for r in records
            if r.get("session_id") not in (marked["session_id"], None)
            and (r.get("session_id") == me or liveness.is_live(r, now))
        ]
        tell(state, live, text, kind="ended")
        log.write(f"{marked['session_id']} ended without SessionEnd; released {describe(held)}")
    return found


class _Skip(Exception):
    pass


def _mark_gone(state: str, session_id: str, now: float) -> tuple[Record, Held] | None:
    """Mark the session gone and give back what it held, under its record's lock: of any
    number of hooks noticing at once, exactly one does it. None for the others."""
    given: list[Held] = []

    def change(record: Record) -> None:
        if not liveness.process_gone(record):
            raise _Skip
        record["state"] = GONE
        record["ended_at"] = now
        record["end_reason"] = CRASHED
        given.append(give_back(state, record))

    try:
        record = heartbeats.update(state, session_id, change)
    except (_Skip, FileNotFoundError, atomic.Corrupt):
        return None
    last = record.get("last_activity")
    if isinstance(last, (int, float)):
        try:  # the rewrite must not pass for activity: the file's mtime is last_activity
            os.utime(heartbeats.path_for(state, session_id), (last, last))
        except OSError:
            pass
    return record, given[0]


# -- clean ends


def announce_end(state: str, record: Record, held: Held, now: float) -> int:
    """Tell the live peers the ended session worked with that it left; how many were told."""
    me = record["session_id"]
    peers = []
    for other in _related(state, record, held):
        try:
            peer = heartbeats.read_raw(state, other)
        except (OSError, ValueError):
            continue
        if liveness.is_live(peer, now):
            peers.append(peer)
    if not peers:
        return 0
    text = f"{who(record)} ended and gave back {describe(held)}."
    tell(state, peers, text, kind="left", about=me)
    return len(peers)


def _related(state: str, record: Record, held: Held) -> list[str]:
    me = record["session_id"]
    found: dict[Any, None] = {}
    for key in file_keys(record):
        found.update(dict.fromkeys(leases.others(state, key, me)))
    contacts = record.get("contacts")
    found.update(dict.fromkeys(c for c in (contacts if isinstance(contacts, list) else [])))
    found.update(dict.fromkeys(_senders(state, me)))
    found.update(dict.fromkeys(t.get("created_by_session") for t in held.tasks))
    return [s for s in found if isinstance(s, str) and s != me]


def _senders(state: str, me: str) -> Iterable[str]:
    # Notes went to everyone: only messages addressed to this session make a sender related.
    names = mailbox.delivered(state, me) + mailbox.waiting(state, me)
    names = sorted(n for n in names if not n.endswith(mailbox.NOTE + ".json"))
    for name in names[-MESSAGES_LOOKED_AT:]:
        message = mailbox.read_any(state, me, name)
        sender = message.get("from_session") if message else None
        if isinstance(sender, str):
            yield sender


def tell(
    state: str, recipients: list[Record], text: str, *, kind: str, about: str | None = None
) -> None:
    from huddle import messages

    sender = messages.Sender(None, "huddle", "")
    for peer in recipients:
        if peer.get("session_id") == about:
            continue
        try:
            messages.notice(
                state, sender, str(peer["session_id"]), str(peer.get("name", "?")), text, kind=kind
            )
        except OSError as exc:
            log.write(f"could not tell {peer.get('session_id')} that a session left: {exc!r}")
