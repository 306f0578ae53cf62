"""`huddle task add|list|claim|done|release`: the repository's shared task board."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any

from huddle.cli.errors import UserError
from huddle.cli.here import Here, here, holder_of, iso, sender_of
from huddle.display import ago, clean
from huddle.peers import liveness, sessions
from huddle.store import senders, tasks
from huddle.talk import messages
from huddle.vocab import CLAIMED, DONE

TITLE_LIMIT = 200
DETAIL_LIMIT = 4000


def live(state_dir: str, session_id: str, now: float) -> bool:
    """Whether a claimer still holds its task: its session's heartbeat says it is live."""
    return liveness.live_record(state_dir, session_id, now) is not None


def _counts(h: Here, now: float) -> Callable[[str], bool]:
    return lambda session_id: live(h.state_dir, session_id, now)


def add(title: str, detail: str) -> int:
    h = here()
    title = clean(title.strip(), TITLE_LIMIT)
    if not title:
        raise UserError('say what: huddle task add "fix the login form" [--detail TEXT]')
    holder, name = holder_of(h)
    creator = None if holder.startswith("user:") else holder
    task = tasks.add(
        h.state_dir, title, clean(detail.strip(), DETAIL_LIMIT), name, time.time(), creator
    )
    print(task["id"])
    return 0


def list_tasks(as_json: bool, show_all: bool) -> int:
    h = here()
    now = time.time()
    tasks.reopen_orphans(h.state_dir, _counts(h, now))
    shown = [t for t in tasks.every(h.state_dir) if show_all or t["state"] != DONE]
    if as_json:
        print(json.dumps([_row(t, h) for t in shown], indent=2, ensure_ascii=False))
        return 0
    if not shown:
        print("No tasks on the board." + ("" if show_all else " (--all shows done ones)"))
        return 0
    for t in shown:
        print(_line(t, h, now))
    return 0


def _row(task: dict[str, Any], h: Here) -> dict[str, Any]:
    stamps = ("created_at", "claimed_at", "done_at")
    return {
        **{k: v for k, v in task.items() if k not in stamps},
        **{k: iso(task[k]) if isinstance(task.get(k), (int, float)) else None for k in stamps},
        "mine": h.session_id is not None and task.get("claimed_by") == h.session_id,
    }


def _line(task: dict[str, Any], h: Here, now: float) -> str:
    mark = "* " if h.session_id is not None and task.get("claimed_by") == h.session_id else "  "
    state = task["state"]
    if state == CLAIMED:
        since = task.get("claimed_at")
        when = f" {ago(now - since)}" if isinstance(since, (int, float)) else ""
        state = f'claimed by "{clean(str(task.get("claimed_by_name")), 40)}"{when}'
    elif state == DONE and task.get("note"):
        state = f"done: {clean(str(task['note']), 80)}"
    detail = f"\n      {clean(str(task['detail']), 200)}" if task.get("detail") else ""
    return f'{mark}{task["id"]}  {state}  "{clean(task["title"], 80)}"{detail}'


def claim(given: str) -> int:
    h = here()
    if h.session_id is None:
        raise UserError(
            "a task is claimed by a Claude Code session, not from a terminal: "
            "ask a session to run /huddle:task claim ID"
        )
    now = time.time()
    if not live(h.state_dir, h.session_id, now):
        # A claim by a session with no live heartbeat would be reopened at the next look.
        raise UserError(
            f"session {h.session_id[:8]} is not a live huddle session in this repository"
        )
    _, name = holder_of(h)
    try:
        task = tasks.claim(h.state_dir, given, h.session_id, name, now, _counts(h, now))
    except tasks.Taken as exc:
        raise UserError(
            f'task {exc.task["id"]} is claimed by session "{exc.task.get("claimed_by_name")}"'
            f'; ask with `huddle send {exc.task.get("claimed_by_name")} "..."`'
        ) from None
    except tasks.TaskError as exc:
        raise UserError(str(exc)) from None
    print(f'claimed task {task["id"]} "{clean(task["title"], 80)}" for "{name}"')
    return 0


def done(given: str, note: str, force: bool) -> int:
    h = here()
    note = clean(note.strip(), DETAIL_LIMIT)
    try:
        task = tasks.finish(h.state_dir, given, h.session_id, note, time.time(), force)
    except tasks.NotYours as exc:
        raise UserError(
            f'task {exc.task["id"]} is claimed by "{exc.task.get("claimed_by_name")}", not you;'
            " --force marks it done anyway"
        ) from None
    except tasks.NotClaimed as exc:
        raise UserError(
            f"task {exc.task['id']} is not claimed: claim it first, or --force marks it done"
        ) from None
    except tasks.TaskError as exc:
        raise UserError(str(exc)) from None
    told = _tell(h, task)
    print(f'task {task["id"]} "{clean(task["title"], 80)}" is done; {told}')
    return 0


def _tell(h: Here, task: dict[str, Any]) -> str:
    """Tell every other session, at its next prompt; what to print about it."""
    text = f'task {task["id"]} "{task["title"]}" is done'
    if task.get("note"):
        text += f": {task['note']}"
    everyone = sessions.load_all(h.state_dir, time.time())
    try:
        _, recipients = messages.note(h.state_dir, sender_of(h, everyone), everyone, text)
    except (senders.Throttled, senders.Repeated):
        print("huddle: the note to the other sessions was not sent (too many)", file=sys.stderr)
        return "the other sessions were not told"
    return f"told {len(recipients)} other session(s)"


def release(given: str, force: bool) -> int:
    h = here()
    try:
        task = tasks.release(h.state_dir, given, h.session_id, force)
    except tasks.NotYours as exc:
        raise UserError(
            f'task {exc.task["id"]} is claimed by "{exc.task.get("claimed_by_name")}", not you;'
            " --force releases it anyway"
        ) from None
    except tasks.TaskError as exc:
        raise UserError(str(exc)) from None
    print(f'task {task["id"]} "{clean(task["title"], 80)}" is open again')
    return 0
