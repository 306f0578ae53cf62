"""What a session's worktree looked like at the end of its last turn: `turns/<session>.json`,
the changed files `{path: [mtime_ns, size]}` (edits/worktree_changes.py makes them), so the next
turn's end can tell what its Bash commands changed.

Not fsynced: losing the last snapshot in a crash costs one turn's attribution, nothing more.
"""

from __future__ import annotations

import os

from huddle.store import atomic, paths
from huddle.store.ids import is_session_id
from huddle.store.layout import TURNS

_READ_LIMIT = 16 << 20  # a full snapshot of long paths is well over atomic's default 1 MiB


def path_for(state_dir: str, session_id: str) -> str:
    if not is_session_id(session_id):
        raise ValueError(f"not a session id: {session_id!r}")
    return paths.join(state_dir, TURNS, session_id + ".json")


def save(state_dir: str, session_id: str, snap: dict[str, list[int]]) -> None:
    """Store a snapshot as compact JSON; readers see the old one or the new one, never a part."""
    path = path_for(state_dir, session_id)
    atomic.make_dirs(os.path.dirname(path))
    atomic.write_json(path, snap, durable=False)


def load(state_dir: str, session_id: str) -> dict[str, list[int]] | None:
    """The session's stored snapshot, or None when there is none or it is unreadable or
    misshapen."""
    try:
        value = atomic.read_json_object(path_for(state_dir, session_id), limit=_READ_LIMIT)
    except (OSError, atomic.Corrupt):
        return None
    for entry in value.values():
        if (
            type(entry) is not list
            or len(entry) != 2
            or type(entry[0]) is not int
            or type(entry[1]) is not int
        ):
            return None
    return value


def forget(state_dir: str, session_id: str) -> None:
    try:
        os.unlink(path_for(state_dir, session_id))
    except FileNotFoundError:
        pass
