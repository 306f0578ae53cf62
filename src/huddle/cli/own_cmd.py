"""`huddle name` and `huddle doing`: what a session says about itself."""

from __future__ import annotations

import os
import time

from huddle.cli.errors import UserError
from huddle.cli.here import Here, here
from huddle.display import clean
from huddle.peers import sessions
from huddle.store import atomic, heartbeats, names, records
from huddle.store.records import Heartbeat

TASK_LIMIT = 200


def _own_record(h: Here, session: str | None) -> Heartbeat:
    if session is not None:
        return _find(h, session)
    if h.session_id is None:
        raise UserError(
            "this is not a Claude Code session (CLAUDE_CODE_SESSION_ID is not set); "
            "pass --session NAME to act for one"
        )
    try:
        return heartbeats.read(h.state_dir, h.session_id, records.strict_or_cheap())
    except FileNotFoundError:  # enabled after this session started, and no hook ran since
        return sessions.register(
            h.state_dir, h.session_id, h.location, os.getcwd(), sessions.current_pid(), time.time()
        )
    except atomic.Corrupt as exc:
        raise UserError(f"this session's record is unreadable ({exc})") from None


def _find(h: Here, key: str) -> Heartbeat:
    everyone = sessions.load_all(h.state_dir, time.time(), records.strict_or_cheap())
    exact = [s for s in everyone if s.name == key or s.session_id == key]
    found = exact or [s for s in everyone if len(key) >= 4 and s.session_id.startswith(key)]
    if len(found) == 1:
        return found[0].record
    if not found:
        known = ", ".join(s.name for s in everyone) or "none"
        raise UserError(f"no session is called {key!r} (sessions: {known})")
    raise UserError(f"{key!r} matches several sessions: {', '.join(s.name for s in found)}")


def rename(new: str, session: str | None) -> int:
    h = here()
    record = _own_record(h, session)
    try:
        name = sessions.rename(h.state_dir, record, new, time.time())
    except names.NameTaken:
        raise UserError(f"another live session is already called {names.slug(new)!r}") from None
    except ValueError as exc:
        raise UserError(str(exc)) from None
    print(f'this session is now called "{name}"' if session is None else f'renamed to "{name}"')
    return 0


def doing(text: str, clear: bool, session: str | None) -> int:
    h = here()
    record = _own_record(h, session)
    record.task = "" if clear else clean(text, TASK_LIMIT)
    record.last_activity = time.time()
    heartbeats.write(h.state_dir, record)
    if record.task:
        print(f'"{record.name}" is now doing: {record.task}')
    else:
        print(f'"{record.name}" shares no task now')
    return 0
