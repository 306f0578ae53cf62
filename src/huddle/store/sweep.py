"""Tidying the state directory: what a long-gone session leaves, and what crashed writers and
old items leave. Which sessions are long gone is the caller's judgement (peers/sessions.py).
"""

from __future__ import annotations

from huddle.store import (
    config,
    heartbeats,
    history,
    leases,
    mailbox,
    names,
    paths,
    tidy,
    turns,
    warned,
)
from huddle.store.layout import NAMES

TEMP_FILES_AFTER = 3600.0  # seconds before a writer's leftover counts as abandoned


def forget_session(state_dir: str, session_id: str, name: str) -> None:
    """Remove everything that is the session's own: its name, its turn snapshot, its warning
    markers, its inbox and its record (only for a session long gone: nobody holds them)."""
    names.release(state_dir, name, session_id)
    turns.forget(state_dir, session_id)
    warned.forget(state_dir, session_id)
    mailbox.forget(state_dir, session_id)
    heartbeats.remove(state_dir, session_id)


def sweep(state_dir: str, now: float, *, leases_after: float) -> None:
    """Remove leases older than `leases_after` seconds, history days past `history_days`,
    and what writers that crashed left behind."""
    leases.sweep(state_dir, now, older_than=leases_after)
    mailbox.sweep_tmp(state_dir, now, older_than=TEMP_FILES_AFTER)
    history.sweep(state_dir, now, config.load(state_dir)["history_days"])
    for folder in (state_dir, paths.join(state_dir, NAMES)):
        tidy.remove_temp_files(folder, older_than=TEMP_FILES_AFTER, now=now)
