"""What every verb needs: which repository, who is speaking, and to whom.

Verbs share these and never import each other.
"""

from __future__ import annotations

import getpass
import os
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from huddle.cli.errors import UserError
from huddle.peers import sessions
from huddle.peers.sessions import Session
from huddle.repo import gitfiles
from huddle.store import atomic, heartbeats, posting
from huddle.store.ids import is_session_id
from huddle.vocab import ENDED


@dataclass(frozen=True)
class Here:
    location: gitfiles.Location
    state_dir: str  # the state directory
    session_id: str | None  # None: a person at a plain terminal


def location() -> gitfiles.Location:
    try:
        return gitfiles.locate(os.getcwd())
    except gitfiles.NotARepository as exc:
        raise UserError(f"{exc}: huddle works inside a git repository") from None


def here() -> Here:
    """The enabled repository of the working directory, and the calling session if any."""
    loc = location()
    reason = gitfiles.refuse_reason(loc)
    if reason:
        raise UserError(f"huddle cannot be used here: {reason}")
    state_dir = gitfiles.enabled_state_dir(loc)
    if state_dir is None:
        raise UserError(
            f"huddle is not enabled in {loc.main_worktree}: run `huddle enable` there first"
        )
    return Here(loc, state_dir, calling_session())


class Speaking:
    """Who speaks when not the environment's session: the MCP server sets it for each call it
    runs through the verbs (`speaking.as_session`), since one server process speaks for a
    session whose id changes (/clear), or for a client that is not Claude Code."""

    as_session: str | None = None


speaking = Speaking()


def calling_session() -> str | None:
    value = speaking.as_session or os.environ.get("CLAUDE_CODE_SESSION_ID", "")
    return value if is_session_id(value) else None


def person() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name is not worth failing over
        return "someone"


def holder_of(h: Here) -> tuple[str, str]:
    """The lock holder id and display name of whoever runs this command."""
    if h.session_id is not None:
        try:
            name = str(heartbeats.read_raw(h.state_dir, h.session_id).get("name", "?"))
        except (OSError, atomic.Corrupt):
            name = h.session_id[:8]
        return h.session_id, name
    who = person()
    return f"user:{who}", who


def all_sessions(h: Here) -> list[Session]:
    return sessions.load_all(h.state_dir, time.time())


def sender_of(h: Here, everyone: list[Session]) -> posting.Sender:
    me = next((s for s in everyone if s.session_id == h.session_id), None)
    if me is not None:
        return posting.Sender(me.session_id, me.name, me.record.branch)
    return posting.Sender(h.session_id, person(), "")


def resolve(everyone: list[Session], to: str, me: str | None) -> Session:
    """TO as a name, an id prefix (4+ characters), a branch or a worktree folder name."""
    others = [s for s in everyone if s.session_id != me]
    tiers = (
        [s for s in others if s.name == to],
        [s for s in others if len(to) >= 4 and s.session_id.startswith(to)],
        [s for s in others if s.record.branch == to and s.state != ENDED],
        [s for s in others if os.path.basename(s.record.worktree) == to and s.state != ENDED],
    )
    for tier, found in enumerate(tiers):
        if len(found) > 1 and tier != 1:
            # A name, branch or worktree a live session has now, once held by a gone one.
            current = [s for s in found if s.live]
            found = current if len(current) == 1 else found
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            names = ", ".join(
                f"{s.name} ({s.record.branch}, {s.state}, id {s.session_id[:8]})" for s in found
            )
            raise UserError(f"{to!r} could be any of: {names}; use a name or an id prefix")
    live = ", ".join(f"{s.name} ({s.record.branch})" for s in others if s.live) or "none"
    raise UserError(f"no session is called {to!r}; live sessions: {live}")


def iso(stamp: float | None) -> str | None:
    if stamp is None:
        return None
    return datetime.fromtimestamp(stamp, timezone.utc).isoformat(timespec="seconds")
