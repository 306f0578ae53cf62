"""Sessions that leave: a crash its peers notice, a clean end told to those it worked with.

A session whose Claude Code process died without SessionEnd (killed, crashed) still has a
record that says working or idle. The first hook of any peer that finds it (SessionStart,
UserPromptSubmit or Stop) marks the record gone under the record's own lock, so exactly one
hook does the rest: it gives back what the session held (locks, leases, claimed tasks) and
leaves one notice in the inbox of every live peer, shown at that peer's next turn boundary.

A session that ends cleanly gives everything back at SessionEnd and tells the live peers it had
something to do with: those leasing the same files, those it exchanged messages with, and
those who put the tasks it held on the board.

Looking for crashes runs at every prompt, so this module imports only what that look needs;
what a crash or an end then takes (holdings.py, the inbox) is imported when one happens.
"""

from __future__ import annotations

from huddle.peers import liveness
from huddle.store import atomic, heartbeats
from huddle.vocab import END_CRASHED, ENDED_NOTICE, GONE, LEFT_NOTICE

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

    from huddle.peers.holdings import Held

    Record = dict[str, Any]

MESSAGES_LOOKED_AT = 50  # the newest received messages whose senders hear of a clean end


# -- crashes


def look_for_crashes(state_dir: str, me: str, now: float) -> None:
    """notice_crashes for a hook: a failure is logged, and the hook goes on."""
    try:
        notice_crashes(state_dir, me, now)
    except OSError as exc:
        from huddle import log  # imported only when there is something to log

        log.write(f"could not look for sessions that ended unexpectedly: {exc!r}")


def notice_crashes(state_dir: str, me: str, now: float) -> int:
    """Deal with every peer whose process died without SessionEnd; how many were found.

    Cheap when nobody crashed: one read of each record and of its process's start time.
    """
    records = list(heartbeats.scan_raw(state_dir))
    gone = [r for r in records if r.get("session_id") != me and liveness.process_gone(r)]
    if not gone:
        return 0
    from huddle.peers.holdings import describe, who

    found = 0
    for record in gone:
        done = _mark_gone(state_dir, record["session_id"], now)
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
        tell(state_dir, live, text, kind=ENDED_NOTICE)
        from huddle import log

        log.write(f"{marked['session_id']} ended without SessionEnd; released {describe(held)}")
    return found


class _Skip(Exception):
    pass


def _mark_gone(state_dir: str, session_id: str, now: float) -> tuple[Record, Held] | None:
    """Mark the session gone and give back what it held, under its record's lock: of any
    number of hooks noticing at once, exactly one does it. None for the others."""
    from huddle.peers.holdings import give_back

    given: list[Held] = []

    def change(record: Record) -> None:
        if not liveness.process_gone(record):
            raise _Skip
        record["state"] = GONE
        record["ended_at"] = now
        record["end_reason"] = END_CRASHED
        given.append(give_back(state_dir, record))

    try:
        record = heartbeats.update(state_dir, session_id, change, activity=False)
    except (_Skip, FileNotFoundError, atomic.Corrupt):
        return None
    return record, given[0]


# -- clean ends


def announce_end(state_dir: str, record: Record, held: Held, now: float) -> int:
    """Tell the live peers the ended session worked with that it left; how many were told."""
    from huddle.peers.holdings import describe, who

    me = record["session_id"]
    related = (
        liveness.live_record(state_dir, other, now) for other in _related(state_dir, record, held)
    )
    peers = [peer for peer in related if peer is not None]
    if not peers:
        return 0
    text = f"{who(record)} ended and gave back {describe(held)}."
    tell(state_dir, peers, text, kind=LEFT_NOTICE, about=me)
    return len(peers)


def _related(state_dir: str, record: Record, held: Held) -> list[str]:
    from huddle.peers.holdings import file_keys
    from huddle.store import leases

    me = record["session_id"]
    found: dict[Any, None] = {}
    for key in file_keys(record):
        found.update(dict.fromkeys(leases.others(state_dir, key, me)))
    contacts = record.get("contacts")
    found.update(dict.fromkeys(c for c in (contacts if isinstance(contacts, list) else [])))
    found.update(dict.fromkeys(_senders(state_dir, me)))
    found.update(dict.fromkeys(t.get("created_by_session") for t in held.tasks))
    return [s for s in found if isinstance(s, str) and s != me]


def _senders(state_dir: str, me: str) -> Iterable[str]:
    from huddle.store import mailbox

    # Notes went to everyone: only messages addressed to this session make a sender related.
    names = mailbox.delivered(state_dir, me) + mailbox.waiting(state_dir, me)
    names = sorted(n for n in names if not n.endswith(mailbox.NOTE + ".json"))
    for name in names[-MESSAGES_LOOKED_AT:]:
        message = mailbox.read_any(state_dir, me, name)
        sender = message.get("from_session") if message else None
        if isinstance(sender, str):
            yield sender


def tell(
    state_dir: str, recipients: list[Record], text: str, *, kind: str, about: str | None = None
) -> None:
    from huddle.store import posting

    sender = posting.Sender(None, "huddle", "")
    for peer in recipients:
        if peer.get("session_id") == about:
            continue
        try:
            posting.notice(
                state_dir,
                sender,
                str(peer["session_id"]),
                str(peer.get("name", "?")),
                text,
                kind=kind,
            )
        except OSError as exc:
            from huddle import log

            log.write(f"could not tell {peer.get('session_id')} that a session left: {exc!r}")
