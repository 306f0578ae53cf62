"""The repository's history of notes and messages, for people: one file per item, in a
folder per day, `history/<YYYY-MM-DD>/<name>`. Whole days are swept once older than the
`history_days` setting. Hooks never list it: only the CLI and session starts read it."""

from __future__ import annotations

import json
import os
import time

from huddle.store import atomic, paths
from huddle.store.layout import HISTORY

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any


def day(stamp: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(stamp))


def record(state_dir: str, name: str, message: dict[str, Any]) -> None:
    folder = paths.join(state_dir, HISTORY, day(message["at"]))
    atomic.make_dirs(folder)
    data = json.dumps(message, ensure_ascii=False).encode("utf-8")
    atomic.write_bytes(os.path.join(folder, name), data, durable=False)


def days(state_dir: str) -> list[str]:
    try:
        return sorted(d for d in os.listdir(paths.join(state_dir, HISTORY)) if len(d) == 10)
    except OSError:
        return []


def _walk(
    state_dir: str, since: float, marked: str, newest_first: bool
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(name, item) of readable items at or after `since` whose names carry `marked`; only
    the day folders from `since` on are listed, and only matching files are read."""
    first = day(since) if since > 0 else ""
    folders = days(state_dir)
    for d in reversed(folders) if newest_first else folders:
        if d < first:
            if newest_first:
                return
            continue
        folder = paths.join(state_dir, HISTORY, d)
        try:
            names = sorted((n for n in os.listdir(folder) if marked in n), reverse=newest_first)
        except OSError:
            continue
        for name in names:
            try:
                item = atomic.read_json_object(os.path.join(folder, name), limit=1 << 20)
            except (OSError, atomic.Corrupt):
                continue
            at = item.get("at")
            if isinstance(at, (int, float)) and at >= since:
                yield name, item


def items(state_dir: str, since: float = 0.0) -> Iterator[tuple[str, dict[str, Any]]]:
    """(name, item) of every readable item at or after `since`, oldest first."""
    return _walk(state_dir, since, ".json", newest_first=False)


def newest(state_dir: str, since: float, marked: str, count: int) -> list[dict[str, Any]]:
    """Up to `count` items whose names carry `marked`, newest first, from `since` on; it
    reads only what it returns, so it costs the same however long the history is."""
    found: list[dict[str, Any]] = []
    if count <= 0:
        return found
    for _, item in _walk(state_dir, since, marked, newest_first=True):
        found.append(item)
        if len(found) >= count:
            break
    return found


def sweep(state_dir: str, now: float, keep_days: int) -> int:
    import shutil

    cutoff = day(now - keep_days * 86400)
    removed = 0
    root = paths.join(state_dir, HISTORY)
    for d in days(state_dir):
        if d < cutoff:
            folder = os.path.join(root, d)
            if os.path.islink(folder):
                os.unlink(folder)  # the link goes, never what it points at
            else:
                shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed
