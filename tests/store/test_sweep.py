"""store/sweep.py: what a long-gone session leaves is forgotten, and what crashed writers and
old items leave is tidied away."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from huddle.store import (
    config,
    heartbeats,
    history,
    leases,
    locks,
    mailbox,
    names,
    sweep,
    tasks,
    turns,
    warned,
)
from tests.helpers import make_record, new_session_id

NOW = 1_700_000_000.0
DAY = 86400.0


def never_stale(holder: str) -> bool:
    return False


def footprint(state: Path, session_id: str, name: str, peer: str) -> None:
    """Everything a session leaves behind: record and its lock, name, inbox (read, unread and
    the urgent marker), warning markers, turn snapshot; and a lease, a lock and a task."""
    heartbeats.write(str(state), make_record(session_id, name=name))
    heartbeats.update(str(state), session_id, lambda data: None)  # makes the record's lock
    assert names.claim(str(state), name, session_id, never_stale)
    for n in range(2):
        mailbox.deliver(
            str(state), session_id, mailbox.name_for(f"{name}{n}", NOW + n, False), b"{}"
        )
    mailbox.claim(str(state), session_id, mailbox.name_for(f"{name}0", NOW, False), NOW)
    mailbox.mark_interrupted(str(state), session_id, NOW)
    assert warned.first_in_a_while(str(state), session_id, "a.py", peer, NOW, 300)
    turns.save(str(state), session_id, {"a.py": [1, 2]})
    leases.take(str(state), "a.py", session_id, "/w", NOW)
    lock = {"pattern": f"{name}.py", "holder": session_id, "expires": NOW + 60}
    locks.acquire(str(state), lock, lambda existing: True)
    task = tasks.add(str(state), f"task of {name}", "", name, NOW)
    tasks.claim(str(state), task["id"], session_id, name, NOW, lambda claimer: True)


def everything(state: Path) -> list[str]:
    return sorted(str(p.relative_to(state)) for p in state.rglob("*"))


def test_forget_session_removes_exactly_what_is_the_sessions_own(tmp_path: Path) -> None:
    gone, kept = new_session_id(), new_session_id()
    footprint(tmp_path, gone, "old", kept)
    footprint(tmp_path, kept, "new", gone)
    before = everything(tmp_path)
    sweep.forget_session(str(tmp_path), gone, "old")
    after = everything(tmp_path)
    removed = sorted(set(before) - set(after))
    assert set(after) - set(before) <= {"names/.lock"}  # a guard file, made and kept by design
    assert removed == sorted(
        [
            f"{gone}.json",
            f".{gone}.lock",
            "names/old",
            f"mail/{gone}",
            *(f"mail/{gone}/{p}" for p in ("tmp", "new", "cur", "urgent-shown")),
            f"mail/{gone}/new/{mailbox.name_for('old1', NOW + 1, False)}",
            f"mail/{gone}/cur/{mailbox.name_for('old0', NOW, False)}",
            f"warned/{gone}",
            f"warned/{gone}/a.py.{kept}",
            f"turns/{gone}.json",
        ]
    )
    # The other session keeps all of its own, its warnings about the gone one included.
    assert heartbeats.read_raw(str(tmp_path), kept)["name"] == "new"
    assert names.holder(str(tmp_path), "new") == kept
    assert len(mailbox.waiting(str(tmp_path), kept)) == 1
    assert turns.load(str(tmp_path), kept) == {"a.py": [1, 2]}
    assert (tmp_path / "warned" / kept / f"a.py.{gone}").is_file()
    # Leases, locks and claims are not forgotten here: they run out, or are released.
    assert leases.held(str(tmp_path), ["a.py"], gone) == ["a.py"]
    assert [lock["pattern"] for lock in locks.held_by(str(tmp_path), gone)] == ["old.py"]
    assert gone in tasks.claimed_by(str(tmp_path))


def test_forget_session_leaves_a_name_that_someone_else_holds_now(tmp_path: Path) -> None:
    gone, newer = new_session_id(), new_session_id()
    heartbeats.write(str(tmp_path), make_record(gone, name="main"))
    assert names.claim(str(tmp_path), "main", newer, never_stale)  # taken over meanwhile
    sweep.forget_session(str(tmp_path), gone, "main")
    assert names.holder(str(tmp_path), "main") == newer
    assert not (tmp_path / f"{gone}.json").exists()


def test_forget_session_of_a_session_with_nothing_left(tmp_path: Path) -> None:
    sweep.forget_session(str(tmp_path), new_session_id(), "nobody")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("bad", ["../x", "", "..", "*"])
def test_forget_session_refuses_a_hostile_session_id(tmp_path: Path, bad: str) -> None:
    state = tmp_path / "state"
    state.mkdir()
    kept = new_session_id()
    footprint(state, kept, "main", new_session_id())
    before = everything(state)
    with pytest.raises(ValueError):
        sweep.forget_session(str(state), bad, "main")
    assert everything(state) == before
    assert [p.name for p in tmp_path.iterdir()] == ["state"]


# --- sweep --------------------------------------------------------------------------------------


def aged(path: Path, seconds_ago: float) -> None:
    os.utime(path, (NOW - seconds_ago, NOW - seconds_ago))


def test_sweep_tidies_leases_inbox_leftovers_history_and_temp_files(tmp_path: Path) -> None:
    state = str(tmp_path)
    alice, bob = new_session_id(), new_session_id()
    heartbeats.write(state, make_record(alice))
    aged(tmp_path / f"{alice}.json", 30 * DAY)  # records are the sessions' sweep's business
    assert names.claim(state, "alice", alice, never_stale)
    leases.take(state, "old.py", alice, "/w", NOW)
    leases.take(state, "new.py", bob, "/w", NOW)
    aged(tmp_path / "leases" / "old.py" / f"{alice}.json", 2 * DAY)
    aged(tmp_path / "leases" / "new.py" / f"{bob}.json", DAY - 60)
    mailbox.deliver(state, bob, mailbox.name_for("m", NOW, False), b"{}")
    leftovers = {
        "inbox": tmp_path / "mail" / bob / "tmp" / "m.json.1.0",
        "state": tmp_path / f".{alice}.json.1.0.tmp",
        "names": tmp_path / "names" / ".alice.1.0.tmp",
    }
    fresh = {
        "inbox": tmp_path / "mail" / bob / "tmp" / "m.json.1.1",
        "state": tmp_path / f".{alice}.json.1.1.tmp",
        "names": tmp_path / "names" / ".alice.1.1.tmp",
    }
    for path in leftovers.values():
        path.write_text("{")
        aged(path, sweep.TEMP_FILES_AFTER + 1)
    for path in fresh.values():
        path.write_text("{")
        aged(path, sweep.TEMP_FILES_AFTER - 60)
    (tmp_path / ".lock-guard-like").write_text("")
    aged(tmp_path / ".lock-guard-like", 100 * DAY)
    for d in range(10):
        history.record(state, f"{d}.json", {"at": NOW - d * DAY})

    sweep.sweep(state, NOW, leases_after=DAY)

    assert leases.held(state, ["old.py"], alice) == []
    assert not (tmp_path / "leases" / "old.py").exists()
    assert leases.held(state, ["new.py"], bob) == ["new.py"]
    assert not any(path.exists() for path in leftovers.values())
    assert all(path.exists() for path in fresh.values())
    assert (tmp_path / ".lock-guard-like").exists()  # hidden, but not a temp file
    assert (tmp_path / f"{alice}.json").exists()
    assert names.holder(state, "alice") == alice
    assert mailbox.waiting(state, bob) == [mailbox.name_for("m", NOW, False)]
    assert history.days(state) == [history.day(NOW - d * DAY) for d in range(7, -1, -1)]


def test_sweep_keeps_history_for_the_configured_days(tmp_path: Path) -> None:
    state = str(tmp_path)
    config.store(state, "history_days", 2)
    for d in range(5):
        history.record(state, f"{d}.json", {"at": NOW - d * DAY})
    sweep.sweep(state, NOW, leases_after=DAY)
    assert history.days(state) == [history.day(NOW - d * DAY) for d in (2, 1, 0)]


def test_sweep_of_an_empty_state_directory(tmp_path: Path) -> None:
    sweep.sweep(str(tmp_path), NOW, leases_after=DAY)
    assert list(tmp_path.iterdir()) == []
