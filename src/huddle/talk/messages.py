"""Sending notes (to every other session) and messages (to one), for the CLI.

A message goes into the recipient's inbox and into the repository's history; a note goes
into the inbox of every other session that has not ended, and once into the history
(store/posting.py). A sender that sends more than `send_rate` items a minute is refused; an
item identical to one the same sender sent to the same place in the last ten minutes is
dropped (store/senders.py).
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from huddle.peers.sessions import Session
from huddle.store import atomic, config, senders
from huddle.store.posting import Sender, item, post
from huddle.vocab import ENDED, NOTE

REPEAT_WINDOW = 600.0
CONTACTS_KEPT = 32


def _check_rate(state_dir: str, sender: Sender, fingerprint: str, now: float) -> None:
    """senders.Throttled or senders.Repeated, or remember this send."""
    limit = config.load(state_dir)["send_rate"]
    senders.check(state_dir, sender.key, fingerprint, now, limit=limit, window=REPEAT_WINDOW)


def _fingerprint(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()[:32]


def send(
    state_dir: str,
    sender: Sender,
    to: Session,
    text: str,
    *,
    kind: str = "fyi",
    urgent: bool = False,
    reply_to: str | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    now = time.time() if now is None else now
    _check_rate(state_dir, sender, _fingerprint("to", to.session_id, kind, text), now)
    message = item(
        sender,
        kind,
        text,
        now,
        urgent=urgent,
        reply_to=reply_to,
        to_sessions=[to.session_id],
        to_name=to.name,
    )
    post(state_dir, message, [to.session_id])
    if sender.session_id:
        _remember_contact(state_dir, sender.session_id, to.session_id)
    return message


def _remember_contact(state_dir: str, sender: str, recipient: str) -> None:
    """Note in the sender's record whom it wrote to: they hear of it when it leaves."""
    from huddle.store import heartbeats

    def change(record: dict[str, Any]) -> None:
        known = record.get("contacts")
        known = [c for c in known if isinstance(c, str)] if isinstance(known, list) else []
        record["contacts"] = ([recipient] + [c for c in known if c != recipient])[:CONTACTS_KEPT]

    try:
        heartbeats.update(state_dir, sender, change)
    except (FileNotFoundError, atomic.Corrupt):
        pass  # a sender with no record here (an id from elsewhere): nobody to tell later


def note(
    state_dir: str, sender: Sender, everyone: list[Session], text: str, now: float | None = None
) -> tuple[dict[str, Any], list[Session]]:
    now = time.time() if now is None else now
    _check_rate(state_dir, sender, _fingerprint(NOTE, text), now)
    recipients = [s for s in everyone if s.session_id != sender.session_id and s.state != ENDED]
    message = item(
        sender,
        NOTE,
        text,
        now,
        urgent=False,
        reply_to=None,
        to_sessions=[s.session_id for s in recipients],
        to_name="everyone",
    )
    post(state_dir, message, [s.session_id for s in recipients])
    return message, recipients
