"""`huddle sessions`: the repository's sessions as a table, or as JSON."""

from __future__ import annotations

import json
import os
import time
from typing import Any

from huddle.cli.here import here, iso
from huddle.display import ago, clean, worktree_label
from huddle.peers import sessions
from huddle.peers.sessions import Session
from huddle.store import config, locks, records, tasks

RECENT_FILES = 3
RECENTLY_LEFT = 3600.0


def as_json(
    session: Session,
    main_worktree: str,
    me: str | None,
    now: float,
    held: dict[str, list[dict[str, Any]]],
    lease_ttl: float,
    claimed: dict[str, list[dict[str, Any]]] | None = None,
    state_dir: str | None = None,
) -> dict[str, Any]:
    r = session.record
    mine = _claimed(session, claimed)
    return {
        "session_id": r.session_id,
        "name": r.name,
        "kind": r.kind or "claude-code",
        "current": r.session_id == me,
        "branch": r.branch,
        "worktree": r.worktree,
        "worktree_relative": worktree_label(r.worktree, main_worktree),
        "cwd": r.cwd,
        "state": session.state,
        "live": session.live,
        "last_activity": iso(r.last_activity),
        "idle_seconds": round(max(0.0, now - r.last_activity), 1),
        "started_at": iso(r.started_at),
        "ended_at": iso(r.ended_at),
        "task": r.task or _claimed_words(mine),
        "claimed_tasks": [{"id": t["id"], "title": t["title"]} for t in mine],
        "files": [{"path": f.path, "at": iso(f.at)} for f in r.files],
        "leases": [f.path for f in r.files if session.live and now - f.at < lease_ttl],
        "locks": [
            {"pattern": lk["pattern"], "until": iso(lk["expires"]), "reason": lk.get("reason", "")}
            for lk in held.get(r.session_id, [])
        ],
        "pid": r.pid,
        "host": r.host,
        "wakeable": state_dir is not None and session.live and wakeable(state_dir, session),
    }


def wakeable(state_dir: str, session: Session) -> bool:
    """Whether a companion runs for the session: what is sent to it can wake it when idle."""
    from huddle.peers.liveness import companion_of

    return companion_of(state_dir, session.record.to_json()) is not None


def run(as_json_output: bool, show_all: bool) -> int:
    h = here()
    now = time.time()
    everyone = sessions.load_all(h.state_dir, now, records.strict_or_cheap())
    main = str(h.location.main_worktree)
    shown = everyone if show_all else [s for s in everyone if s.live]
    held = locks_by_holder(h.state_dir, now)
    claimed = tasks.claimed_by(h.state_dir)
    if as_json_output:
        ttl = config.load(h.state_dir)["lease_ttl"]
        rows = [as_json(s, main, h.session_id, now, held, ttl, claimed, h.state_dir) for s in shown]
        print(json.dumps(rows, indent=2))
        return 0
    if shown:
        print(table(shown, main, h.session_id, now, held, claimed, h.state_dir))
    else:
        print("No live sessions in this repository.")
    if show_all:
        print(worktree_lines(main, everyone))
    else:
        left = [s for s in everyone if not s.live and now - s.record.last_activity < RECENTLY_LEFT]
        if left:
            words = ", ".join(
                f"{s.name} ({s.state} {ago(now - s.record.last_activity)})" for s in left
            )
            print(f"Not live: {words}. `huddle sessions --all` lists them.")
    return 0


def worktree_lines(main: str, everyone: list[Session]) -> str:
    """Every worktree of the repository, as git lists them, with its live sessions."""
    from huddle.repo import worktrees

    live: dict[str, list[str]] = {}
    for s in everyone:
        if s.live:
            live.setdefault(os.path.realpath(s.record.worktree), []).append(s.name)
    try:
        found = worktrees.listing(main)
    except ImportError:
        return "\n(Listing worktrees needs GitPython, not installed here: see `huddle doctor`.)"
    rows = []
    for w in found:
        names = live.get(os.path.realpath(w.path), [])
        who = ", ".join(names) if names else ("(folder gone)" if w.missing else "no live session")
        rows.append([clean(worktree_label(w.path, main), 60), clean(w.branch, 40) or "-", who])
    widths = [max(len(row[i]) for row in rows) for i in range(2)] if rows else [0, 0]
    lines = [f"  {a.ljust(widths[0])}  {b.ljust(widths[1])}  {c}" for a, b, c in rows]
    return "\n".join(["", "Worktrees of this repository:", *lines])


def _claimed(
    session: Session, claimed: dict[str, list[dict[str, Any]]] | None
) -> list[dict[str, Any]]:
    """The board's tasks this session holds; a session that is not live holds none."""
    return (claimed or {}).get(session.session_id, []) if session.live else []


def _claimed_words(mine: list[dict[str, Any]]) -> str:
    return "; ".join(f"task {t['id']}: {t['title']}" for t in mine)


def locks_by_holder(state_dir: str, now: float) -> dict[str, list[dict[str, Any]]]:
    held: dict[str, list[dict[str, Any]]] = {}
    for lk in locks.every(state_dir):
        if isinstance(lk.get("expires"), (int, float)) and lk["expires"] > now:
            held.setdefault(str(lk.get("holder")), []).append(lk)
    return held


def table(
    shown: list[Session],
    main: str,
    me: str | None,
    now: float,
    held: dict[str, list[dict[str, Any]]],
    claimed: dict[str, list[dict[str, Any]]] | None = None,
    state_dir: str | None = None,
) -> str:
    header = ["", "NAME", "BRANCH", "WORKTREE", "STATE", "ACTIVE", "TASK", "FILES"]
    rows = [header]
    asleep = False  # a live session that nothing can wake
    for s in shown:
        r = s.record
        locked = [f"locked:{lk['pattern']}" for lk in held.get(r.session_id, [])]
        files = locked + [f.path for f in r.files[:RECENT_FILES]]
        if len(r.files) > RECENT_FILES:
            files.append(f"+{len(r.files) - RECENT_FILES}")
        rows.append(
            [
                "*" if r.session_id == me else "",
                r.name + (f" [{clean(r.kind, 20)}]" if r.kind else ""),
                clean(r.branch, 40),
                clean(worktree_label(r.worktree, main), 40),
                s.state + (" (no wake)" if (no_wake := _no_wake(state_dir, s)) else ""),
                ago(now - r.last_activity),
                clean(r.task or _claimed_words(_claimed(s, claimed)), 40) or "-",
                clean(", ".join(files), 60) or "-",
            ]
        )
        asleep = asleep or no_wake
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    if me is not None and any(s.session_id == me for s in shown):
        lines.append("* this session")
    if asleep:
        lines.append(
            "(no wake): no companion runs for it (a `claude -p` run, or a client without plugin "
            "monitors), so what is sent to it waits for its next prompt"
        )
    return "\n".join(lines)


def _no_wake(state_dir: str | None, session: Session) -> bool:
    """A live Claude Code session that nothing can wake (another agent polls for its own)."""
    if state_dir is None or not session.live or session.record.kind:
        return False
    return not wakeable(state_dir, session)
