"""What a session holds (locks, file leases, claimed tasks), giving it back, and the words for it.

Used when a session ends, cleanly or not (departures.py, session_end.py), and by the digests
that tell a session what it or its fork's parent holds (restore.py, lineage.py).
"""

from __future__ import annotations

from huddle.display import clean
from huddle.store import leases, locks, tasks

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    Record = dict[str, Any]

LISTED = 8  # items of one kind named in a notice


class Held:
    """What a session gave back: lock patterns, leased file keys, tasks reopened."""

    __slots__ = ("locks", "files", "tasks")

    def __init__(self, locks: list[str], files: list[str], tasks: list[dict[str, Any]]) -> None:
        self.locks = locks
        self.files = files
        self.tasks = tasks


def file_keys(record: Record) -> list[str]:
    files = record.get("files")
    return [
        f["path"]
        for f in (files if isinstance(files, list) else [])
        if isinstance(f, dict) and isinstance(f.get("path"), str)
    ]


def release(state_dir: str, record: Record) -> Held:
    """Give back every lock, lease and claimed task of the session `record` describes."""
    session_id = record["session_id"]
    files = leases.held(state_dir, file_keys(record), session_id)
    leases.release(state_dir, files, session_id)
    patterns = [str(lock["pattern"]) for lock in locks.release_all(state_dir, session_id)]
    return Held(patterns, files, tasks.release_all(state_dir, session_id))


def give_back(state_dir: str, record: Record) -> Held:
    """release(), noting in the record (which the caller writes) the locks and tasks given
    back: a session resumed later is told. Leases come back by themselves with the next edit."""
    held = release(state_dir, record)
    record["released"] = describe(held) if held.locks or held.tasks else None
    return held


def listing(items: list[str], limit: int = LISTED, width: int = 0) -> str:
    """Items joined by commas: at most `limit` of them and, given a `width`, as many as fit in
    it, with "and N more" for the rest."""
    shown: list[str] = []
    used = 0
    for index, text in enumerate(items[:limit]):
        rest = len(items) - index - 1
        room = width - used - (len(f" and {rest} more") if rest else 0)
        if width and shown and len(text) + 2 > room:
            break
        shown.append(text)
        used += len(text) + 2
    more = len(items) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more else "")


def task_words(task: dict[str, Any]) -> str:
    """A task's id and title, the title JSON-quoted: a quote in it cannot end it early."""
    import json

    title = json.dumps(clean(str(task.get("title", "")), 80), ensure_ascii=False)
    return f"{task['id']} {title}"


def describe(held: Held) -> str:
    parts = []
    if held.locks:
        parts.append("locks on " + listing([clean(p, 200) for p in held.locks]))
    if held.files:
        parts.append(
            "leases on files it was editing: " + listing([clean(f, 200) for f in held.files])
        )
    if held.tasks:
        parts.append("tasks " + listing([task_words(t) for t in held.tasks]) + " (open again)")
    return "; ".join(parts) if parts else "no locks, file leases or tasks"


def who(record: Record) -> str:
    name = clean(str(record.get("name", "?")), 40)
    branch = record.get("branch")
    return f'session "{name}"' + (
        f" (branch {clean(branch, 80)})" if isinstance(branch, str) else ""
    )
