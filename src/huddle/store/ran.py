"""When each hook event last ran in this repository: `ran/<event>`, an empty file whose mtime
is the time. `huddle doctor` reads it to tell whether the plugin's hooks run here at all."""

from __future__ import annotations

import os

from huddle.store import atomic, paths
from huddle.store.layout import FILE_MODE, RAN
from huddle.vocab import EVENTS


def mark(state_dir: str, event_name: str, now: float) -> None:
    if event_name not in EVENTS:
        raise ValueError(f"not a hook event: {event_name!r}")
    path = paths.join(state_dir, RAN, event_name)
    try:
        os.utime(path, (now, now), follow_symlinks=False)
    except FileNotFoundError:
        atomic.make_dirs(os.path.dirname(path))
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, FILE_MODE))
        os.utime(path, (now, now), follow_symlinks=False)


def last(state_dir: str, event_name: str) -> float | None:
    """When `event_name` last ran here, or None if it never did."""
    try:
        return os.stat(paths.join(state_dir, RAN, event_name)).st_mtime
    except OSError:
        return None
