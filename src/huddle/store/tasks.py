"""The task board: one file per task, `tasks/<id>.json`, every change under `tasks/.lock`.

A claim is a read-check-write of shared state, so it is done under the folder's lock
(guard.py): of any number of sessions claiming one task at once, exactly one wins. Files are
always written whole (atomic.write_json), so a reader outside the lock sees the old task or the
new one, never half.
Whether a claimer still counts (its session is live) is the caller's judgement, passed in as
`counts(session_id)`, as locks.acquire takes it.
"""

from __future__ import annotations

import os
import re

from huddle.store import atomic, guard, paths
from huddle.store.layout import GUARD, TASKS
from huddle.vocab import CLAIMED, DONE, OPEN, TASK_STATES

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import AbstractContextManager
    from typing import Any

    Task = dict[str, Any]

ID_BYTES = 3  # six hex digits: plenty for one repository's board
_ID = re.compile(r"^[0-9a-f]{1,32}$")
LIMIT = 64 * 1024


class TaskError(Exception):
    """A change the board refuses; the message is one line for the user."""


class Unknown(TaskError):
    pass


class Refused(TaskError):
    """A change refused because of the state the task is in; `task` is that task."""

    WHY = ""

    def __init__(self, task: Task) -> None:
        why = self.WHY.format(claimed_by_name=task.get("claimed_by_name"))
        super().__init__(f"task {task['id']} {why}")
        self.task = task


class Taken(Refused):
    """Another session that still counts has claimed the task."""

    WHY = "is claimed by {claimed_by_name!r}"


class Finished(Refused):
    WHY = "is already done"


class NotYours(Refused):
    WHY = "is not yours"


class NotClaimed(Refused):
    WHY = "is not claimed"


def folder(state_dir: str) -> str:
    return paths.join(state_dir, TASKS)


def _path(state_dir: str, task_id: str) -> str:
    return os.path.join(folder(state_dir), task_id + ".json")


def _valid(task: object) -> bool:
    return (
        isinstance(task, dict)
        and isinstance(task.get("id"), str)
        and bool(_ID.match(task["id"]))
        and isinstance(task.get("title"), str)
        and task.get("state") in TASK_STATES
    )


def _read(path: str) -> Task | None:
    try:
        task = atomic.read_json_object(path, limit=LIMIT)
    except (OSError, atomic.Corrupt):
        return None
    return task if _valid(task) else None


def every(state_dir: str) -> list[Task]:
    """Every readable task, oldest first."""
    found = []
    try:
        entries = list(os.scandir(folder(state_dir)))
    except OSError:
        return []
    for entry in entries:
        if entry.name.endswith(".json") and not entry.name.startswith("."):
            task = _read(entry.path)
            if task is not None and entry.name == task["id"] + ".json":
                found.append(task)
    found.sort(key=lambda t: (t.get("created_at") or 0, t["id"]))
    return found


def find(state_dir: str, given: str) -> Task:
    """The task with id `given`, or the only one whose id starts with it; Unknown otherwise."""
    key = given.strip().lower()
    if not _ID.match(key):
        raise Unknown(f"{given!r} is not a task id (ids look like 3f2a1c; `huddle task list`)")
    exact = _read(_path(state_dir, key))
    if exact is not None and exact["id"] == key:
        return exact
    found = [t for t in every(state_dir) if t["id"].startswith(key)]
    if len(found) == 1:
        return found[0]
    if found:
        raise Unknown(f"{given!r} could be any of {', '.join(t['id'] for t in found)}")
    raise Unknown(f"no task {given!r} on the board (`huddle task list --all` shows them all)")


def _guard(state_dir: str) -> AbstractContextManager[None]:
    atomic.make_dirs(folder(state_dir))
    return guard.exclusive(os.path.join(folder(state_dir), GUARD))


def add(
    state_dir: str,
    title: str,
    detail: str,
    created_by: str,
    now: float,
    creator_session: str | None = None,
) -> Task:
    with _guard(state_dir):
        while True:
            task_id = os.urandom(ID_BYTES).hex()
            if not os.path.exists(_path(state_dir, task_id)):
                break
        task: Task = {
            "id": task_id,
            "title": title,
            "detail": detail,
            "state": OPEN,
            "created_by": created_by,
            "created_by_session": creator_session,
            "created_at": now,
            "claimed_by": None,
            "claimed_by_name": None,
            "claimed_at": None,
            "done_at": None,
            "note": "",
        }
        atomic.write_json(_path(state_dir, task_id), task)
    return task


def _opened(task: Task) -> Task:
    return {**task, "state": OPEN, "claimed_by": None, "claimed_by_name": None, "claimed_at": None}


def change(state_dir: str, given: str, edit: Callable[[Task], Task]) -> Task:
    """Read the task, let `edit` return its new value (or raise), write it; all under the lock."""
    with _guard(state_dir):
        task = find(state_dir, given)
        new = edit(task)
        if new != task:
            atomic.write_json(_path(state_dir, task["id"]), new)
    return new


def claim(
    state_dir: str, given: str, holder: str, name: str, now: float, counts: Callable[[str], bool]
) -> Task:
    """Claim the task for session `holder`; Taken if another claimer still counts."""

    def edit(task: Task) -> Task:
        if task["state"] == DONE:
            raise Finished(task)
        if task["state"] == CLAIMED:
            if task.get("claimed_by") == holder:
                return task
            if counts(str(task.get("claimed_by"))):
                raise Taken(task)
        return {
            **task,
            "state": CLAIMED,
            "claimed_by": holder,
            "claimed_by_name": name,
            "claimed_at": now,
        }

    return change(state_dir, given, edit)


def finish(state_dir: str, given: str, by: str | None, note: str, now: float, force: bool) -> Task:
    """Mark the task done: by its claimer, or by anyone with `force`."""

    def edit(task: Task) -> Task:
        if task["state"] == DONE:
            raise Finished(task)
        if not force:
            if task["state"] != CLAIMED:
                raise NotClaimed(task)
            if task.get("claimed_by") != by:
                raise NotYours(task)
        return {**task, "state": DONE, "done_at": now, "note": note}

    return change(state_dir, given, edit)


def release(state_dir: str, given: str, by: str | None, force: bool) -> Task:
    """Put a claimed task back to open: by its claimer, or by anyone with `force`."""

    def edit(task: Task) -> Task:
        if task["state"] == DONE:
            raise Finished(task)
        if task["state"] != CLAIMED:
            raise NotClaimed(task)
        if task.get("claimed_by") != by and not force:
            raise NotYours(task)
        return _opened(task)

    return change(state_dir, given, edit)


def reopen_orphans(state_dir: str, counts: Callable[[str], bool]) -> list[Task]:
    """Put back to open every task whose claimer no longer counts; the tasks reopened.

    Looked at without the lock first, so the common case (no orphan) writes nothing.
    """
    if not any(_orphan(t, counts) for t in every(state_dir)):
        return []
    reopened = []
    with _guard(state_dir):
        for task in every(state_dir):
            if _orphan(task, counts):
                atomic.write_json(_path(state_dir, task["id"]), _opened(task))
                reopened.append(task)
    return reopened


def _orphan(task: Task, counts: Callable[[str], bool]) -> bool:
    return task["state"] == CLAIMED and not counts(str(task.get("claimed_by")))


def release_all(state_dir: str, holder: str) -> list[Task]:
    """Put back to open every task `holder` claimed (when it ends); the tasks released."""
    return reopen_orphans(state_dir, lambda claimer: claimer != holder)


def claimed_by(state_dir: str) -> dict[str, list[Task]]:
    """Claimed tasks by claimer session id (liveness not judged here)."""
    held: dict[str, list[Task]] = {}
    for task in every(state_dir):
        if task["state"] == CLAIMED and isinstance(task.get("claimed_by"), str):
            held.setdefault(task["claimed_by"], []).append(task)
    return held


def transfer(state_dir: str, old: str, new: str, name: str) -> list[Task]:
    """Give every task `old` claimed to `new` (a session /clear replaced); the tasks moved."""
    moved = []
    with _guard(state_dir):
        for task in every(state_dir):
            if task["state"] == CLAIMED and task.get("claimed_by") == old:
                task = {**task, "claimed_by": new, "claimed_by_name": name}
                atomic.write_json(_path(state_dir, task["id"]), task)
                moved.append(task)
    return moved
