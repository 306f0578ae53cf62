"""When a session was last warned about a peer's hold on a file:
`warned/<session>/<encoded file>.<peer session>`, an empty file whose mtime is the time.

The same warning (file and peer) is shown at most once per `warn_every` seconds.
"""

from __future__ import annotations

import os

from huddle.store import atomic, paths
from huddle.store.ids import is_session_id
from huddle.store.layout import WARNED, encode


def first_in_a_while(
    state_dir: str, session_id: str, key: str, peer: str, now: float, every: float
) -> bool:
    """True, and remembered, unless the session was warned about `peer` and `key` within
    `every` seconds."""
    if not (is_session_id(session_id) and is_session_id(peer)):
        raise ValueError(f"not session ids: {session_id!r}, {peer!r}")
    folder = paths.join(state_dir, WARNED, session_id)
    marker = os.path.join(folder, f"{encode(key)}.{peer}")
    try:
        if now - os.stat(marker).st_mtime < every:
            return False
        os.utime(marker, (now, now), follow_symlinks=False)
    except FileNotFoundError:
        atomic.make_dirs(folder)
        atomic.write_bytes(marker, b"", durable=False)
        os.utime(marker, (now, now), follow_symlinks=False)
    return True


def forget(state_dir: str, session_id: str) -> None:
    """Every warning marker of the session (when its record is swept)."""
    import shutil

    if is_session_id(session_id):
        shutil.rmtree(paths.join(state_dir, WARNED, session_id), ignore_errors=True)
