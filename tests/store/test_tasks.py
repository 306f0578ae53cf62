"""store/tasks.py: the task board, one file per task, every change under `tasks/.lock`."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from huddle.store import tasks
from huddle.store.layout import GUARD
from huddle.vocab import CLAIMED, DONE, OPEN
from tests.helpers import new_session_id
from tests.store.racing import alternate, race

NOW = 1_700_000_000.0
ALICE, BOB = new_session_id(), new_session_id()


def always(claimer: str) -> bool:
    return True


def never(claimer: str) -> bool:
    return False


def stored(state: Path, task_id: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads((state / "tasks" / f"{task_id}.json").read_text())
    return value


def put(state: Path, task: dict[str, Any], name: str | None = None) -> None:
    """A task file written by hand (or by another version of huddle)."""
    (state / "tasks").mkdir(exist_ok=True)
    (state / "tasks" / (name or f"{task['id']}.json")).write_text(json.dumps(task))


def plain(task_id: str, created_at: float = NOW, **changes: Any) -> dict[str, Any]:
    task = {
        "id": task_id,
        "title": f"task {task_id}",
        "detail": "",
        "state": OPEN,
        "created_by": "alice",
        "created_by_session": None,
        "created_at": created_at,
        "claimed_by": None,
        "claimed_by_name": None,
        "claimed_at": None,
        "done_at": None,
        "note": "",
    }
    task.update(changes)
    return task


def test_add_writes_the_whole_task(tmp_path: Path) -> None:
    task = tasks.add(str(tmp_path), "Fix login", "the form", "alice", NOW, ALICE)
    assert re.fullmatch(r"[0-9a-f]{6}", task["id"])
    assert task == {
        **plain(task["id"]),
        "title": "Fix login",
        "detail": "the form",
        "created_by_session": ALICE,
    }
    assert stored(tmp_path, task["id"]) == task
    names = sorted(p.name for p in (tmp_path / "tasks").iterdir())
    assert names == sorted([GUARD, f"{task['id']}.json"])  # no temp file left
    assert (tmp_path / "tasks").stat().st_mode & 0o777 == 0o700


def test_add_gives_every_task_a_new_id(tmp_path: Path) -> None:
    ids = {tasks.add(str(tmp_path), f"t{n}", "", "alice", NOW + n)["id"] for n in range(50)}
    assert len(ids) == 50
    assert [t["id"] for t in tasks.every(str(tmp_path))] == [
        t["id"] for t in sorted(tasks.every(str(tmp_path)), key=lambda t: t["created_at"])
    ]


def test_add_retries_an_id_already_taken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    put(tmp_path, plain("aaaaaa"))
    draws = iter([b"\xaa\xaa\xaa", b"\xaa\xaa\xaa", b"\xbb\xbb\xbb"])
    monkeypatch.setattr(tasks.os, "urandom", lambda n: next(draws))
    assert tasks.add(str(tmp_path), "t", "", "alice", NOW)["id"] == "bbbbbb"
    assert stored(tmp_path, "aaaaaa") == plain("aaaaaa")


def test_every_is_oldest_first_and_skips_what_is_not_a_task(tmp_path: Path) -> None:
    put(tmp_path, plain("cccccc", NOW + 1))
    put(tmp_path, plain("aaaaaa", NOW + 2))
    put(tmp_path, plain("bbbbbb", NOW + 1))
    put(tmp_path, plain("dddddd", state="lost"))
    put(tmp_path, plain("eeeeee", title=None))
    put(tmp_path, plain("NOTHEX"))
    put(tmp_path, plain("ffffff"), name="000000.json")  # a file not named by its task's id
    put(tmp_path, plain("111111"), name=".111111.json")
    put(tmp_path, plain("222222"), name="222222.json.bak")
    (tmp_path / "tasks" / "333333.json").write_text('{"id": "333333", "title": "t", "sta')
    (tmp_path / "tasks" / "444444.json").write_text("[]")
    (tmp_path / "tasks" / "555555.json").write_text(json.dumps(plain("555555", pad="x" * 70000)))
    (tmp_path / "tasks" / "666666.json").mkdir()
    assert [t["id"] for t in tasks.every(str(tmp_path))] == ["bbbbbb", "cccccc", "aaaaaa"]


def test_every_without_a_board(tmp_path: Path) -> None:
    assert tasks.every(str(tmp_path)) == []
    (tmp_path / "tasks").write_text("not a folder")
    assert tasks.every(str(tmp_path)) == []


# --- find ---------------------------------------------------------------------------------------


def test_find_by_id_or_unique_prefix(tmp_path: Path) -> None:
    state = str(tmp_path)
    for task_id in ["3f2a1c", "3f9b00", "a00000"]:
        put(tmp_path, plain(task_id))
    assert tasks.find(state, "3f2a1c")["id"] == "3f2a1c"
    assert tasks.find(state, "3f2")["id"] == "3f2a1c"
    assert tasks.find(state, "a")["id"] == "a00000"
    assert tasks.find(state, " 3F2A1C \n")["id"] == "3f2a1c"
    with pytest.raises(tasks.Unknown, match="could be any of 3f2a1c, 3f9b00"):
        tasks.find(state, "3f")
    with pytest.raises(tasks.Unknown, match="no task 'b' on the board"):
        tasks.find(state, "b")


@pytest.mark.parametrize("given", ["", "../x", "../../huddle", "3f2a1c/../a", "g", "x" * 40])
def test_find_refuses_what_is_not_an_id(tmp_path: Path, given: str) -> None:
    put(tmp_path, plain("3f2a1c"))
    (tmp_path / "huddle.json").write_text(json.dumps(plain("3f2a1c")))
    with pytest.raises(tasks.Unknown, match="is not a task id"):
        tasks.find(str(tmp_path), given)


def test_task_errors_are_one_line() -> None:
    task = plain("3f2a1c", claimed_by_name="bob")
    for error in [
        tasks.Taken(task),
        tasks.Finished(task),
        tasks.NotYours(task),
        tasks.NotClaimed(task),
    ]:
        assert isinstance(error, tasks.TaskError)
        assert "3f2a1c" in str(error) and "\n" not in str(error)
        assert error.task == task
    assert str(tasks.Taken(task)) == "task 3f2a1c is claimed by 'bob'"


# --- claim, finish, release ---------------------------------------------------------------------


def test_claim_an_open_task(tmp_path: Path) -> None:
    task = tasks.add(str(tmp_path), "t", "", "alice", NOW)
    claimed = tasks.claim(str(tmp_path), task["id"], ALICE, "alice", NOW + 5, always)
    assert claimed == {
        **task,
        "state": CLAIMED,
        "claimed_by": ALICE,
        "claimed_by_name": "alice",
        "claimed_at": NOW + 5,
    }
    assert stored(tmp_path, task["id"]) == claimed


def test_claiming_again_changes_nothing(tmp_path: Path) -> None:
    task = tasks.add(str(tmp_path), "t", "", "alice", NOW)
    first = tasks.claim(str(tmp_path), task["id"], ALICE, "alice", NOW + 5, always)
    path = tmp_path / "tasks" / f"{task['id']}.json"
    before = path.stat().st_ino
    again = tasks.claim(str(tmp_path), task["id"], ALICE, "alice2", NOW + 9, always)
    assert again == first  # the first claim's time and name stay
    assert path.stat().st_ino == before  # not rewritten


def test_claim_of_a_task_another_live_session_has(tmp_path: Path) -> None:
    task = tasks.add(str(tmp_path), "t", "", "alice", NOW)
    mine = tasks.claim(str(tmp_path), task["id"], ALICE, "alice", NOW, always)
    asked: list[str] = []

    def counts(claimer: str) -> bool:
        asked.append(claimer)
        return True

    with pytest.raises(tasks.Taken) as caught:
        tasks.claim(str(tmp_path), task["id"], BOB, "bob", NOW + 1, counts)
    assert asked == [ALICE]
    assert caught.value.task == mine
    assert stored(tmp_path, task["id"]) == mine


def test_claim_takes_over_from_a_claimer_that_no_longer_counts(tmp_path: Path) -> None:
    task = tasks.add(str(tmp_path), "t", "", "alice", NOW)
    tasks.claim(str(tmp_path), task["id"], ALICE, "alice", NOW, always)
    taken = tasks.claim(str(tmp_path), task["id"], BOB, "bob", NOW + 1, never)
    assert (taken["claimed_by"], taken["claimed_by_name"], taken["claimed_at"]) == (
        BOB,
        "bob",
        NOW + 1,
    )
    assert stored(tmp_path, task["id"]) == taken


def test_claim_of_a_finished_or_unknown_task(tmp_path: Path) -> None:
    task = tasks.add(str(tmp_path), "t", "", "alice", NOW)
    tasks.finish(str(tmp_path), task["id"], None, "", NOW, force=True)
    with pytest.raises(tasks.Finished):
        tasks.claim(str(tmp_path), task["id"], ALICE, "alice", NOW, always)
    with pytest.raises(tasks.Unknown):
        tasks.claim(str(tmp_path), "ffffff", ALICE, "alice", NOW, always)
    with pytest.raises(tasks.Unknown):
        tasks.claim(str(tmp_path / "missing"), "ffffff", ALICE, "alice", NOW, always)


def test_finish_by_the_claimer(tmp_path: Path) -> None:
    task = tasks.add(str(tmp_path), "t", "", "alice", NOW)
    claimed = tasks.claim(str(tmp_path), task["id"], ALICE, "alice", NOW, always)
    done = tasks.finish(str(tmp_path), task["id"], ALICE, "shipped", NOW + 60, force=False)
    assert done == {**claimed, "state": DONE, "done_at": NOW + 60, "note": "shipped"}
    assert stored(tmp_path, task["id"]) == done
    with pytest.raises(tasks.Finished):
        tasks.finish(str(tmp_path), task["id"], ALICE, "", NOW, force=True)


def test_finish_refuses_an_unclaimed_task_or_another_claimers(tmp_path: Path) -> None:
    state = str(tmp_path)
    task = tasks.add(state, "t", "", "alice", NOW)
    with pytest.raises(tasks.NotClaimed):
        tasks.finish(state, task["id"], ALICE, "", NOW, force=False)
    tasks.claim(state, task["id"], ALICE, "alice", NOW, always)
    with pytest.raises(tasks.NotYours):
        tasks.finish(state, task["id"], BOB, "", NOW, force=False)
    with pytest.raises(tasks.NotYours):
        tasks.finish(state, task["id"], None, "", NOW, force=False)
    assert stored(tmp_path, task["id"])["state"] == CLAIMED
    forced = tasks.finish(state, task["id"], None, "by hand", NOW + 1, force=True)
    assert (forced["state"], forced["note"], forced["claimed_by"]) == (DONE, "by hand", ALICE)


def test_finish_with_force_needs_no_claim(tmp_path: Path) -> None:
    task = tasks.add(str(tmp_path), "t", "", "alice", NOW)
    done = tasks.finish(str(tmp_path), task["id"], None, "", NOW, force=True)
    assert done["state"] == DONE and done["claimed_by"] is None


def test_release_puts_the_task_back_to_open(tmp_path: Path) -> None:
    state = str(tmp_path)
    task = tasks.add(state, "t", "", "alice", NOW)
    tasks.claim(state, task["id"], ALICE, "alice", NOW, always)
    with pytest.raises(tasks.NotYours):
        tasks.release(state, task["id"], BOB, force=False)
    released = tasks.release(state, task["id"], ALICE, force=False)
    assert released == task
    assert stored(tmp_path, task["id"]) == task
    with pytest.raises(tasks.NotClaimed):
        tasks.release(state, task["id"], ALICE, force=True)
    tasks.claim(state, task["id"], ALICE, "alice", NOW, always)
    assert tasks.release(state, task["id"], BOB, force=True) == task
    tasks.finish(state, task["id"], None, "", NOW, force=True)
    with pytest.raises(tasks.Finished):
        tasks.release(state, task["id"], ALICE, force=True)


def test_change_writes_only_when_the_task_changes(tmp_path: Path) -> None:
    state = str(tmp_path)
    task = tasks.add(state, "t", "", "alice", NOW)
    path = tmp_path / "tasks" / f"{task['id']}.json"
    inode = path.stat().st_ino
    assert tasks.change(state, task["id"], lambda t: dict(t)) == task
    assert path.stat().st_ino == inode

    def refuse(t: dict[str, Any]) -> dict[str, Any]:
        raise tasks.NotYours(t)

    with pytest.raises(tasks.NotYours):
        tasks.change(state, task["id"], refuse)
    assert path.stat().st_ino == inode
    changed = tasks.change(state, task["id"][:3], lambda t: {**t, "title": "new"})
    assert stored(tmp_path, task["id"]) == changed == {**task, "title": "new"}


# --- orphans, release_all, claimed_by, transfer -------------------------------------------------


def test_reopen_orphans_reopens_tasks_whose_claimer_is_gone(tmp_path: Path) -> None:
    state = str(tmp_path)
    a = tasks.add(state, "a", "", "alice", NOW)
    b = tasks.add(state, "b", "", "alice", NOW + 1)
    c = tasks.add(state, "c", "", "alice", NOW + 2)
    held_a = tasks.claim(state, a["id"], ALICE, "alice", NOW, always)
    tasks.claim(state, b["id"], BOB, "bob", NOW, always)
    reopened = tasks.reopen_orphans(state, lambda claimer: claimer != ALICE)
    assert reopened == [held_a]  # as they were, so the caller can tell whose they were
    assert stored(tmp_path, a["id"]) == a
    assert stored(tmp_path, b["id"])["claimed_by"] == BOB
    assert stored(tmp_path, c["id"]) == c


def test_reopen_orphans_without_orphans_writes_nothing(tmp_path: Path) -> None:
    state = str(tmp_path)
    task = tasks.add(state, "a", "", "alice", NOW)
    tasks.claim(state, task["id"], ALICE, "alice", NOW, always)
    before = {p.name: p.stat().st_ino for p in (tmp_path / "tasks").iterdir()}
    assert tasks.reopen_orphans(state, always) == []
    assert {p.name: p.stat().st_ino for p in (tmp_path / "tasks").iterdir()} == before
    assert tasks.reopen_orphans(str(tmp_path / "missing"), never) == []
    assert not (tmp_path / "missing").exists()


def test_release_all_reopens_only_that_claimers_tasks(tmp_path: Path) -> None:
    state = str(tmp_path)
    a = tasks.add(state, "a", "", "alice", NOW)
    b = tasks.add(state, "b", "", "alice", NOW + 1)
    tasks.claim(state, a["id"], ALICE, "alice", NOW, always)
    held_b = tasks.claim(state, b["id"], BOB, "bob", NOW, always)
    assert [t["id"] for t in tasks.release_all(state, ALICE)] == [a["id"]]
    assert stored(tmp_path, a["id"]) == a
    assert stored(tmp_path, b["id"]) == held_b
    assert tasks.release_all(state, ALICE) == []


def test_claimed_by_groups_claimed_tasks_by_claimer(tmp_path: Path) -> None:
    state = str(tmp_path)
    made = [tasks.add(state, f"t{n}", "", "alice", NOW + n) for n in range(4)]
    tasks.claim(state, made[0]["id"], ALICE, "alice", NOW, always)
    tasks.claim(state, made[1]["id"], BOB, "bob", NOW, always)
    tasks.claim(state, made[2]["id"], ALICE, "alice", NOW, always)
    tasks.claim(state, made[3]["id"], BOB, "bob", NOW, always)
    tasks.finish(state, made[3]["id"], BOB, "", NOW, force=False)
    held = tasks.claimed_by(state)
    assert {k: [t["id"] for t in v] for k, v in held.items()} == {
        ALICE: [made[0]["id"], made[2]["id"]],
        BOB: [made[1]["id"]],
    }


def test_transfer_gives_the_claims_to_the_new_session(tmp_path: Path) -> None:
    state = str(tmp_path)
    newer = new_session_id()
    a = tasks.add(state, "a", "", "alice", NOW)
    b = tasks.add(state, "b", "", "alice", NOW + 1)
    c = tasks.add(state, "c", "", "alice", NOW + 2)
    held_a = tasks.claim(state, a["id"], ALICE, "alice", NOW, always)
    held_b = tasks.claim(state, b["id"], BOB, "bob", NOW, always)
    tasks.claim(state, c["id"], ALICE, "alice", NOW, always)
    tasks.finish(state, c["id"], ALICE, "", NOW, force=False)
    moved = tasks.transfer(state, ALICE, newer, "alice2")
    assert moved == [{**held_a, "claimed_by": newer, "claimed_by_name": "alice2"}]
    assert stored(tmp_path, a["id"]) == moved[0]
    assert stored(tmp_path, b["id"]) == held_b
    assert stored(tmp_path, c["id"])["claimed_by"] == ALICE  # done tasks stay as they were
    assert tasks.transfer(state, ALICE, newer, "alice2") == []


# --- racing processes ---------------------------------------------------------------------------

RACERS = 8
CLAIM_SETUP = """
import json, sys
from huddle.store import tasks
state, task_id, holder = sys.argv[1:4]
"""
CLAIM_WORK = """
try:
    tasks.claim(state, task_id, holder, holder[:8], 1.0, lambda claimer: True)
