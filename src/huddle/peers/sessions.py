"""Sessions of a repository: registering one, following its state, judging whether it is live."""

from __future__ import annotations

import os
from dataclasses import dataclass

from huddle import log
from huddle.peers import liveness, procs
from huddle.repo import gitfiles
from huddle.repo.gitfiles import Location
from huddle.store import atomic, heartbeats, names
from huddle.store.records import Heartbeat, load
from huddle.vocab import GONE, IDLE, OVER, WORKING

# Ended and gone records are removed this long after their last activity.
SWEEP_AFTER = 24 * 3600.0


@dataclass(frozen=True)
class Session:
    record: Heartbeat
    live: bool
    state: str  # working, idle, ended or gone

    @property
    def session_id(self) -> str:
        return self.record.session_id

    @property
    def name(self) -> str:
        return self.record.name


def judge(record: Heartbeat, now: float) -> Session:
    if record.state in OVER:
        return Session(record, False, record.state)
    live = liveness.is_live(record.to_json(), now)
    return Session(record, live, record.state if live else GONE)


def load_all(state_dir: str, now: float, parse: heartbeats.Parser = load) -> list[Session]:
    """Every readable session of the repository, most recently active first."""
    found = []
    for item in heartbeats.scan(state_dir, parse):
        if isinstance(item, heartbeats.Unreadable):
            log.write(f"skipping the heartbeat of {item.session_id}: {item.reason}")
            continue
        found.append(judge(item, now))
    found.sort(key=lambda s: s.record.last_activity, reverse=True)
    return found


def live_peers(state_dir: str, me: str, now: float) -> list[Session]:
    return [s for s in load_all(state_dir, now) if s.live and s.session_id != me]


def default_name(location: Location, branch: str) -> str:
    if branch.startswith("detached@") or branch == "?":
        return os.path.basename(location.worktree)
    if branch.startswith("worktree-"):  # the branch `claude -w NAME` creates
        return branch[len("worktree-") :]
    return branch


def register(
    state_dir: str,
    session_id: str,
    location: Location,
    cwd: str,
    pid: int | None,
    now: float,
    keep_state: bool = False,
    kind: str = "",
    name: str | None = None,
) -> Heartbeat:
    """Write the session's heartbeat for a start or a resume, keeping what it already chose
    (and, with `keep_state`, whether it is working or idle). `kind` and `name` are for agents
    that are not Claude Code: what they are, and the name they would like."""
    branch = gitfiles.branch(location)
    try:
        previous: Heartbeat | None = heartbeats.read(state_dir, session_id)
    except FileNotFoundError:
        previous = None
    except (OSError, atomic.Corrupt) as exc:
        log.write(f"replacing the unreadable heartbeat of {session_id}: {exc}")
        previous = None

    def is_stale(holder: str) -> bool:
        return _is_stale_holder(state_dir, holder, now)

    if previous is not None and names.claim(state_dir, previous.name, session_id, is_stale):
        name = previous.name
    else:
        wanted = name or default_name(location, branch)
        name = names.claim_unique(state_dir, wanted, session_id, is_stale)
    record = Heartbeat(
        session_id=session_id,
        name=name,
        pid=pid,
        pid_start=procs.start_time(pid) if pid else None,
        host=procs.host(),
        worktree=location.worktree,
        branch=branch,
        cwd=cwd,
        started_at=previous.started_at if previous else now,
        last_activity=now,
        state=previous.state
        if keep_state and previous is not None and previous.state in (WORKING, IDLE)
        else IDLE,
        task=previous.task if previous else "",
        files=previous.files if previous else [],
        context_since=previous.context_since if previous else None,
        contacts=previous.contacts if previous else [],
        kind=kind,
    )
    heartbeats.write(state_dir, record)
    return record


def _is_stale_holder(state_dir: str, holder: str, now: float) -> bool:
    try:
        record = heartbeats.read(state_dir, holder)
    except (OSError, atomic.Corrupt):
        return True
    return not judge(record, now).live


def follow(record: Heartbeat, location: Location, cwd: str, now: float) -> bool:
    """Bring branch, worktree and cwd up to date; True when something changed."""
    branch = gitfiles.branch(location)
    worktree = location.worktree
    changed = (record.branch, record.worktree, record.cwd) != (branch, worktree, cwd)
    record.branch, record.worktree, record.cwd = branch, worktree, cwd
    record.last_activity = now
    return changed


def rename(state_dir: str, record: Heartbeat, wanted: str, now: float) -> str:
    """Give the session a new name; raises names.NameTaken if another live session has it."""
    new = names.slug(wanted)
    if not new:
        raise ValueError("a name needs at least one letter or digit")
    if new == record.name:
        return new
    if not names.claim(
        state_dir, new, record.session_id, lambda h: _is_stale_holder(state_dir, h, now)
    ):
        raise names.NameTaken(new)
    old = record.name
    record.name = new
    heartbeats.write(state_dir, record)
    names.release(state_dir, old, record.session_id)
    return new


def sweep(state_dir: str, everyone: list[Session], now: float) -> int:
    """Remove ended and gone sessions older than SWEEP_AFTER, with all that was theirs, and
    tidy the rest of the state directory."""
    from huddle.store import sweep as store_sweep

    removed = 0
    for session in everyone:
        if session.live or now - session.record.last_activity < SWEEP_AFTER:
            continue
        store_sweep.forget_session(state_dir, session.session_id, session.name)
        removed += 1
    store_sweep.sweep(state_dir, now, leases_after=SWEEP_AFTER)
    return removed


def current_pid() -> int | None:
    """The Claude Code process this hook or command runs under, from CLAUDE_PID."""
    try:
        pid = int(os.environ.get("CLAUDE_PID", ""))
    except ValueError:
        return None
    return pid if pid > 0 else None
