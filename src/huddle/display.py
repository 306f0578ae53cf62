"""Short human wording shared by the digest and the CLI: ages, worktree labels, safe text."""

from __future__ import annotations

import os
import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def ago(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return "just now" if seconds < 10 else f"{seconds}s ago"
    if seconds < 3600:
        return f"{seconds // 60}m ago"
    if seconds < 86400:
        return f"{seconds // 3600}h ago"
    return f"{seconds // 86400}d ago"


def worktree_label(worktree: str, main_worktree: str) -> str:
    if os.path.abspath(worktree) == os.path.abspath(main_worktree):
        return "main checkout"
    return os.path.relpath(worktree, main_worktree)


def clean(text: str, limit: int) -> str:
    """One line of peer-provided text with control characters removed, cut to `limit`."""
    flat = " ".join(_CONTROL.sub(" ", text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def peer(record: dict[str, object], main_worktree: str) -> str:
    """`"name" (branch b, worktree w, task: "t")` from a stored heartbeat."""
    name = clean(str(record.get("name", "?")), 40)
    parts = [
        f"branch {clean(str(record.get('branch', '?')), 80)}",
        f"worktree {clean(worktree_label(str(record.get('worktree', '?')), main_worktree), 120)}",
    ]
    task = record.get("task")
    if isinstance(task, str) and task:
        parts.append(f'task: "{clean(task, 160)}"')
    return f'"{name}" ({", ".join(parts)})'


def clock(stamp: float) -> str:
    import time

    try:
        return time.strftime("%H:%M", time.localtime(stamp))
    except (OverflowError, ValueError, OSError):  # a hand-edited time beyond the calendar
        return "?"
