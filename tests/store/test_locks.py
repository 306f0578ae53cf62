"""store/locks.py: explicit locks on files and globs, taken under `locks/.lock`."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from huddle.store import locks
from huddle.store.layout import GUARD, encode
from tests.helpers import new_session_id
from tests.store.racing import alternate, race

NOW = 1_700_000_000.0
ALICE, BOB = new_session_id(), new_session_id()


def lock_for(pattern: str, holder: str = ALICE, *, expires: float = NOW + 3600) -> dict[str, Any]:
    return {
        "pattern": pattern,
        "holder": holder,
        "holder_name": "alice" if holder == ALICE else "other",
        "at": NOW,
        "expires": expires,
        "reason": "",
    }


def always(existing: dict[str, Any]) -> bool:
    return True


def unexpired(existing: dict[str, Any]) -> bool:
    return bool(existing["expires"] > NOW)


def on_disk(state: Path) -> dict[str, dict[str, Any]]:
    """Every lock file under locks/, by its path relative to locks/."""
    root = state / "locks"
    return {
        str(p.relative_to(root)): json.loads(p.read_text())
        for p in root.rglob("*.json")
        if p.is_file()
    }


def test_is_glob() -> None:
    assert locks.is_glob("src/*.py")
    assert locks.is_glob("a?.txt")
    assert locks.is_glob("[ab].py")
    assert not locks.is_glob("src/app.py")
    assert not locks.is_glob("weird]name{}.txt")


def test_acquire_writes_a_file_lock_by_name_and_a_glob_lock_among_globs(tmp_path: Path) -> None:
    file_lock = locks.acquire(str(tmp_path), lock_for("src/app.py"), always)
    glob_lock = locks.acquire(str(tmp_path), lock_for("docs/*.md"), always)
    assert file_lock == lock_for("src/app.py")
    assert glob_lock == lock_for("docs/*.md")
    assert on_disk(tmp_path) == {
        "src%2Fapp.py.json": lock_for("src/app.py"),
        "globs/docs%2F*.md.json": lock_for("docs/*.md"),
    }
    hidden = sorted(p.name for p in (tmp_path / "locks").iterdir() if p.name.startswith("."))
    assert hidden == [GUARD]  # the guard stays; no temp file does
    assert (tmp_path / "locks" / "globs").stat().st_mode & 0o777 == 0o700


@pytest.mark.usefixtures("usual_umask")
def test_the_locks_folder_is_private(tmp_path: Path) -> None:
    locks.acquire(str(tmp_path), lock_for("a.py"), always)
    assert (tmp_path / "locks").stat().st_mode & 0o777 == 0o700


def test_acquire_refuses_an_overlapping_lock_of_another_holder(tmp_path: Path) -> None:
    state = str(tmp_path)
    mine = locks.acquire(state, lock_for("src/app.py"), always)
    for pattern in ["src/app.py", "src/*.py", "src/*", "*", "src/app.p?", "src/[a]pp.py"]:
        with pytest.raises(locks.AlreadyLocked) as caught:
            locks.acquire(state, lock_for(pattern, BOB), always)
        assert caught.value.lock == mine
        assert str(caught.value) == "src/app.py"
    assert on_disk(tmp_path) == {"src%2Fapp.py.json": mine}


def test_acquire_allows_locks_that_do_not_overlap(tmp_path: Path) -> None:
    state = str(tmp_path)
    locks.acquire(state, lock_for("src/app.py"), always)
    locks.acquire(state, lock_for("src/other.py", BOB), always)
    locks.acquire(state, lock_for("docs/*.md", BOB), always)
    locks.acquire(state, lock_for("SRC/APP.PY", BOB), always)  # case matters
    assert {lock["pattern"] for lock in locks.every(state)} == {
        "src/app.py",
        "src/other.py",
        "docs/*.md",
        "SRC/APP.PY",
    }


def test_a_glob_lock_blocks_a_file_it_covers(tmp_path: Path) -> None:
    state = str(tmp_path)
    glob = locks.acquire(state, lock_for("src/*.py"), always)
    with pytest.raises(locks.AlreadyLocked) as caught:
        locks.acquire(state, lock_for("src/deep/er/a.py", BOB), always)  # `*` crosses folders
    assert caught.value.lock == glob


def test_the_holder_renews_its_own_lock_and_may_hold_overlapping_ones(tmp_path: Path) -> None:
    state = str(tmp_path)
    locks.acquire(state, lock_for("src/app.py"), always)
    renewed = locks.acquire(state, lock_for("src/app.py", expires=NOW + 7200), always)
    locks.acquire(state, lock_for("src/*"), always)
    assert on_disk(tmp_path) == {
        "src%2Fapp.py.json": renewed,
        "globs/src%2F*.json": lock_for("src/*"),
    }
    assert renewed["expires"] == NOW + 7200


def test_acquire_removes_locks_that_no_longer_count(tmp_path: Path) -> None:
    state = str(tmp_path)
    locks.acquire(state, lock_for("src/app.py", BOB, expires=NOW - 1), always)
    locks.acquire(state, lock_for("unrelated.txt", BOB, expires=NOW - 1), always)
    locks.acquire(state, lock_for("kept.txt", BOB), always)
    seen: list[str] = []

    def counts(existing: dict[str, Any]) -> bool:
        seen.append(existing["pattern"])
        return unexpired(existing)

    mine = locks.acquire(state, lock_for("src/app.py"), counts)
    assert sorted(seen) == ["kept.txt", "src/app.py", "unrelated.txt"]
    assert on_disk(tmp_path) == {
        "src%2Fapp.py.json": mine,
        "kept.txt.json": lock_for("kept.txt", BOB),
    }


def test_acquire_ignores_corrupt_lock_files(tmp_path: Path) -> None:
    state = str(tmp_path)
    folder = tmp_path / "locks"
    (folder / "globs").mkdir(parents=True)
    (folder / "src%2Fapp.py.json").write_text('{"pattern": "src/app.py", "expi')
    (folder / "globs" / "%2A.json").write_text('{"pattern": "*", "expires": "soon"}')
    mine = locks.acquire(state, lock_for("src/app.py"), always)
    assert on_disk(tmp_path)["src%2Fapp.py.json"] == mine


@pytest.mark.parametrize("pattern", ["../../outside", "/etc/passwd", "..", ".hidden", "a/../../b"])
def test_a_hostile_pattern_stays_inside_the_locks_folder(tmp_path: Path, pattern: str) -> None:
    state = tmp_path / "state"
    state.mkdir()
    locks.acquire(str(state), lock_for(pattern), always)
    assert [p.name for p in tmp_path.iterdir()] == ["state"]
    assert list(on_disk(state)) == [encode(pattern) + ".json"]
    assert [lock["pattern"] for lock in locks.matching(str(state), pattern, NOW)] == [pattern]
    assert locks.release(str(state), pattern) == lock_for(pattern)
    assert on_disk(state) == {}


def test_a_long_pattern_is_stored_under_a_hashed_name(tmp_path: Path) -> None:
    state = str(tmp_path)
    pattern = "deep/" * 100 + "file.py"
    locks.acquire(state, lock_for(pattern), always)
    assert list(on_disk(tmp_path)) == [encode(pattern) + ".json"]
    assert encode(pattern).startswith("~")
    assert locks.matching(state, pattern, NOW) == [lock_for(pattern)]
    with pytest.raises(locks.AlreadyLocked):
        locks.acquire(state, lock_for(pattern, BOB), always)


# --- matching -----------------------------------------------------------------------------------


def test_matching_finds_the_file_lock_and_every_covering_glob(tmp_path: Path) -> None:
    state = str(tmp_path)
    # One holder may hold overlapping locks; whose they are does not matter to `matching`.
    for pattern in ["src/app.py", "src/*.py", "*.py", "src/a?p.py", "docs/*", "src/app.py.bak"]:
        locks.acquire(state, lock_for(pattern), always)
    found = locks.matching(state, "src/app.py", NOW)
    assert found[0] == lock_for("src/app.py")  # the one on the file by name comes first
    assert sorted(lock["pattern"] for lock in found) == [
        "*.py",
        "src/*.py",
        "src/a?p.py",
        "src/app.py",
    ]
    assert locks.matching(state, "README.md", NOW) == []
    assert [lock["pattern"] for lock in locks.matching(state, "docs/a/b.txt", NOW)] == ["docs/*"]


def test_matching_leaves_out_expired_locks(tmp_path: Path) -> None:
    state = str(tmp_path)
    locks.acquire(state, lock_for("a.py", expires=NOW + 10), always)
    locks.acquire(state, lock_for("*.py", expires=NOW + 20), always)
    assert len(locks.matching(state, "a.py", NOW + 9.9)) == 2
    assert [lock["pattern"] for lock in locks.matching(state, "a.py", NOW + 10)] == ["*.py"]
    assert locks.matching(state, "a.py", NOW + 20) == []
    assert len(locks.every(state)) == 2  # expired, but still there


def test_matching_is_case_sensitive(tmp_path: Path) -> None:
    state = str(tmp_path)
    locks.acquire(state, lock_for("src/*.py"), always)
    locks.acquire(state, lock_for("App.py"), always)
    assert locks.matching(state, "SRC/a.py", NOW) == []
    assert locks.matching(state, "src/a.PY", NOW) == []
    assert locks.matching(state, "app.py", NOW) == []


def test_matching_without_any_lock(tmp_path: Path) -> None:
    assert locks.matching(str(tmp_path), "a.py", NOW) == []
    assert locks.matching(str(tmp_path / "missing"), "a.py", NOW) == []
    (tmp_path / "locks").mkdir()
    (tmp_path / "locks" / "globs").write_text("not a folder")
    assert locks.matching(str(tmp_path), "a.py", NOW) == []


def test_matching_skips_unreadable_and_misshapen_locks(tmp_path: Path) -> None:
    globs = tmp_path / "locks" / "globs"
    globs.mkdir(parents=True)
    (globs / "a.json").write_text("{")
    (globs / "b.json").write_text(json.dumps({"pattern": "*", "expires": None}))
    (globs / "c.json").write_text(json.dumps({"pattern": 3, "expires": NOW + 1}))
    (globs / "d.json").write_text(json.dumps(["*", NOW + 1]))
    (globs / "e.txt").write_text(json.dumps(lock_for("*")))  # not a lock file's name
    (globs / "f.json").write_text(json.dumps(lock_for("*")) + " " * 20000)  # too large
    (globs / "g.json").mkdir()
    # A lock file under one name holding another file's lock is not a lock on this file.
    (tmp_path / "locks" / "a.py.json").write_text(json.dumps(lock_for("b.py")))
    assert locks.matching(str(tmp_path), "a.py", NOW) == []
    (globs / "h.json").write_text(json.dumps(lock_for("*")))
    assert locks.matching(str(tmp_path), "a.py", NOW) == [lock_for("*")]


def test_every_lists_all_locks_and_skips_what_is_not_one(tmp_path: Path) -> None:
    state = str(tmp_path)
    locks.acquire(state, lock_for("a.py", expires=NOW - 100), always)
    locks.acquire(state, lock_for("b/*", BOB), always)
    folder = tmp_path / "locks"
    (folder / "dir.json").mkdir()
    (folder / "bad.json").write_text("[]")
    outside = tmp_path / "elsewhere.json"
    outside.write_text(json.dumps(lock_for("linked.py")))
    (folder / "linked.py.json").symlink_to(outside)
    assert sorted(lock["pattern"] for lock in locks.every(state)) == ["a.py", "b/*"]
    assert locks.every(str(tmp_path / "missing")) == []


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("a.py", "a.py", True),
        ("a.py", "b.py", False),
        ("src/a.py", "src/*", True),
        ("src/*", "src/a.py", True),
        ("src/*", "src/*.py", True),
        ("src/*.py", "lib/*.py", False),
        ("src/*.py", "src/*.md", False),
        ("A.py", "a.py", False),
    ],
)
def test_overlap(a: str, b: str, expected: bool) -> None:
    assert locks.overlap(a, b) is expected
    assert locks.overlap(b, a) is expected


# --- release, release_all, held_by, transfer ----------------------------------------------------


def test_release_removes_exactly_that_pattern(tmp_path: Path) -> None:
    state = str(tmp_path)
    locks.acquire(state, lock_for("src/app.py"), always)
    locks.acquire(state, lock_for("src/*.py"), always)
    assert locks.release(state, "src/*.py") == lock_for("src/*.py")
    assert locks.release(state, "src/*.py") is None
    assert locks.release(state, "src/other.py") is None
    assert locks.release(str(tmp_path / "missing"), "src/app.py") is None
    assert on_disk(tmp_path) == {"src%2Fapp.py.json": lock_for("src/app.py")}


def test_release_leaves_a_file_that_holds_another_pattern(tmp_path: Path) -> None:
    (tmp_path / "locks").mkdir()
    stray = tmp_path / "locks" / "a.py.json"
    stray.write_text(json.dumps(lock_for("b.py")))
    assert locks.release(str(tmp_path), "a.py") is None
    assert stray.exists()


def test_release_all_and_held_by_only_touch_that_holder(tmp_path: Path) -> None:
    state = str(tmp_path)
    for pattern in ["a.py", "src/*"]:
        locks.acquire(state, lock_for(pattern), always)
    locks.acquire(state, lock_for("b.py", BOB), always)
    assert sorted(lock["pattern"] for lock in locks.held_by(state, ALICE)) == ["a.py", "src/*"]
    removed = locks.release_all(state, ALICE)
    assert sorted(lock["pattern"] for lock in removed) == ["a.py", "src/*"]
    assert locks.held_by(state, ALICE) == []
    assert locks.release_all(state, ALICE) == []
    assert on_disk(tmp_path) == {"b.py.json": lock_for("b.py", BOB)}


def test_transfer_gives_the_locks_to_the_new_session(tmp_path: Path) -> None:
    state = str(tmp_path)
    newer = new_session_id()
    locks.acquire(state, lock_for("a.py"), always)
    locks.acquire(state, lock_for("src/*"), always)
    locks.acquire(state, lock_for("b.py", BOB), always)
    moved = locks.transfer(state, ALICE, newer, "alice2")
    expected = [
        {**lock_for(p), "holder": newer, "holder_name": "alice2"} for p in ["a.py", "src/*"]
    ]
    assert sorted(moved, key=lambda lock: lock["pattern"]) == expected
    assert on_disk(tmp_path) == {
        "a.py.json": expected[0],
        "globs/src%2F*.json": expected[1],
        "b.py.json": lock_for("b.py", BOB),
    }
    assert locks.transfer(state, ALICE, newer, "alice2") == []
    with pytest.raises(locks.AlreadyLocked):
        locks.acquire(state, lock_for("a.py"), always)  # the old holder has it no more


# --- racing processes ---------------------------------------------------------------------------

RACERS = 8
RACE_SETUP = """
import json, sys, time
from huddle.store import locks
state, holder, pattern = sys.argv[1:4]
now = time.time()
lock = {"pattern": pattern, "holder": holder, "holder_name": holder[:8], "at": now,
        "expires": now + 3600, "reason": ""}
