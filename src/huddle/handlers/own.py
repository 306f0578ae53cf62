"""The running session's own heartbeat, as the handlers keep it current."""

from __future__ import annotations

from huddle import sessions
from huddle.context import Context
from huddle.records import Heartbeat
from huddle.store import atomic, heartbeats


def touch(context: Context) -> None:
    """Mark activity; register the session if it has no record here yet.

    A session has no record when huddle was enabled after it started, or when it moved into
    this repository: the first hook it runs here makes it known.
    """
    if not heartbeats.touch(context.state, context.session_id, context.now):
        register(context)


def load(context: Context) -> Heartbeat:
    try:
        return heartbeats.read(context.state, context.session_id)
    except (FileNotFoundError, atomic.Corrupt):
        return register(context)


def register(context: Context) -> Heartbeat:
    return sessions.register(
        context.state,
        context.session_id,
        context.location,
        context.cwd,
        sessions.current_pid(),
        context.now,
    )


def set_state(context: Context, state: str) -> Heartbeat:
    record = load(context)
    sessions.follow(record, context.location, context.cwd, context.now)
    record.state = state
    heartbeats.write(context.state, record)
    return record
