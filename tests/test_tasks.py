"""The task board through the real CLI (`bin/huddle task ...`) and the real hooks.

Sessions are registered through SessionStart with a live stand-in process as CLAUDE_PID; a
session "dies" when its stand-in is killed. The race spawns sixteen `huddle task claim`
processes blocked on a pipe and releases them together, as tests/test_lock_race.py does.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import (
    Plugin,
    Session,
    StandIn,
    checked,
    make_record,
    make_repo,
    new_session_id,
    race_cli,
    sample,
)

LIMIT = 120
RACERS = 16
ROUNDS = 5


def ok(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert done.returncode == 0, (done.stdout, done.stderr)
    return done


def refused(done: subprocess.CompletedProcess[str]) -> str:
    """Exit 1 with exactly one `huddle: ...` line on stderr and nothing on stdout."""
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("huddle: "), done.stderr
    return lines[0]


def board(s: Session, *flags: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(ok(s.cli("task", "list", "--json", *flags)).stdout)
    return rows


def prompt(s: Session) -> str:
    """What the session's next model request gets from UserPromptSubmit ("" for nothing)."""
    out = checked(
        s.plugin.hook(
            "UserPromptSubmit", sample("UserPromptSubmit", s.sid, s.cwd), cwd=s.cwd, pid=s.proc.pid
        )
    )
    return str(out["hookSpecificOutput"]["additionalContext"]) if out else ""


