"""The repository's history of notes and messages, for people: one file per item, in a
folder per day, `history/<YYYY-MM-DD>/<name>`. Whole days are swept once older than the
`history_days` setting. Hooks never list it: only the CLI and session starts read it."""

from __future__ import annotations

import json
import os
import time

from huddle.store import atomic

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

FOLDER = "history"


def day(stamp: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(stamp))


def record(state: str, name: str, message: dict[str, Any]) -> None:
    folder = os.path.join(state, FOLDER, day(message["at"]))
    os.makedirs(folder, mode=0o700, exist_ok=True)
    data = json.dumps(message, ensure_ascii=False).encode("utf-8")
    atomic.write_bytes(os.path.join(folder, name), data, durable=False)


def days(state: str) -> list[str]:
    try:
        return sorted(d for d in os.listdir(os.path.join(state, FOLDER)) if len(d) == 10)
    except OSError:
        return []


def items(state: str, since: float = 0.0) -> Iterator[tuple[str, dict[str, Any]]]:
    """(name, item) of every readable item at or after `since`, oldest first."""
    first = day(since) if since > 0 else ""
    for d in days(state):
        if d < first:
            continue
        folder = os.path.join(state, FOLDER, d)
        try:
            names = sorted(n for n in os.listdir(folder) if n.endswith(".json"))
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


def newest(state: str, since: float, marked: str, count: int) -> list[dict[str, Any]]:
    """Up to `count` items whose names carry `marked`, newest first, from `since` on; only
    those files are read, so it costs the same however long the history is."""
    found: list[dict[str, Any]] = []
    first = day(since)
    for d in reversed(days(state)):
        if d < first or len(found) >= count:
            break
        folder = os.path.join(state, FOLDER, d)
        try:
            names = sorted((n for n in os.listdir(folder) if marked in n), reverse=True)
        except OSError:
            continue
        for name in names:
            try:
                item = atomic.read_json_object(os.path.join(folder, name), limit=1 << 20)
            except (OSError, atomic.Corrupt):
                continue
            at = item.get("at")
            if isinstance(at, (int, float)) and at >= since:
                found.append(item)
                if len(found) >= count:
                    break
    return found


def sweep(state: str, now: float, keep_days: int) -> int:
    import shutil

    cutoff = day(now - keep_days * 86400)
    removed = 0
    for d in days(state):
        if d < cutoff:
            shutil.rmtree(os.path.join(state, FOLDER, d), ignore_errors=True)
            removed += 1
    return removed
