"""Posting an item: a note or message is written into each recipient's inbox (mailbox) and once
into the repository's history. What is posted is built here too, so every item has one shape:
sender, kind, text, time, urgency, recipients.

`notice` is what huddle posts on someone's behalf (a peer that left, a broken lock, a finished
`huddle run`): never throttled nor dropped as a repeat.
"""

from __future__ import annotations

import json
import os
import time

from huddle.display import clean
from huddle.store import history, mailbox
from huddle.vocab import NOTE, NOTICE

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

STORE_LIMIT = 16000  # characters of a body kept; what the model is shown is capped lower


class Sender:
    """Who posts: a session (its id, name and branch) or a person at a terminal (no id)."""

    __slots__ = ("session_id", "name", "branch")

    def __init__(self, session_id: str | None, name: str, branch: str) -> None:
        self.session_id = session_id
        self.name = name
        self.branch = branch

    @property
    def key(self) -> str:
        """Who this is in the senders' records: the session id, or the person's name, in
        ASCII letters and digits (and a hash of the whole name when it is not all ASCII)."""
        if self.session_id:
            return self.session_id
        plain = "".join(c for c in self.name if c.isascii() and c.isalnum())[:40]
        if not self.name.isascii():
            import hashlib

            plain += "-" + hashlib.sha256(self.name.encode("utf-8")).hexdigest()[:12]
        return "user-" + plain


def new_id() -> str:
    return os.urandom(4).hex()


def item(sender: Sender, kind: str, text: str, now: float, **more: Any) -> dict[str, Any]:
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


def post(state_dir: str, message: dict[str, Any], recipients: list[str]) -> None:
    """Into each recipient's inbox, and once into the history."""
    note = message["kind"] == NOTE
    name = mailbox.name_for(message["id"], message["at"], message["urgent"] is True, note=note)
    data = json.dumps(message, ensure_ascii=False).encode("utf-8")
    for recipient in recipients:
        mailbox.deliver(state_dir, recipient, name, data)
    history.record(state_dir, name, message)


def notice(
    state_dir: str,
    sender: Sender,
    to_session: str,
    to_name: str,
    text: str,
    *,
    kind: str = NOTICE,
    urgent: bool = False,
) -> dict[str, Any]:
    """Post what huddle tells one session on someone's behalf; the item posted."""
    message = item(
        sender,
        kind,
        text,
        time.time(),
        urgent=urgent,
        reply_to=None,
        to_sessions=[to_session],
        to_name=to_name,
    )
    post(state_dir, message, [to_session])
    return message
