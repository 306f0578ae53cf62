"""Sixteen real `huddle lock` processes racing for one lock: exactly one wins, every time.

Each racer is `bin/huddle lock ...` as the model's Bash tool would run it, with its own
CLAUDE_CODE_SESSION_ID and a live stand-in process as CLAUDE_PID, all sessions registered
beforehand. They are all spawned first and blocked reading a pipe; closing the pipe's write end
releases them together, so the contention is real and needs no sleeping.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import Plugin, StandIn, make_record, make_repo, new_session_id, race_cli

RACERS = 16
ROUNDS = 5


@pytest.fixture(scope="module")
def stand_ins() -> Iterator[list[StandIn]]:
    procs = [StandIn() for _ in range(RACERS)]
    yield procs
    for proc in procs:
        proc.kill()


def registered_sessions(state: Path, repo: Path, stand_ins: list[StandIn]) -> list[tuple[str, str]]:
    """(session id, name) of RACERS live sessions, each with its own stand-in process."""
    from huddle.peers import procs
    from huddle.store import heartbeats

    sessions = []
    for i, proc in enumerate(stand_ins):
        sid, name = new_session_id(), f"racer{i:02d}"
        start = procs.start_time(proc.pid)
        assert start is not None
        heartbeats.write(
            str(state),
            make_record(
                sid,
                name=name,
                pid=proc.pid,
                pid_start=start,
                worktree=str(repo),
                cwd=str(repo),
                branch=f"b{i}",
            ),
        )
        sessions.append((sid, name))
    return sessions


def race(
    plugin: Plugin, repo: Path, racers: list[tuple[str, int, str]]
) -> list[subprocess.CompletedProcess[str]]:
    """Run `huddle lock PATTERN` once per (session id, pid, pattern), released at one moment."""
    return race_cli(plugin, repo, [(sid, pid, ["lock", pattern]) for sid, pid, pattern in racers])


def fresh_repo(tmp_path: Path, plugin: Plugin, n: int) -> tuple[Path, Path]:
    repo = make_repo(tmp_path / f"shop{n}", commit=False)
    (repo / "src").mkdir()
    (repo / "src" / "app.py").write_text("app\n")
    plugin.cli("enable", cwd=repo, check=True)
    return repo, repo / ".claude" / "sessions"


def check_one_winner(
    results: list[subprocess.CompletedProcess[str]],
    sessions: list[tuple[str, str]],
    state: Path,
) -> int:
    codes = [r.returncode for r in results]
    winners = [i for i, code in enumerate(codes) if code == 0]
    assert len(winners) == 1, [(r.returncode, r.stderr) for r in results]
    assert sorted(codes) == [0] + [1] * (RACERS - 1), [r.stderr for r in results]
    win = winners[0]
    win_sid, win_name = sessions[win]
    assert f'for "{win_name}"' in results[win].stdout
    for i, result in enumerate(results):
        if i != win:
            assert f'is locked by session "{win_name}"' in result.stderr, result.stderr
            assert result.stdout == ""
    files = [p for p in (state / "locks").rglob("*.json")]
    assert len(files) == 1, files
    lock = json.loads(files[0].read_text())  # whole, valid JSON
    assert (lock["holder"], lock["holder_name"]) == (win_sid, win_name)
    return win


def test_sixteen_processes_race_for_one_lock_and_exactly_one_wins(tmp_path, stand_ins):
    plugin = Plugin(tmp_path / "data")
    for n in range(ROUNDS):
        repo, state = fresh_repo(tmp_path, plugin, n)
        sessions = registered_sessions(state, repo, stand_ins)
        racers = [(sid, proc.pid, "src/app.py") for (sid, _), proc in zip(sessions, stand_ins)]
        results = race(plugin, repo, racers)
        check_one_winner(results, sessions, state)
        lock = json.loads((state / "locks" / "src%2Fapp.py.json").read_text())
        assert lock["pattern"] == "src/app.py"
    assert "unexpected" not in plugin.log_text() and "Traceback" not in plugin.log_text()


def test_sixteen_processes_race_for_overlapping_patterns_and_exactly_one_wins(tmp_path, stand_ins):
    plugin = Plugin(tmp_path / "data")
    patterns = ["src/app.py", "src/*.py", "src/*"]
    for n in range(2):
        repo, state = fresh_repo(tmp_path, plugin, n)
        sessions = registered_sessions(state, repo, stand_ins)
        racers = [
            (sid, proc.pid, patterns[(i + n) % 3])
            for i, ((sid, _), proc) in enumerate(zip(sessions, stand_ins))
        ]
        results = race(plugin, repo, racers)
        win = check_one_winner(results, sessions, state)
        lock = json.loads(next((state / "locks").rglob("*.json")).read_text())
        assert lock["pattern"] == racers[win][2]
    assert "Traceback" not in plugin.log_text()