def stored(state: Path, task_id: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads((state / "tasks" / f"{task_id}.json").read_text())
    return value


# --- the round trip ---------------------------------------------------------------------------


def test_add_list_claim_done_release_round_trip(session, state):
    a, b = session("alpha"), session("beta")
    first = ok(a.cli("task", "add", "fix the login form", "--detail", "500 on submit")).stdout
    first = first.strip()
    assert len(first) == 6 and int(first, 16) >= 0
    second = ok(b.cli("task", "add", "write", "the", "docs")).stdout.strip()

    rows = board(b)
    assert [(r["id"], r["title"], r["state"]) for r in rows] == [
        (first, "fix the login form", "open"),
        (second, "write the docs", "open"),
    ]
    assert rows[0]["detail"] == "500 on submit" and rows[0]["created_by"] == "alpha"

    assert ok(a.cli("task", "claim", first)).stdout == (
        f'claimed task {first} "fix the login form" for "alpha"\n'
    )
    assert ok(a.cli("task", "claim", first)).returncode == 0  # again: still alpha's
    row = board(b)[0]
    assert (row["state"], row["claimed_by"], row["claimed_by_name"]) == ("claimed", a.sid, "alpha")
    assert board(a)[0]["mine"] and not board(b)[0]["mine"]
    text = ok(b.cli("task")).stdout  # no step: the list
    assert f'{first}  claimed by "alpha"' in text and "write the docs" in text

    ok(a.cli("task", "done", first[:4], "--note", "merged in 4411"))  # a unique prefix will do
    assert [r["id"] for r in board(b)] == [second]
    done = {r["id"]: r for r in board(b, "--all")}[first]
    assert (done["state"], done["note"]) == ("done", "merged in 4411")
    assert done["done_at"] and stored(a.state, first)["state"] == "done"

    ok(b.cli("task", "claim", second))
    assert ok(b.cli("task", "release", second)).stdout == (
        f'task {second} "write the docs" is open again\n'
    )
    row = stored(b.state, second)
    assert (row["state"], row["claimed_by"], row["claimed_by_name"]) == ("open", None, None)
    ok(a.cli("task", "claim", second))  # open again: anyone may take it


def test_errors_are_one_clear_line(session, plugin, repo):
    a, b = session("alpha"), session("beta")
    task = ok(a.cli("task", "add", "ship it")).stdout.strip()
    assert "no task 'abc123'" in refused(a.cli("task", "claim", "abc123"))
    assert "not a task id" in refused(a.cli("task", "claim", "../etc"))
    assert "not from a terminal" in refused(plugin.cli("task", "claim", task, cwd=repo))
    assert "not claimed" in refused(a.cli("task", "release", task))
    assert "not claimed" in refused(a.cli("task", "done", task))
    assert "say what" in refused(a.cli("task", "add", "  "))

    ok(a.cli("task", "claim", task))
    line = refused(b.cli("task", "done", task))
    assert 'claimed by "alpha", not you' in line and "--force" in line
    assert 'claimed by "alpha", not you' in refused(b.cli("task", "release", task))
    ok(plugin.cli("task", "done", task, "--force", cwd=repo))  # a person may close it
    assert "already done" in refused(b.cli("task", "claim", task))
    assert "already done" in refused(a.cli("task", "done", task))
    assert "already done" in refused(a.cli("task", "release", task))


def test_a_second_claimer_is_told_who_has_it(session, state):
    a, b = session("alpha"), session("beta")
    task = ok(a.cli("task", "add", "fix the cache")).stdout.strip()
    ok(a.cli("task", "claim", task))
    line = refused(b.cli("task", "claim", task))
    assert f'task {task} is claimed by session "alpha"' in line
    assert stored(state, task)["claimed_by"] == a.sid


def test_a_dead_claimers_task_is_open_again(session, state):
    a, b = session("alpha"), session("beta")
    task = ok(a.cli("task", "add", "fix the cache")).stdout.strip()
    ok(a.cli("task", "claim", task))
    a.proc.kill()  # its Claude Code process died without SessionEnd

    assert board(b)[0]["state"] == "open"
    assert stored(state, task)["state"] == "open"  # stored back, not only shown
    ok(b.cli("task", "claim", task))
    assert stored(state, task)["claimed_by"] == b.sid


def test_a_dead_claimer_does_not_block_a_claim_before_any_list(session, state):
    a, b = session("alpha"), session("beta")
    task = ok(a.cli("task", "add", "fix the cache")).stdout.strip()
    ok(a.cli("task", "claim", task))
    a.proc.kill()
    assert ok(b.cli("task", "claim", task)).stdout.endswith('for "beta"\n')


def test_done_tells_the_other_sessions_at_their_next_prompt(session):
    a, b = session("alpha"), session("beta")
    task = ok(a.cli("task", "add", "fix the login form")).stdout.strip()
    ok(a.cli("task", "claim", task))
    assert task not in prompt(a) + prompt(b)  # nothing about it before
    out = ok(a.cli("task", "done", task, "--note", "merged")).stdout
    assert "told 1 other session(s)" in out
    shown = prompt(b)
    # The body is framed as one JSON string, so the title's quotes come escaped.
    assert '- note from "alpha" ' in shown, shown
    assert f'"task {task} \\"fix the login form\\" is done: merged"' in shown, shown
    assert task not in prompt(a)  # not told of its own work
    assert task not in prompt(b)  # told once


def test_sessions_shows_a_claimed_task_as_the_sessions_task(session, plugin, repo):
    a, b = session("alpha"), session("beta")
    task = ok(a.cli("task", "add", "fix the login form")).stdout.strip()
    other = ok(a.cli("task", "add", "write the docs")).stdout.strip()
    ok(a.cli("task", "claim", task))
    ok(b.cli("doing", "reviewing"))
    ok(b.cli("task", "claim", other))

    rows = {r["name"]: r for r in json.loads(ok(plugin.cli("sessions", "--json", cwd=repo)).stdout)}
    assert rows["alpha"]["task"] == f"task {task}: fix the login form"
    assert rows["alpha"]["claimed_tasks"] == [{"id": task, "title": "fix the login form"}]
    assert rows["beta"]["task"] == "reviewing"  # its own words come first
    assert rows["beta"]["claimed_tasks"] == [{"id": other, "title": "write the docs"}]
    table = ok(plugin.cli("sessions", cwd=repo)).stdout
    line = next(line for line in table.splitlines() if "alpha" in line)
    assert f"task {task}: fix the login form" in line

    a.proc.kill()
    everyone = json.loads(ok(plugin.cli("sessions", "--json", "--all", cwd=repo)).stdout)
    gone = next(r for r in everyone if r["name"] == "alpha")
    assert gone["claimed_tasks"] == [] and gone["task"] == ""


# --- the race ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stand_ins() -> Iterator[list[StandIn]]:
    procs = [StandIn() for _ in range(RACERS)]
    yield procs
    for proc in procs:
        proc.kill()


def registered(state: Path, repo: Path, stand_ins: list[StandIn]) -> list[tuple[str, str, int]]:
    """(session id, name, pid) of RACERS live sessions, each with its own stand-in process."""
    from huddle.peers import procs
    from huddle.store import heartbeats

    found = []
    for i, proc in enumerate(stand_ins):
        sid, name = new_session_id(), f"racer{i:02d}"
        start = procs.start_time(proc.pid)
        assert start is not None
        record = make_record(
            sid, name=name, pid=proc.pid, pid_start=start, worktree=str(repo), cwd=str(repo)
        )
        heartbeats.write(str(state), record)
        found.append((sid, name, proc.pid))
    return found


def race(
    plugin: Plugin, repo: Path, racers: list[tuple[str, str, int]], task: str
) -> list[subprocess.CompletedProcess[str]]:
    """`huddle task claim TASK` once per session, all released at one moment by a pipe."""
    return race_cli(plugin, repo, [(sid, pid, ["task", "claim", task]) for sid, _, pid in racers])


def test_sixteen_sessions_claim_one_task_at_once_and_exactly_one_wins(tmp_path, stand_ins):
    plugin = Plugin(tmp_path / "data")
    for n in range(ROUNDS):
        repo = make_repo(tmp_path / f"shop{n}", commit=False)
        plugin.cli("enable", cwd=repo, check=True)
        state = repo / ".claude" / "sessions"
        racers = registered(state, repo, stand_ins)
        task = plugin.cli("task", "add", f"round {n}", cwd=repo, check=True).stdout.strip()
        others = [plugin.cli("task", "add", f"other {i}", cwd=repo, check=True) for i in range(3)]

        results = race(plugin, repo, racers, task)

        codes = [r.returncode for r in results]
        assert sorted(codes) == [0] + [1] * (RACERS - 1), [
            (r.returncode, r.stderr) for r in results
        ]
        win = codes.index(0)
        win_sid, win_name, _ = racers[win]
        assert results[win].stdout == f'claimed task {task} "round {n}" for "{win_name}"\n'
        for i, result in enumerate(results):
            if i != win:
                assert result.stdout == ""
                assert f'task {task} is claimed by session "{win_name}"' in result.stderr
        # The board is never torn: every file parses, and only task files and the guard remain.
        names = sorted(os.listdir(state / "tasks"))
        ids = [task, *(o.stdout.strip() for o in others)]
        assert names == sorted([".lock", *(f"{i}.json" for i in ids)])  # no temp file left
        for name in names:
            if name.endswith(".json"):
                json.loads((state / "tasks" / name).read_text())
        won = stored(state, task)
        assert (won["state"], won["claimed_by"], won["claimed_by_name"]) == (
            "claimed",
            win_sid,
            win_name,
        )
    assert "unexpected" not in plugin.log_text() and "Traceback" not in plugin.log_text()