"""
RACE_WORK = """
try:
    locks.acquire(state, lock, lambda existing: True)
except locks.AlreadyLocked as held:
    print(json.dumps(held.lock["holder"]))
else:
    print(json.dumps("won"))
"""


@pytest.mark.parametrize("round_", range(3))
def test_of_processes_racing_for_overlapping_locks_exactly_one_wins(
    tmp_path: Path, round_: int
) -> None:
    patterns = ["src/app.py", "src/*.py", "src/*", "*"]
    holders = [new_session_id() for _ in range(RACERS)]
    argvs = [
        [str(tmp_path), holder, patterns[(i + round_) % len(patterns)]]
        for i, holder in enumerate(holders)
    ]
    results = race(RACE_SETUP, RACE_WORK, argvs, hook_like=alternate(RACERS))
    assert results.count("won") == 1, results
    winner = holders[results.index("won")]
    assert all(r == winner for r in results if r != "won"), results  # each loser names it
    held = list(on_disk(tmp_path).values())
    assert len(held) == 1
    assert held[0]["holder"] == winner
    assert held[0]["pattern"] == argvs[results.index("won")][2]


def test_of_processes_racing_for_separate_files_every_one_wins(tmp_path: Path) -> None:
    holders = [new_session_id() for _ in range(RACERS)]
    argvs = [[str(tmp_path), holder, f"src/file{i}.py"] for i, holder in enumerate(holders)]
    results = race(RACE_SETUP, RACE_WORK, argvs, hook_like=alternate(RACERS))
    assert results == ["won"] * RACERS
    assert {lock["holder"] for lock in on_disk(tmp_path).values()} == set(holders)
    assert not [p for p in os.listdir(tmp_path / "locks") if p.endswith(".tmp")]


def test_transfer_where_nobody_ever_locked_anything_moves_nothing(tmp_path: Path) -> None:
    assert locks.transfer(str(tmp_path), ALICE, new_session_id(), "alice2") == []
    assert list(tmp_path.iterdir()) == []
