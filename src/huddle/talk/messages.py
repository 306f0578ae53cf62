"""Sending notes (to every other session) and messages (to one), for the CLI.

A message goes into the recipient's inbox and into the repository's history; a note goes
into the inbox of every other session that has not ended, and once into the history. A sender
that sends more than `send_rate` items a minute is refused; an item identical to one the same
sender sent to the same place in the last ten minutes is dropped.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from typing import Any

from huddle.display import clean
from huddle.peers.sessions import Session
from huddle.store import atomic, config, guard, history, mailbox

KINDS = ("question", "answer", "request", "fyi", "done")
STORE_LIMIT = 16000  # characters of a body kept; what the model is shown is capped lower
REPEAT_WINDOW = 600.0
SENDERS = "senders"


class Throttled(Exception):
    """The sender has sent too much in the last minute."""


class Repeated(Exception):
    """The same sender sent exactly this to the same place a moment ago."""

    def __init__(self, ago: float) -> None:
        super().__init__(ago)
        self.ago = ago


class Sender:
    __slots__ = ("session_id", "name", "branch")

    def __init__(self, session_id: str | None, name: str, branch: str) -> None:
        self.session_id = session_id
        self.name = name
        self.branch = branch

    @property
    def key(self) -> str:
        return self.session_id or "user-" + "".join(c for c in self.name if c.isalnum())[:40]


def new_id() -> str:
    return os.urandom(4).hex()


def _check_rate(state_dir: str, sender: Sender, fingerprint: str, now: float) -> None:
    """Refuse a flood, drop a repeat, and remember this send; under the senders' lock."""
    folder = os.path.join(state_dir, SENDERS)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    path = os.path.join(folder, sender.key + ".json")
    with guard.exclusive(os.path.join(folder, ".lock")):
        try:
            recent = atomic.read_json_object(path).get("recent", [])
        except (OSError, atomic.Corrupt):
            recent = []
        recent = [
            r
            for r in recent
            if isinstance(r, list)
            and len(r) == 2
            and isinstance(r[0], (int, float))
            and now - r[0] < REPEAT_WINDOW
        ]
        for at, seen in recent:
            if seen == fingerprint:
                raise Repeated(now - at)
        limit = config.load(state_dir)["send_rate"]
        if sum(1 for at, _ in recent if now - at < 60) >= limit:
            raise Throttled(limit)
        recent.append([now, fingerprint])
        atomic.write_json(path, {"recent": recent[-1000:]}, durable=False)


def _fingerprint(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()[:32]


def _message(sender: Sender, kind: str, text: str, now: float, **more: Any) -> dict[str, Any]:
    return {
        "id": new_id(),
        "kind": kind,
        "from_session": sender.session_id,
        "from_name": sender.name,
        "from_branch": sender.branch,
        "text": clean(text, STORE_LIMIT),
        "at": now,
        **more,
    }


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
    message = _message(
        sender,
        kind,
        text,
        now,
        urgent=urgent,
        reply_to=reply_to,
        to_sessions=[to.session_id],
        to_name=to.name,
    )
    _post(state_dir, message, [to.session_id])
    if sender.session_id:
        _remember_contact(state_dir, sender.session_id, to.session_id)
    return message


def _post(state_dir: str, message: dict[str, Any], recipients: list[str]) -> None:
    """Into each recipient's inbox, and once into the history."""
    note = message["kind"] == "note"
    name = mailbox.name_for(message["id"], message["at"], message["urgent"] is True, note=note)
    data = json.dumps(message, ensure_ascii=False).encode("utf-8")
    for recipient in recipients:
        mailbox.deliver(state_dir, recipient, name, data)
    history.record(state_dir, name, message)


CONTACTS_KEPT = 32


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
    _check_rate(state_dir, sender, _fingerprint("note", text), now)
    recipients = [s for s in everyone if s.session_id != sender.session_id and s.state != "ended"]
    message = _message(
        sender,
        "note",
        text,
        now,
        urgent=False,
        reply_to=None,
        to_sessions=[s.session_id for s in recipients],
        to_name="everyone",
    )
    _post(state_dir, message, [s.session_id for s in recipients])
    return message, recipients


def notice(
    state_dir: str,
    sender: Sender,
    to_session: str,
    to_name: str,
    text: str,
    *,
    kind: str = "notice",
    urgent: bool = False,
) -> None:
    """A message huddle sends on someone's behalf (a broken lock, a finished `huddle run`):
    never throttled nor dropped as a repeat."""
    now = time.time()
    message = _message(
        sender,
        kind,
        text,
        now,
        urgent=urgent,
        reply_to=None,
        to_sessions=[to_session],
        to_name=to_name,
    )
    _post(state_dir, message, [to_session])