except tasks.Taken as taken:
    print(json.dumps(taken.task["claimed_by"]))
else:
    print(json.dumps("won"))
"""


@pytest.mark.parametrize("round_", range(3))
def test_of_processes_claiming_one_task_exactly_one_wins(tmp_path: Path, round_: int) -> None:
    task = tasks.add(str(tmp_path), "contested", "", "alice", NOW)
    holders = [new_session_id() for _ in range(RACERS)]
    argvs = [[str(tmp_path), task["id"][: 3 + round_], holder] for holder in holders]
    results = race(CLAIM_SETUP, CLAIM_WORK, argvs, hook_like=alternate(RACERS))
    assert results.count("won") == 1, results
    winner = holders[results.index("won")]
    assert all(r == winner for r in results if r != "won"), results
    assert stored(tmp_path, task["id"])["claimed_by"] == winner
    assert not [p for p in os.listdir(tmp_path / "tasks") if p.endswith(".tmp")]


ADD_SETUP = """
import json, sys
from huddle.store import tasks
state, title = sys.argv[1:3]
"""
ADD_WORK = """
print(json.dumps(tasks.add(state, title, "", "alice", 1.0)["id"]))
"""


def test_processes_adding_at_once_get_a_task_each(tmp_path: Path) -> None:
    argvs = [[str(tmp_path), f"task {n}"] for n in range(RACERS)]
    ids = race(ADD_SETUP, ADD_WORK, argvs, hook_like=alternate(RACERS))
    assert len(set(ids)) == RACERS
    board = tasks.every(str(tmp_path))
    assert sorted(t["id"] for t in board) == sorted(ids)
    assert sorted(t["title"] for t in board) == sorted(f"task {n}" for n in range(RACERS))
