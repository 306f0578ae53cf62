"""What each sender sent lately, against floods and repeats: `senders/<sender key>.json`,
`{"recent": [[time, fingerprint], ...]}`, every change under `senders/.lock`.
"""

from __future__ import annotations

import os
import re

from huddle.store import atomic, guard, paths
from huddle.store.layout import GUARD, SENDERS

KEPT = 1000
_KEY = re.compile(r"^[A-Za-z0-9-]{1,64}$")


class Throttled(Exception):
    """The sender has sent `limit` items in the last minute already."""


class Repeated(Exception):
    """The same sender sent exactly this to the same place a moment ago."""

    def __init__(self, ago: float) -> None:
        super().__init__(ago)
        self.ago = ago


def check(
    state_dir: str, key: str, fingerprint: str, now: float, *, limit: int, window: float
) -> None:
    """Refuse a flood (Throttled), drop a repeat within `window` seconds (Repeated), and
    remember this send; under the senders' lock, so racing senders are counted right."""
    if not _KEY.match(key):
        raise ValueError(f"not a sender key: {key!r}")
    folder = paths.join(state_dir, SENDERS)
    atomic.make_dirs(folder)
    path = os.path.join(folder, key + ".json")
    with guard.exclusive(os.path.join(folder, GUARD)):
        try:
            recent = atomic.read_json_object(path).get("recent", [])
        except (OSError, atomic.Corrupt):
            recent = []
        recent = [
            r
            for r in (recent if isinstance(recent, list) else [])
            if isinstance(r, list)
            and len(r) == 2
            and isinstance(r[0], (int, float))
            and now - r[0] < window
        ]
        for at, seen in recent:
            if seen == fingerprint:
                raise Repeated(now - at)
        if sum(1 for at, _ in recent if now - at < 60) >= limit:
            raise Throttled(limit)
        recent.append([now, fingerprint])
        atomic.write_json(path, {"recent": recent[-KEPT:]}, durable=False)
