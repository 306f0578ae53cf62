"""`huddle send TO TEXT`: a message to one session, shown to its model at its next prompt."""

from __future__ import annotations

import os
import time

from huddle import sessions
from huddle.cli.locks_cmd import person
from huddle.cli.where import here
from huddle.display import clean
from huddle.errors import UserError
from huddle.inbox import BODY_LIMIT
from huddle.sessions import Session
from huddle.store import mailbox


def resolve(everyone: list[Session], to: str, me: str | None) -> Session:
    """TO as a name, an id prefix (4+ characters), a branch or a worktree folder name."""
    others = [s for s in everyone if s.session_id != me]
    tiers = (
        [s for s in others if s.name == to],
        [s for s in others if len(to) >= 4 and s.session_id.startswith(to)],
        [s for s in others if s.record.branch == to and s.live],
        [s for s in others if os.path.basename(s.record.worktree) == to and s.live],
    )
    for found in tiers:
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            names = ", ".join(f"{s.name} ({s.record.branch})" for s in found)
            raise UserError(f"{to!r} could be any of: {names}; use a name")
    live = ", ".join(s.name for s in others if s.live) or "none"
    raise UserError(f"no session is called {to!r} (live sessions: {live})")


def run(to: str, words: list[str]) -> int:
    h = here()
    text = " ".join(words).strip()
    if not text:
        raise UserError('say what: huddle send NAME "text"')
    now = time.time()
    everyone = sessions.load_all(h.state, now)
    recipient = resolve(everyone, to, h.session_id)
    me = next((s for s in everyone if s.session_id == h.session_id), None)
    message = {
        "from_name": me.name if me else person(),
        "from_session": h.session_id,
        "from_branch": me.record.branch if me else "",
        "kind": "fyi",
        "text": clean(text, BODY_LIMIT),
        "at": now,
    }
    mailbox.deliver(h.state, recipient.session_id, message, now)
    if recipient.live:
        print(f'sent to "{recipient.name}"; it sees the message at its next prompt')
    else:
        print(f'"{recipient.name}" is not live ({recipient.state}); the message waits for it')
    return 0
