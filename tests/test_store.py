"""The disk primitives: atomic files, create-once, name claims and heartbeat files.

Races use real processes released together through a barrier; crashes use a child process
that dies with os._exit at a chosen step of the write.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from huddle.store import atomic, heartbeats, layout, names, tidy
from huddle.store.records import Heartbeat
from tests.helpers import ROOT, make_record, new_session_id

RACERS = 16
WAIT = 60  # seconds: a bound on a hung child, never a synchronisation


# --- helpers for racing processes (top level, so that child processes can import them) -----


def _race(target, args_per_racer: list[tuple]) -> list:
    """Run `target(*args)` in one process per args tuple, released together; return results."""
    # Forking is cheapest; a threaded test process must not fork (Python 3.12 warns), so then a
    # fork server starts the racers instead.
    method = "fork" if threading.active_count() == 1 else "forkserver"
    ctx = multiprocessing.get_context(method)
    barrier = ctx.Barrier(len(args_per_racer))
    results = ctx.Queue()
    procs = [
        ctx.Process(target=_report, args=(results, barrier, target, args))
        for args in args_per_racer
    ]
    for p in procs:
        p.start()
    try:
        got = [results.get(timeout=WAIT) for _ in procs]
    finally:
        for p in procs:
            p.join(WAIT)
            if p.is_alive():
                p.kill()
                p.join()
    for p in procs:
        assert p.exitcode == 0
    errors = [g for g in got if isinstance(g, str) and g.startswith("ERROR")]
    assert not errors, errors
    return got


def _report(results, barrier, target, args) -> None:
    try:
        barrier.wait(WAIT)
        results.put(target(*args))
    except BaseException as exc:  # noqa: BLE001 - the parent reports it
        results.put(f"ERROR {exc!r}")


def _create_once(path: str, index: int) -> tuple[int, bool, bytes]:
    data = _payload(index)
    made = atomic.create_exclusive(Path(path), data)
    with open(path, "rb") as handle:  # what any reader sees right after the call
        seen = handle.read()
    return index, made, seen


def _payload(index: int) -> bytes:
    return json.dumps({"writer": index, "pad": "x" * 50_000}).encode()


def _claim_unique(state: str, session_id: str) -> tuple[str, str]:
    return session_id, names.claim_unique(Path(state), "main", session_id, lambda h: False)


def _claim_stale(state: str, session_id: str, stale: str) -> tuple[str, bool]:
    return session_id, names.claim(Path(state), "main", session_id, lambda h: h == stale)


def leftovers(folder: Path) -> list[str]:
    """Hidden files other than the names folder's lock file, which stays by design."""
    return sorted(
        p.name for p in folder.iterdir() if p.name.startswith(".") and p.name != layout.GUARD
    )


# --- atomic -------------------------------------------------------------------------------------


def test_write_json_round_trip(tmp_path):
    path = tmp_path / "r.json"
    value = {"a": 1, "b": [1.5, None, True], "ü": "ünïcode", "nested": {"x": ""}}
    atomic.write_json(path, value)
    assert atomic.read_json_object(path) == value
    atomic.write_json(path, {"replaced": True}, durable=False)
    assert atomic.read_json_object(path) == {"replaced": True}
    assert leftovers(tmp_path) == []


def test_written_files_are_private(tmp_path):
    path = tmp_path / "r.json"
    old = os.umask(0)
    try:
        atomic.write_json(path, {})
        atomic.write_bytes(tmp_path / "b", b"x")
        assert atomic.create_exclusive(tmp_path / "c", b"x")
    finally:
        os.umask(old)
    for name in ("r.json", "b", "c"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600


CRASH_CHILD = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[1])
    from huddle.store import atomic
    step = sys.argv[3]
    def die(*args, **kwargs):
        os._exit(1)
    setattr(os, step, die)
    atomic.write_json(Path(sys.argv[2]), {"version": "new", "pad": "y" * 100000})
    os._exit(0)  # not reached: the write dies first
