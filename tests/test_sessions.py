"""sessions: judging liveness from pid, start time, host and age; registering; names; sweeping.

Liveness is shown with real processes (tests.helpers.StandIn) and staleness without waiting:
records for dead pids, reused pids and other hosts are written by hand and aged with os.utime.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from huddle.peers import procs, sessions
from huddle.repo import gitfiles
from huddle.store import atomic, heartbeats, layout, names
from huddle.store.records import Heartbeat
from huddle.vocab import ENDED as STATE_ENDED
from huddle.vocab import GONE as STATE_GONE
from huddle.vocab import IDLE as STATE_IDLE
from huddle.vocab import UNVERIFIED_LIVE_FOR
from huddle.vocab import WORKING as STATE_WORKING
from tests.helpers import StandIn, add_worktree, git, make_record, make_repo, new_session_id

OTHER_HOST = "another-machine.invalid"


@pytest.fixture
def shop(tmp_path, monkeypatch):
    """An enabled-looking repository: its location and its state directory."""
    monkeypatch.setenv("CLAUDE_PLUGIN_DATA", str(tmp_path / "data"))
    main = make_repo(tmp_path / "shop")
    loc = gitfiles.locate(main)
    state = Path(loc.state_dir)
    state.mkdir(parents=True)
    return loc, state


@pytest.fixture
def dead_pid():
    """The pid of a process that has exited and been reaped."""
    proc = StandIn()
    proc.kill()
    return proc.pid


def put(state: Path, record: Heartbeat, *, claim: bool = True) -> Heartbeat:
    """Store a record as its session would, its file aged to its last activity."""
    if claim:
        assert names.claim(state, record.name, record.session_id, lambda h: True)
    heartbeats.write(state, record)
    stamp = record.last_activity
    os.utime(heartbeats.path_for(state, record.session_id), (stamp, stamp))
    return record


def of(proc: StandIn) -> dict:
    """The pid fields of a record made by the process `proc`."""
    return {"pid": proc.pid, "pid_start": procs.start_time(proc.pid)}


# --- judge --------------------------------------------------------------------------------------


def test_running_process_is_live_however_old_its_record():
    now = time.time()
    with StandIn() as proc:
        record = make_record(**of(proc), state=STATE_WORKING, last_activity=now - 30 * 86400)
        judged = sessions.judge(record, now)
        assert judged.live and judged.state == STATE_WORKING


def test_killed_process_is_gone():
    now = time.time()
    with StandIn() as proc:
        record = make_record(**of(proc), state=STATE_WORKING, last_activity=now)
        assert sessions.judge(record, now).live
        proc.kill()
    judged = sessions.judge(record, now)
    assert not judged.live and judged.state == STATE_GONE


def test_reused_pid_is_gone():
    now = time.time()
    with StandIn() as proc:
        real = procs.start_time(proc.pid)
        assert real is not None
        record = make_record(pid=proc.pid, pid_start=f"{real}0", last_activity=now)
        judged = sessions.judge(record, now)
        assert not judged.live and judged.state == STATE_GONE


def test_other_host_is_live_while_recent():
    now = time.time()
    fresh = make_record(
        host=OTHER_HOST,
        pid=1,
        pid_start="1",
        last_activity=now - UNVERIFIED_LIVE_FOR + 60,
    )
    assert sessions.judge(fresh, now).live
    old = make_record(
        host=OTHER_HOST,
        pid=1,
        pid_start="1",
        last_activity=now - UNVERIFIED_LIVE_FOR - 60,
    )
    judged = sessions.judge(old, now)
    assert not judged.live and judged.state == STATE_GONE


def test_other_host_age_comes_from_the_file_too(shop):
    _, state = shop
    now = time.time()
    old = now - UNVERIFIED_LIVE_FOR - 60
    record = put(state, make_record(host=OTHER_HOST, pid=1, pid_start="1", last_activity=old))
    [judged] = sessions.load_all(state, now)
    assert not judged.live and judged.state == STATE_GONE
    # A touch is activity even though the record's field still says otherwise.
    assert heartbeats.touch(state, record.session_id, now - 60)
    [judged] = sessions.load_all(state, now)
    assert judged.live and judged.state == STATE_IDLE


def test_record_without_pid_is_judged_by_age():
    now = time.time()
    assert sessions.judge(make_record(pid=None, last_activity=now - 60), now).live
    old = make_record(pid=None, last_activity=now - UNVERIFIED_LIVE_FOR - 1)
    assert not sessions.judge(old, now).live


def test_ended_stays_ended():
    now = time.time()
    with StandIn() as proc:
        for record in (
            make_record(**of(proc), state=STATE_ENDED, ended_at=now),
            make_record(host=OTHER_HOST, pid=1, state=STATE_ENDED, ended_at=now),
            make_record(pid=None, state=STATE_ENDED, ended_at=now),
        ):
            judged = sessions.judge(record, now)
            assert not judged.live and judged.state == STATE_ENDED


def test_load_all_skips_unreadable_and_orders_by_activity(shop, dead_pid):
    _, state = shop
    now = time.time()
    with StandIn() as proc:
        older = put(state, make_record(name="older", **of(proc), last_activity=now - 500))
        newer = put(
            state, make_record(name="newer", pid=dead_pid, pid_start="5", last_activity=now - 100)
        )
        broken = new_session_id()
        Path(heartbeats.path_for(state, broken)).write_text("{torn")
        found = sessions.load_all(state, now)
        assert [s.session_id for s in found] == [newer.session_id, older.session_id]
        assert [s.live for s in found] == [False, True]
        assert [s.session_id for s in sessions.live_peers(state, "me", now)] == [older.session_id]
        assert sessions.live_peers(state, older.session_id, now) == []
    log = (Path(os.environ["CLAUDE_PLUGIN_DATA"]) / "huddle.log").read_text()
    assert broken in log


# --- register and default names -----------------------------------------------------------------


def test_register_writes_a_full_record(shop):
    loc, state = shop
    sid = new_session_id()
    now = time.time()
    with StandIn() as proc:
        record = sessions.register(state, sid, loc, str(loc.worktree), proc.pid, now)
        assert record.pid == proc.pid
        assert record.pid_start == procs.start_time(proc.pid)
        on_disk = heartbeats.read(state, sid)
        assert sessions.judge(on_disk, now).live
    assert record.name == "main" and names.holder(state, "main") == sid
    assert record.host == procs.host()
    assert Path(record.worktree) == Path(loc.worktree) and record.branch == "main"
    assert record.state == STATE_IDLE and record.started_at == record.last_activity == now
    assert on_disk.name == "main" and on_disk.session_id == sid


def test_register_without_pid(shop):
    loc, state = shop
    record = sessions.register(state, new_session_id(), loc, "/x", None, time.time())
    assert record.pid is None and record.pid_start is None


def test_resume_keeps_name_task_and_start(shop):
    loc, state = shop
    sid = new_session_id()
    t0 = time.time() - 1000
    first = sessions.register(state, sid, loc, str(loc.worktree), None, t0)
    assert sessions.rename(state, first, "db-work", t0) == "db-work"
    first.task = "move the schema"
    heartbeats.write(state, first)
    git(Path(loc.worktree), "checkout", "-q", "-b", "elsewhere")
    t1 = t0 + 500
    again = sessions.register(state, sid, loc, str(loc.worktree), None, t1)
    assert again.name == "db-work"
    assert again.task == "move the schema"
    assert again.started_at == t0
    assert again.last_activity == t1
    assert again.branch == "elsewhere"
    assert names.holder(state, "db-work") == sid
    assert names.holder(state, "main") is None


def test_second_live_session_on_the_same_branch_counts_up(shop):
    loc, state = shop
    now = time.time()
    a = sessions.register(state, new_session_id(), loc, "/x", None, now)
    b = sessions.register(state, new_session_id(), loc, "/x", None, now)
    assert (a.name, b.name) == ("main", "main-2")


def test_gone_session_gives_up_its_name(shop, dead_pid):
    loc, state = shop
    now = time.time()
    gone = sessions.register(state, new_session_id(), loc, "/x", dead_pid, now)
    assert gone.name == "main"
    newcomer = sessions.register(state, new_session_id(), loc, "/x", None, now)
    assert newcomer.name == "main"
    assert names.holder(state, "main") == newcomer.session_id
    # The gone session comes back (a resume): its old name is taken by a live one now.
    back = sessions.register(state, gone.session_id, loc, "/x", None, now + 1)
    assert back.name == "main-2"
    assert names.holder(state, "main") == newcomer.session_id


def test_register_replaces_an_unreadable_record(shop):
    loc, state = shop
    sid = new_session_id()
    Path(heartbeats.path_for(state, sid)).write_text('{"session_id": 7}')
    record = sessions.register(state, sid, loc, "/x", None, time.time())
    assert heartbeats.read(state, sid).name == record.name == "main"
    log = (Path(os.environ["CLAUDE_PLUGIN_DATA"]) / "huddle.log").read_text()
    assert "unreadable" in log and sid in log


def test_default_name(shop):
    loc, _ = shop
    folder = os.path.basename(loc.worktree)
    assert sessions.default_name(loc, "main") == "main"
    assert sessions.default_name(loc, "ui/fixes") == "ui/fixes"
    assert sessions.default_name(loc, "worktree-x") == "x"
    assert sessions.default_name(loc, "detached@abc1234") == folder == "shop"
    assert sessions.default_name(loc, "?") == folder


def test_register_names_from_branch_worktree_and_detached_head(shop, tmp_path):
    loc, state = shop
    main = Path(loc.worktree)
    now = time.time()
    ui = add_worktree(main, tmp_path / "shop-ui", "ui/fixes")
    claude_w = add_worktree(main, main / ".claude" / "worktrees" / "x", "worktree-x")
    detached = add_worktree(main, tmp_path / "review", "review-branch")
    git(detached, "checkout", "-q", "--detach")
    got = {}
    for where in (ui, claude_w, detached):
        here = gitfiles.locate(where)
        assert Path(here.state_dir) == state
        got[where.name] = sessions.register(
            state, new_session_id(), here, str(where), None, now
        ).name
    assert got == {"shop-ui": "ui-fixes", "x": "x", "review": "review"}


def test_follow_tracks_branch_and_cwd(shop):
    loc, state = shop
    record = sessions.register(state, new_session_id(), loc, str(loc.worktree), None, 1.0)
    assert not sessions.follow(record, loc, str(loc.worktree), 2.0)
    assert record.last_activity == 2.0
    git(Path(loc.worktree), "checkout", "-q", "-b", "next")
    assert sessions.follow(record, loc, str(loc.worktree), 3.0)
    assert record.branch == "next"
    assert sessions.follow(record, loc, "/elsewhere", 4.0)
    assert record.cwd == "/elsewhere"


def test_current_pid(monkeypatch):
    for value, expected in (("123", 123), ("", None), ("abc", None), ("0", None), ("-5", None)):
        monkeypatch.setenv("CLAUDE_PID", value)
        assert sessions.current_pid() == expected
    monkeypatch.delenv("CLAUDE_PID")
    assert sessions.current_pid() is None


# --- rename -------------------------------------------------------------------------------------


def test_rename_to_a_live_sessions_name_is_refused(shop):
    loc, state = shop
    now = time.time()
    with StandIn() as pa, StandIn() as pb:
        a = sessions.register(state, new_session_id(), loc, "/x", pa.pid, now)
        b = sessions.register(state, new_session_id(), loc, "/x", pb.pid, now)
        assert (a.name, b.name) == ("main", "main-2")
        with pytest.raises(names.NameTaken):
            sessions.rename(state, b, "Main", now)
        assert b.name == "main-2"
        assert heartbeats.read(state, b.session_id).name == "main-2"
        assert names.holder(state, "main") == a.session_id
        assert names.holder(state, "main-2") == b.session_id


def test_rename_claims_the_new_name_and_releases_the_old(shop):
    loc, state = shop
    now = time.time()
    record = sessions.register(state, new_session_id(), loc, "/x", None, now)
    assert sessions.rename(state, record, "Review Bot!", now) == "review-bot"
    assert record.name == "review-bot"
    assert heartbeats.read(state, record.session_id).name == "review-bot"
    assert names.holder(state, "review-bot") == record.session_id
    assert names.holder(state, "main") is None
    # The released name is free for the next session.
    other = sessions.register(state, new_session_id(), loc, "/x", None, now)
    assert other.name == "main"


def test_rename_to_own_name_and_to_nothing(shop):
    loc, state = shop
    now = time.time()
    record = sessions.register(state, new_session_id(), loc, "/x", None, now)
    assert sessions.rename(state, record, "MAIN", now) == "main"
    assert names.holder(state, "main") == record.session_id
    with pytest.raises(ValueError):
        sessions.rename(state, record, "!!!", now)
    assert names.holder(state, "main") == record.session_id


def test_rename_takes_the_name_of_a_session_that_has_gone(shop):
    loc, state = shop
    now = time.time()
    with StandIn() as proc:
        other = sessions.register(state, new_session_id(), loc, "/x", proc.pid, now)
        me = sessions.register(state, new_session_id(), loc, "/x", None, now)
        assert (other.name, me.name) == ("main", "main-2")
        proc.kill()
    assert sessions.rename(state, me, "main", now) == "main"
    assert names.holder(state, "main") == me.session_id
    assert names.holder(state, "main-2") is None


def test_rename_takes_a_name_whose_holder_has_no_record(shop):
    loc, state = shop
    now = time.time()
    ghost = new_session_id()
    assert names.claim(state, "free", ghost, lambda h: False)
    me = sessions.register(state, new_session_id(), loc, "/x", None, now)
    assert sessions.rename(state, me, "free", now) == "free"
    assert names.holder(state, "free") == me.session_id


# --- sweep --------------------------------------------------------------------------------------


def test_sweep_removes_old_ended_and_gone_records_only(shop, dead_pid):
    _, state = shop
    now = time.time()
    old = now - sessions.SWEEP_AFTER - 60
    recent = now - 60
    with StandIn() as proc:
        old_ended = put(
            state, make_record(name="old-ended", state=STATE_ENDED, ended_at=old, last_activity=old)
        )
        old_gone = put(
            state, make_record(name="old-gone", pid=dead_pid, pid_start="1", last_activity=old)
        )
        old_other_host = put(
            state, make_record(name="far", host=OTHER_HOST, pid=1, last_activity=old)
        )
        recent_ended = put(
            state,
            make_record(
                name="recent-ended", state=STATE_ENDED, ended_at=recent, last_activity=recent
            ),
        )
        recent_gone = put(
            state,
            make_record(name="recent-gone", pid=dead_pid, pid_start="1", last_activity=recent),
        )
        old_live = put(state, make_record(name="old-live", **of(proc), last_activity=old))
        # A record whose name has since been claimed by another session keeps that claim.
        holder = new_session_id()
        assert names.claim(state, "shared", holder, lambda h: False)
        old_shared = put(
            state, make_record(name="shared", state=STATE_ENDED, last_activity=old), claim=False
        )

        everyone = sessions.load_all(state, now)
        assert len(everyone) == 7
        assert sessions.sweep(state, everyone, now) == 4

        left = {s.session_id for s in sessions.load_all(state, now)}
        assert left == {recent_ended.session_id, recent_gone.session_id, old_live.session_id}
        for gone in (old_ended, old_gone, old_other_host, old_shared):
            assert not Path(heartbeats.path_for(state, gone.session_id)).exists()
        assert names.holder(state, "old-ended") is None
        assert names.holder(state, "old-gone") is None
        assert names.holder(state, "far") is None
        assert names.holder(state, "shared") == holder
        assert names.holder(state, "recent-ended") == recent_ended.session_id
        assert names.holder(state, "recent-gone") == recent_gone.session_id
        assert names.holder(state, "old-live") == old_live.session_id


def test_sweep_removes_old_temp_files(shop):
    _, state = shop
    now = time.time()
    folder = state / layout.NAMES
    folder.mkdir()
    old_tmp = [state / ".a.json.1.2.tmp", folder / ".main.3.4.tmp"]
    fresh_tmp = state / ".b.json.5.6.tmp"
    for path in (*old_tmp, fresh_tmp):
        path.write_text("partial")
    for path in old_tmp:
        os.utime(path, (now - 7200, now - 7200))
    assert sessions.sweep(state, [], now) == 0
    assert not any(p.exists() for p in old_tmp)
    assert fresh_tmp.exists()


def test_sweep_keeps_a_record_that_can_still_be_read(shop):
    """Sweeping works from what load_all saw; an unreadable file is left for a person."""
    _, state = shop
    now = time.time()
    sid = new_session_id()
    path = Path(heartbeats.path_for(state, sid))
    atomic.write_json(path, {"session_id": sid})
    os.utime(path, (now - sessions.SWEEP_AFTER * 2,) * 2)
    assert sessions.sweep(state, sessions.load_all(state, now), now) == 0
    assert path.exists()
