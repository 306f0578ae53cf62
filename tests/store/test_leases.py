"""store/leases.py: soft leases, `leases/<encoded file>/<session id>.json`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from huddle.store import leases
from huddle.store.layout import encode
from tests.helpers import new_session_id

NOW = 1_700_000_000.0
TTL = 600.0
ALICE, BOB, CAROL = new_session_id(), new_session_id(), new_session_id()


def folder(state: Path, key: str) -> Path:
    return state / "leases" / encode(key)


def lease_file(state: Path, key: str, session_id: str) -> Path:
    return folder(state, key) / f"{session_id}.json"


def age(path: Path, mtime: float) -> None:
    os.utime(path, (mtime, mtime))


def test_take_writes_one_small_file_per_session_and_file(tmp_path: Path) -> None:
    leases.take(str(tmp_path), "src/app.py", ALICE, "/w/main", NOW)
    path = lease_file(tmp_path, "src/app.py", ALICE)
    assert json.loads(path.read_text()) == {
        "path": "src/app.py",
        "session_id": ALICE,
        "worktree": "/w/main",
        "at": NOW,
    }
    assert [p.name for p in (tmp_path / "leases").iterdir()] == ["src%2Fapp.py"]
    assert [p.name for p in folder(tmp_path, "src/app.py").iterdir()] == [f"{ALICE}.json"]
    assert folder(tmp_path, "src/app.py").stat().st_mode & 0o777 == 0o700


def test_take_renews_the_lease(tmp_path: Path) -> None:
    leases.take(str(tmp_path), "a.py", ALICE, "/w/main", NOW)
    leases.take(str(tmp_path), "a.py", ALICE, "/w/other", NOW + 100)
    assert leases.holders(str(tmp_path), "a.py", NOW + 650, TTL) == [
        {"path": "a.py", "session_id": ALICE, "worktree": "/w/other", "at": NOW + 100}
    ]
    assert len(list(folder(tmp_path, "a.py").iterdir())) == 1


def test_holders_are_the_unexpired_leases_newest_first(tmp_path: Path) -> None:
    state = str(tmp_path)
    leases.take(state, "a.py", ALICE, "/w", NOW)
    leases.take(state, "a.py", BOB, "/w", NOW + 30)
    leases.take(state, "a.py", CAROL, "/w", NOW + 10)
    leases.take(state, "b.py", ALICE, "/w", NOW + 50)
    found = leases.holders(state, "a.py", NOW + 40, TTL)
    assert [lease["session_id"] for lease in found] == [BOB, CAROL, ALICE]
    # The TTL is applied when reading: a lease counts for less than `ttl` seconds.
    assert [lease["session_id"] for lease in leases.holders(state, "a.py", NOW + TTL, TTL)] == [
        BOB,
        CAROL,
    ]
    assert [lease["session_id"] for lease in leases.holders(state, "a.py", NOW + 30, 20)] == [BOB]
    assert [lease["session_id"] for lease in leases.holders(state, "a.py", NOW + 30, 20.5)] == [
        BOB,
        CAROL,
    ]
    assert leases.holders(state, "a.py", NOW + 30 + TTL, TTL) == []
    assert leases.holders(state, "c.py", NOW, TTL) == []


def test_holders_without_any_lease(tmp_path: Path) -> None:
    assert leases.holders(str(tmp_path), "a.py", NOW, TTL) == []
    (tmp_path / "leases").mkdir()
    (tmp_path / "leases" / "a.py").write_text("a file where a folder should be")
    assert leases.holders(str(tmp_path), "a.py", NOW, TTL) == []


def test_holders_skip_what_is_not_a_lease_of_that_file(tmp_path: Path) -> None:
    state = str(tmp_path)
    leases.take(state, "a.py", ALICE, "/w", NOW)
    here = folder(tmp_path, "a.py")
    good = {"path": "a.py", "worktree": "/w", "at": NOW}
    (here / f"{BOB}.json").write_text(json.dumps({**good, "session_id": CAROL}))  # wrong holder
    (here / f"{CAROL}.json").write_text(json.dumps({**good, "path": "b.py", "session_id": CAROL}))
    other = new_session_id()
    (here / f"{other}.json").write_text('{"path": "a.py", "sess')  # truncated
    fourth = new_session_id()
    (here / f"{fourth}.json").write_text(json.dumps({**good, "session_id": fourth, "at": "now"}))
    fifth = new_session_id()
    (here / f"{fifth}.json").write_text(
        json.dumps({**good, "session_id": fifth, "pad": "x" * 5000})
    )
    (here / "not-a-session.json").write_text(json.dumps({**good, "session_id": "not-a-session"}))
    (here / f"{new_session_id()}.txt").write_text(json.dumps({**good, "session_id": ALICE}))
    (here / f".{ALICE}.json.1.0.tmp").write_text("{")
    (here / f"{new_session_id()}.json").mkdir()
    assert [lease["session_id"] for lease in leases.holders(state, "a.py", NOW, TTL)] == [ALICE]


def test_release_removes_only_the_sessions_leases_on_those_files(tmp_path: Path) -> None:
    state = str(tmp_path)
    for key in ["a.py", "b.py", "c.py"]:
        leases.take(state, key, ALICE, "/w", NOW)
    leases.take(state, "a.py", BOB, "/w", NOW)
    leases.release(state, ["a.py", "b.py", "never-leased.py"], ALICE)
    leases.release(state, ["a.py"], ALICE)  # twice is fine
    leases.release(str(tmp_path / "missing"), ["a.py"], ALICE)
    assert leases.held(state, ["a.py", "b.py", "c.py"], ALICE) == ["c.py"]
    assert leases.held(state, ["a.py", "b.py", "c.py"], BOB) == ["a.py"]


def test_held_counts_expired_leases_too(tmp_path: Path) -> None:
    state = str(tmp_path)
    leases.take(state, "a.py", ALICE, "/w", NOW - 10 * TTL)
    assert leases.holders(state, "a.py", NOW, TTL) == []
    assert leases.held(state, ["a.py", "b.py"], ALICE) == ["a.py"]
    assert leases.held(state, [], ALICE) == []


def test_others_are_the_other_sessions_with_a_lease_file(tmp_path: Path) -> None:
    state = str(tmp_path)
    leases.take(state, "a.py", ALICE, "/w", NOW)
    leases.take(state, "a.py", BOB, "/w", NOW - 100 * TTL)  # expired leases count here
    leases.take(state, "a.py", CAROL, "/w", NOW)
    (folder(tmp_path, "a.py") / "junk.json").write_text("{}")
    (folder(tmp_path, "a.py") / f"{new_session_id()}.json.bak").write_text("{}")
    assert sorted(leases.others(state, "a.py", ALICE)) == sorted([BOB, CAROL])
    assert leases.others(state, "b.py", ALICE) == []
    assert leases.others(str(tmp_path / "missing"), "a.py", ALICE) == []


def test_transfer_moves_the_old_sessions_leases_to_the_new_one(tmp_path: Path) -> None:
    state = str(tmp_path)
    leases.take(state, "a.py", ALICE, "/w/old", NOW - 100)
    leases.take(state, "b.py", ALICE, "/w/old", NOW - 100)
    leases.take(state, "c.py", BOB, "/w/old", NOW - 100)
    leases.transfer(state, ["a.py", "c.py", "d.py"], ALICE, CAROL, "/w/new", NOW)
    assert leases.held(state, ["a.py", "b.py", "c.py", "d.py"], ALICE) == ["b.py"]
    assert leases.held(state, ["a.py", "b.py", "c.py", "d.py"], CAROL) == ["a.py"]
    assert leases.holders(state, "a.py", NOW, TTL) == [
        {"path": "a.py", "session_id": CAROL, "worktree": "/w/new", "at": NOW}
    ]
    assert [lease["session_id"] for lease in leases.holders(state, "c.py", NOW, TTL)] == [BOB]


def test_a_long_file_name_gets_a_hashed_folder(tmp_path: Path) -> None:
    key = "deep/" * 80 + "file.py"
    leases.take(str(tmp_path), key, ALICE, "/w", NOW)
    assert [p.name for p in (tmp_path / "leases").iterdir()] == [encode(key)]
    assert [lease["path"] for lease in leases.holders(str(tmp_path), key, NOW, TTL)] == [key]


def test_a_hostile_file_name_stays_inside_the_leases_folder(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    for key in ["../../outside", "..", "/etc/passwd", ".hidden"]:
        leases.take(str(state), key, ALICE, "/w", NOW)
        assert leases.held(str(state), [key], ALICE) == [key]
    assert [p.name for p in tmp_path.iterdir()] == ["state"]
    assert [p.name for p in state.iterdir()] == ["leases"]
    assert len(list((state / "leases").iterdir())) == 4


def test_a_hostile_session_id_never_becomes_a_path_on_take(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    try:
        leases.take(str(state), "a.py", "../../../escaped", "/w", NOW)
    except ValueError:
        pass  # refusing it is as good as ignoring it
    assert [p.name for p in tmp_path.iterdir()] == ["state"]


def test_a_hostile_session_id_never_becomes_a_path_on_release(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    victim = tmp_path / "victim.json"
    victim.write_text("precious")
    leases.take(str(state), "a.py", ALICE, "/w", NOW)
    try:
        leases.release(str(state), ["a.py"], "../../../victim")
    except ValueError:
        pass
    assert victim.exists()


# --- sweep --------------------------------------------------------------------------------------


def test_sweep_removes_old_leases_and_the_folders_left_empty(tmp_path: Path) -> None:
    state = str(tmp_path)
    leases.take(state, "old.py", ALICE, "/w", NOW)
    leases.take(state, "mixed.py", ALICE, "/w", NOW)
    leases.take(state, "mixed.py", BOB, "/w", NOW)
    leases.take(state, "fresh.py", BOB, "/w", NOW)
    age(lease_file(tmp_path, "old.py", ALICE), NOW - 1000)
    age(lease_file(tmp_path, "mixed.py", ALICE), NOW - 1000)
    age(lease_file(tmp_path, "mixed.py", BOB), NOW - 10)
    age(lease_file(tmp_path, "fresh.py", BOB), NOW - 500)
    assert leases.sweep(state, NOW, older_than=500) == 2
    assert sorted(p.name for p in (tmp_path / "leases").iterdir()) == ["fresh.py", "mixed.py"]
    assert leases.others(state, "mixed.py", ALICE) == [BOB]
    assert leases.held(state, ["mixed.py"], ALICE) == []
    assert leases.sweep(state, NOW, older_than=500) == 0


def test_sweep_removes_empty_folders_and_keeps_what_is_not_a_folder(tmp_path: Path) -> None:
    (tmp_path / "leases" / "empty").mkdir(parents=True)
    (tmp_path / "leases" / "stray-file").write_text("x")
    nested = tmp_path / "leases" / "nested"
    (nested / "inner").mkdir(parents=True)
    assert leases.sweep(str(tmp_path), NOW, older_than=1) == 0
    assert sorted(p.name for p in (tmp_path / "leases").iterdir()) == ["nested", "stray-file"]
    assert (nested / "inner").is_dir()  # a folder is never removed with what is in it


def test_sweep_without_leases(tmp_path: Path) -> None:
    assert leases.sweep(str(tmp_path), NOW, older_than=1) == 0
    assert leases.sweep(str(tmp_path / "missing"), NOW, older_than=1) == 0
    assert list(tmp_path.iterdir()) == []


def test_sweep_never_follows_a_symlinked_folder(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    precious = elsewhere / "precious.txt"
    precious.write_text("keep me")
    age(precious, NOW - 10**6)
    (tmp_path / "state" / "leases").mkdir(parents=True)
    (tmp_path / "state" / "leases" / "a.py").symlink_to(elsewhere, target_is_directory=True)
    leases.sweep(str(tmp_path / "state"), NOW, older_than=1)
    assert precious.exists()
    assert (tmp_path / "state" / "leases" / "a.py").is_symlink()


@pytest.mark.usefixtures("usual_umask")
def test_the_leases_folder_is_private(tmp_path: Path) -> None:
    leases.take(str(tmp_path), "a.py", ALICE, "/w", NOW)
    assert (tmp_path / "leases").stat().st_mode & 0o777 == 0o700


def test_take_survives_a_sweep_removing_the_folder_in_between(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sweep may remove the (empty) folder between makedirs and the write: take retries."""
    state = str(tmp_path)
    real = leases.atomic.write_json
    calls: list[str] = []

    def swept_first(path: str, value: object, *, durable: bool = True) -> None:
        calls.append(path)
        if len(calls) == 1:
            os.rmdir(os.path.dirname(path))
        real(path, value, durable=durable)

    monkeypatch.setattr(leases.atomic, "write_json", swept_first)
    leases.take(state, "a.py", ALICE, "/w", NOW)
    assert len(calls) == 2
    assert leases.held(state, ["a.py"], ALICE) == ["a.py"]
