"""Sessions that continue another: /clear and forks.

/clear ends a session and starts a new one (a new id) in the same Claude Code process. The old
session's SessionEnd says reason "clear"; it keeps what it holds, and the new session's
SessionStart (source "clear") takes it all over: name, task summary, locks, leases and claimed
tasks, so clearing the context never drops a lock.

A fork (`claude --resume ID --fork-session`, or a fork inside a running session) is a new
session with its own id. It inherits nothing: it is told what its parent holds instead.
"""

from __future__ import annotations

from huddle.peers import procs
from huddle.store import atomic, heartbeats, leases, locks, tasks
from huddle.store.ids import is_session_id
from huddle.vocab import END_CLEAR, END_TAKEN_OVER

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    Record = dict[str, Any]

ADOPT_WITHIN = 600.0  # seconds between the old session's end and the new one's start
ORIGIN_WIDTH = 560  # what a fork is told of its parent, in characters


def _same_process(record: Record, pid: int | None, started: str | None) -> bool:
    return (
        pid is not None
        and record.get("pid") == pid
        and record.get("pid_start") == started
        and record.get("host") == procs.host()
    )


def predecessor(state_dir: str, me: str, pid: int | None, now: float) -> Record | None:
    """The session /clear just replaced with `me`, in the same process; None if there is none."""
    started = procs.start_time(pid) if pid else None
    found = [
        r
        for r in heartbeats.scan_raw(state_dir)
        if r.get("session_id") != me
        and r.get("end_reason") == END_CLEAR
        and isinstance(r.get("ended_at"), (int, float))
        and now - r["ended_at"] < ADOPT_WITHIN
        and _same_process(r, pid, started)
    ]
    return max(found, key=lambda r: r["ended_at"]) if found else None


def take_over(state_dir: str, old: Record, me: Record, now: float) -> None:
    """Move `old`'s locks, leases and claimed tasks to `me`, and mark `old` as taken over."""
    from huddle.peers.holdings import file_keys

    new, name = me["session_id"], str(me.get("name", "?"))
    locks.transfer(state_dir, old["session_id"], new, name)
    leases.transfer(state_dir, file_keys(old), old["session_id"], new, str(me.get("worktree")), now)
    tasks.transfer(state_dir, old["session_id"], new, name)

    def mark(record: Record) -> None:
        record["end_reason"] = END_TAKEN_OVER

    try:
        heartbeats.update(state_dir, old["session_id"], mark)
    except (FileNotFoundError, atomic.Corrupt):
        pass


def fork_parent(state_dir: str, me: str, pid: int | None) -> Record | None:
    """The session this fork was made from: named by `--resume ID` on the client's command
    line, or another session of the same process (a fork made inside a running session)."""
    parent = _resumed_id(pid) if pid else None
    if parent and parent != me:
        try:
            return heartbeats.read_raw(state_dir, parent)
        except (OSError, ValueError):
            return None
    started = procs.start_time(pid) if pid else None
    found = [
        r
        for r in heartbeats.scan_raw(state_dir)
        if r.get("session_id") != me and _same_process(r, pid, started)
    ]
    return max(found, key=lambda r: r.get("last_activity") or 0) if found else None


def _resumed_id(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            args = handle.read(1 << 16).decode("utf-8", "replace").split("\0")
    except OSError:
        return None
    for index, arg in enumerate(args):
        value = None
        if arg in ("--resume", "-r") and index + 1 < len(args):
            value = args[index + 1]
        elif arg.startswith("--resume="):
            value = arg.split("=", 1)[1]
        if value and is_session_id(value):
            return value
    return None


def fork_origin_lines(state_dir: str, parent: Record, now: float) -> str:
    """What a fork is told about its parent: who it is and what it holds (not the fork's)."""
    from huddle.display import clean
    from huddle.peers import liveness
    from huddle.peers.holdings import listing, task_words, who

    head = f"You are a new session forked from {who(parent)}."
    if not liveness.is_live(parent, now):
        return head + " That session is no longer live, so it holds nothing now."
    parent_id = parent["session_id"]
    held = [clean(str(lock["pattern"]), 200) for lock in locks.held_by(state_dir, parent_id)]
    claimed = tasks.claimed_by(state_dir).get(parent_id, [])
    if not held and not claimed:
        return head + " It holds no locks or tasks."
    name = str(parent.get("name", "?"))
    warning = (
        ". These are its, not yours: a fork inherits no locks or tasks. Agree with it "
        f"(`huddle send {name} ...`) before working on them."
    )
    room = ORIGIN_WIDTH - len(head) - len(" It still holds ") - len(warning)
    parts = []
    if held:
        parts.append("locks on " + listing(held, width=room // 2 if claimed else room))
    if claimed:
        words = [task_words(t) for t in claimed]
        parts.append("tasks " + listing(words, width=room - sum(len(p) + 2 for p in parts)))
    return head + " It still holds " + "; ".join(parts) + warning