""")


@pytest.mark.parametrize("step", ["fsync", "replace"])
def test_crash_during_write_leaves_old_content_and_a_sweepable_temp(tmp_path, step):
    path = tmp_path / "record.json"
    atomic.write_json(path, {"version": "old"})
    done = subprocess.run(
        [sys.executable, "-c", CRASH_CHILD, str(ROOT / "src"), str(path), step],
        capture_output=True,
        timeout=WAIT,
    )
    assert done.returncode == 1, done.stderr
    assert atomic.read_json_object(path) == {"version": "old"}
    temps = [p for p in tmp_path.iterdir() if p != path]
    assert len(temps) == 1
    temp = temps[0]
    assert temp.name.startswith(".record.json.") and temp.name.endswith(".tmp")

    now = time.time()
    (tmp_path / "keep.tmp").write_text("not ours: no leading dot")
    assert tidy.remove_temp_files(tmp_path, older_than=3600, now=now) == 0  # too fresh
    assert temp.exists()
    os.utime(temp, (now - 7200, now - 7200))
    assert tidy.remove_temp_files(tmp_path, older_than=3600, now=now) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.tmp", "record.json"]
    assert atomic.read_json_object(path) == {"version": "old"}


def test_failed_write_cleans_up_and_reports_the_first_error(tmp_path, monkeypatch):
    path = tmp_path / "record.json"
    atomic.write_json(path, {"version": "old"})

    def refuse(src, dst):
        raise OSError("replace refused")

    monkeypatch.setattr(atomic.os, "replace", refuse)
    with pytest.raises(OSError, match="replace refused"):
        atomic.write_json(path, {"version": "new"})
    monkeypatch.undo()
    assert atomic.read_json_object(path) == {"version": "old"}
    assert leftovers(tmp_path) == []


def test_remove_temp_files_of_a_missing_folder(tmp_path):
    assert tidy.remove_temp_files(tmp_path / "nope", older_than=0, now=time.time()) == 0


@pytest.mark.parametrize(
    "content",
    [b'{"a": 1', b"", b"[1, 2]", b'"text"', b"null", b"\xff\xfe{}", b"{} {}"],
    ids=["truncated", "empty", "list", "string", "null", "not-utf8", "two-values"],
)
def test_read_json_object_rejects_what_is_not_one_object(tmp_path, content):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(atomic.Corrupt):
        atomic.read_json_object(path)


def test_read_json_object_rejects_oversized(tmp_path):
    path = tmp_path / "big.json"
    atomic.write_json(path, {"pad": "z" * 200})
    size = path.stat().st_size
    assert atomic.read_json_object(path, limit=size)["pad"] == "z" * 200
    with pytest.raises(atomic.Corrupt, match="larger"):
        atomic.read_json_object(path, limit=size - 1)


def test_read_json_object_of_missing_file_is_not_corrupt(tmp_path):
    with pytest.raises(FileNotFoundError):
        atomic.read_json_object(tmp_path / "missing.json")


def test_create_exclusive_creates_once(tmp_path):
    path = tmp_path / "claim"
    assert atomic.create_exclusive(path, b"first") is True
    assert atomic.create_exclusive(path, b"second") is False
    assert path.read_bytes() == b"first"
    assert leftovers(tmp_path) == []


def test_create_exclusive_race_has_one_winner(tmp_path):
    path = tmp_path / "claim.json"
    got = _race(_create_once, [(str(path), i) for i in range(RACERS)])
    winners = [index for index, made, _ in got if made]
    assert len(winners) == 1
    winner = _payload(winners[0])
    assert path.read_bytes() == winner
    # Every racer, loser or not, saw the winner's whole content, never an empty or partial file.
    assert all(seen == winner for _, _, seen in got)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["claim.json"]


# --- names --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("main", "main"),
        ("Feature/Login UI", "feature-login-ui"),
        ("--._x_.--", "x"),
        ("v1.2_rc", "v1.2_rc"),
        ("ünïcode", "n-code"),
        ("!!!", ""),
        ("", ""),
        ("../../etc/passwd", "etc-passwd"),
        ("a" * 40, "a" * 32),
        ("a" * 31 + "-b", "a" * 31),
    ],
)
def test_slug(text, expected):
    assert names.slug(text) == expected
    assert len(names.slug(text)) <= names.MAX_LENGTH


def test_claim_and_release(tmp_path):
    a, b = new_session_id(), new_session_id()
    assert names.claim(tmp_path, "main", a, lambda h: False)
    assert names.holder(tmp_path, "main") == a
    assert names.claim(tmp_path, "main", a, lambda h: False)  # already ours
    assert not names.claim(tmp_path, "main", b, lambda h: False)  # live holder keeps it
    assert names.holder(tmp_path, "main") == a
    names.release(tmp_path, "main", b)  # not the holder: nothing happens
    assert names.holder(tmp_path, "main") == a
    names.release(tmp_path, "main", a)
    assert names.holder(tmp_path, "main") is None
    assert not (tmp_path / layout.NAMES / "main").exists()
    names.release(tmp_path, "main", a)  # releasing twice is harmless
    assert names.claim(tmp_path, "main", b, lambda h: False)
    assert names.holder(tmp_path, "main") == b


def test_stale_holder_is_taken_over(tmp_path):
    gone, newcomer = new_session_id(), new_session_id()
    assert names.claim(tmp_path, "main", gone, lambda h: False)
    asked = []

    def is_stale(holder):
        asked.append(holder)
        return holder == gone

    assert names.claim(tmp_path, "main", newcomer, is_stale)
    assert asked == [gone]
    assert names.holder(tmp_path, "main") == newcomer
    assert leftovers(tmp_path / layout.NAMES) == []


def test_takeover_leaves_a_claim_made_while_it_decided(tmp_path):
    stale, quick, slow = new_session_id(), new_session_id(), new_session_id()
    assert names.claim(tmp_path, "main", stale, lambda h: False)

    def slow_to_decide(holder):
        if holder == stale:  # meanwhile another taker breaks the stale claim and wins
            assert names.claim(tmp_path, "main", quick, lambda h: h == stale)
        return holder == stale

    assert not names.claim(tmp_path, "main", slow, slow_to_decide)
    assert names.holder(tmp_path, "main") == quick
    assert leftovers(tmp_path / layout.NAMES) == []


def test_empty_claim_file_is_taken_over(tmp_path):
    (tmp_path / layout.NAMES).mkdir()
    (tmp_path / layout.NAMES / "main").write_text("")
    me = new_session_id()
    assert names.claim(tmp_path, "main", me, lambda h: False)
    assert names.holder(tmp_path, "main") == me


def test_garbage_claim_file_is_taken_over(tmp_path):
    (tmp_path / layout.NAMES).mkdir()
    (tmp_path / layout.NAMES / "main").write_text("not a session id")
    assert names.holder(tmp_path, "main") is None
    me = new_session_id()
    assert names.claim(tmp_path, "main", me, lambda h: False)
    assert names.holder(tmp_path, "main") == me


def test_claim_unique_counts_up(tmp_path):
    ids = [new_session_id() for _ in range(3)]
    got = [names.claim_unique(tmp_path, "Main", s, lambda h: False) for s in ids]
    assert got == ["main", "main-2", "main-3"]
    assert names.claim_unique(tmp_path, "main", ids[1], lambda h: False) == "main-2"
    assert names.claim_unique(tmp_path, "!!!", ids[0], lambda h: False) == "session"


def test_claim_unique_keeps_long_names_within_the_limit(tmp_path):
    long = "a" * 40
    first = names.claim_unique(tmp_path, long, new_session_id(), lambda h: False)
    second = names.claim_unique(tmp_path, long, new_session_id(), lambda h: False)
    assert first == "a" * 32
    assert second == "a" * 28 + "-2"
    assert len(second) <= names.MAX_LENGTH


def test_claim_unique_race_gives_distinct_names(tmp_path):
    ids = [new_session_id() for _ in range(RACERS)]
    got = dict(_race(_claim_unique, [(str(tmp_path), s) for s in ids]))
    assert sorted(got.values()) == sorted(["main"] + [f"main-{n}" for n in range(2, RACERS + 1)])
    for session_id, name in got.items():
        assert names.holder(tmp_path, name) == session_id
    assert leftovers(tmp_path / layout.NAMES) == []


def test_stale_claim_race_has_one_winner(tmp_path):
    stale = new_session_id()
    assert names.claim(tmp_path, "main", stale, lambda h: False)
    ids = [new_session_id() for _ in range(RACERS)]
    got = _race(_claim_stale, [(str(tmp_path), s, stale) for s in ids])
    winners = [s for s, won in got if won]
    assert len(winners) == 1
    assert names.holder(tmp_path, "main") == winners[0]
    assert leftovers(tmp_path / layout.NAMES) == []


# --- heartbeats ---------------------------------------------------------------------------------


def make_heartbeat(session_id: str, **changes) -> Heartbeat:
    return make_record(session_id, **{"host": "h", **changes})


def test_heartbeat_write_then_read(tmp_path):
    sid = new_session_id()
    record = make_heartbeat(sid, task="refactor", pid=123, pid_start="99")
    heartbeats.write(tmp_path, record)
    path = tmp_path / f"{sid}.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = heartbeats.read(tmp_path, sid)
    # Apart from last activity, which the file's mtime may have moved on a little.
    assert again.last_activity >= record.last_activity
    again.last_activity = record.last_activity
    assert again == record


def test_heartbeat_read_takes_last_activity_from_mtime_when_newer(tmp_path):
    sid = new_session_id()
    old = time.time() - 5000
    heartbeats.write(tmp_path, make_heartbeat(sid, last_activity=old))
    path = tmp_path / f"{sid}.json"
    os.utime(path, (old - 100, old - 100))
    assert heartbeats.read(tmp_path, sid).last_activity == old  # the field is newer here
    later = old + 1000
    assert heartbeats.touch(tmp_path, sid, later) is True
    assert heartbeats.read(tmp_path, sid).last_activity == later


def test_touch_of_missing_heartbeat(tmp_path):
    sid = new_session_id()
    assert heartbeats.touch(tmp_path, sid, time.time()) is False
    assert not (tmp_path / f"{sid}.json").exists()


def test_read_missing_heartbeat(tmp_path):
    with pytest.raises(FileNotFoundError):
        heartbeats.read(tmp_path, new_session_id())


def test_read_rejects_another_sessions_record(tmp_path):
    mine, other = new_session_id(), new_session_id()
    atomic.write_json(tmp_path / f"{mine}.json", make_heartbeat(other).to_json())
    with pytest.raises(atomic.Corrupt):
        heartbeats.read(tmp_path, mine)


def test_read_rejects_wrong_types(tmp_path):
    sid = new_session_id()
    data = make_heartbeat(sid).to_json()
    data["pid"] = "123"
    atomic.write_json(tmp_path / f"{sid}.json", data)
    with pytest.raises(atomic.Corrupt):
        heartbeats.read(tmp_path, sid)


def test_remove_heartbeat(tmp_path):
    sid = new_session_id()
    heartbeats.write(tmp_path, make_heartbeat(sid))
    heartbeats.remove(tmp_path, sid)
    assert not (tmp_path / f"{sid}.json").exists()
    heartbeats.remove(tmp_path, sid)  # already gone: no error


def test_scan_reports_bad_files_and_skips_foreign_names(tmp_path):
    good, torn, alien = new_session_id(), new_session_id(), new_session_id()
    heartbeats.write(tmp_path, make_heartbeat(good))
    (tmp_path / f"{torn}.json").write_text('{"session_id": ')
    atomic.write_json(tmp_path / f"{alien}.json", make_heartbeat(new_session_id()).to_json())
    (tmp_path / "huddle.json").write_text("{}")
    (tmp_path / "not-a-uuid.json").write_text("garbage")
    (tmp_path / f"{good}.json.bak").write_text("garbage")
    (tmp_path / f"{good}-x.json").write_text("garbage")
    (tmp_path / f".{good}.json.abc.tmp").write_text("garbage")
    (tmp_path / layout.NAMES).mkdir()
    found = list(heartbeats.scan(tmp_path))
    records = [f for f in found if isinstance(f, Heartbeat)]
    bad = {f.session_id: f.reason for f in found if isinstance(f, heartbeats.Unreadable)}
    assert [r.session_id for r in records] == [good]
    assert set(bad) == {torn, alien}
    assert "not valid JSON" in bad[torn]


def test_scan_of_missing_state_dir_yields_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("CLAUDE_PLUGIN_DATA", str(tmp_path / "data"))
    assert list(heartbeats.scan(tmp_path / "missing")) == []


@pytest.mark.parametrize(
    "hostile",
    [
        "../x",
        "../../etc/passwd",
        "",
        "main",
        "12345678-1234-1234-1234-123456789abc\0",
        "12345678-1234-1234-1234-123456789abc/../x",
        "12345678-1234-1234-1234-123456789abcd",
        "12345678-1234-1234-1234-123456789abc\n",
        " 12345678-1234-1234-1234-123456789abc",
        "/12345678-1234-1234-1234-123456789abc",
    ],
)
def test_path_for_rejects_hostile_ids(tmp_path, hostile):
    with pytest.raises(ValueError):
        heartbeats.path_for(tmp_path, hostile)
    with pytest.raises(ValueError):
        heartbeats.touch(tmp_path, hostile, time.time())
    assert list(tmp_path.iterdir()) == []


def test_path_for_accepts_a_uuid(tmp_path):
    sid = new_session_id()
    assert Path(heartbeats.path_for(tmp_path, sid)) == tmp_path / f"{sid}.json"
    assert Path(heartbeats.path_for(tmp_path, sid.upper())).parent == tmp_path
