"""Explicit locks: `huddle lock`, `huddle unlock`, `huddle locks`, and the PreToolUse deny.

Sessions run their hooks through the real launcher with real stand-in processes; the CLI runs
as the model's Bash tool runs it (CLAUDE_CODE_SESSION_ID and CLAUDE_PID set) or from a plain
terminal (neither set). Time passes by rewriting a lock's `expires`, never by waiting.
"""

from __future__ import annotations

import getpass
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import Plugin, Session, StandIn, denial, make_repo

REPO_FILES = ("src/app.py", "src/a/b.py", "lib/x.py")  # committed by conftest's `repo`


@pytest.fixture
def procs() -> Iterator[list[StandIn]]:
    made: list[StandIn] = []
    yield made
    for proc in made:
        proc.kill()


@pytest.fixture
def a(plugin: Plugin, state: Path, repo: Path, procs: list[StandIn]) -> Session:
    """Session "main", in the main checkout."""
    procs.append(StandIn())
    return Session(plugin, state, repo, procs[-1]).start()


@pytest.fixture
def b(plugin: Plugin, state: Path, linked: Path, procs: list[StandIn]) -> Session:
    """Session "ui-fixes", in a linked worktree on branch ui/fixes."""
    procs.append(StandIn())
    return Session(plugin, state, linked, procs[-1]).start()


def lock_file(state: Path, pattern: str) -> Path:
    from huddle.store.layout import encode

    folder = state / "locks" / ("globs" if any(c in pattern for c in "*?[") else "")
    return folder / f"{encode(pattern)}.json"


def ok(done: Any) -> str:
    assert done.returncode == 0, done.stderr
    out: str = done.stdout
    return out


def refused(done: Any) -> str:
    """An expected error: exit 1 and one line on stderr, nothing on stdout."""
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
    assert done.stdout == ""
    assert done.stderr.startswith("huddle: ") and done.stderr.count("\n") == 1, done.stderr
    err: str = done.stderr
    return err


def expire(state: Path, pattern: str, seconds: float = -1) -> None:
    """Make the lock end `seconds` from now (by default: a second ago)."""
    path = lock_file(state, pattern)
    lock = json.loads(path.read_text())
    lock["expires"] = time.time() + seconds
    path.write_text(json.dumps(lock))


def who_can_edit(session: Session, worktree: Path, rel: str) -> bool:
    """Whether PreToolUse lets `session` edit `rel` (a warning still lets it)."""
    output = session.before_edit(worktree / rel, tool="Write")
    if output is None:
        return True
    return output["hookSpecificOutput"].get("permissionDecision") != "deny"


# --- a lock and what it does ------------------------------------------------------------------


def test_a_lock_denies_other_sessions_and_lets_the_holder_edit(repo, linked, state, a, b):
    out = ok(a.cli("lock", "src/app.py", "--reason", "splitting the module"))
    assert out.startswith('locked src/app.py for "main" until ')
    lock = json.loads(lock_file(state, "src/app.py").read_text())
    assert (lock["pattern"], lock["holder"], lock["reason"]) == (
        "src/app.py",
        a.sid,
        "splitting the module",
    )
    assert abs(lock["expires"] - (time.time() + 7200)) < 60  # lock_ttl's default

    for tool in ("Write", "Edit", "MultiEdit"):  # every time, not once per few minutes
        reason = denial(b.before_edit(linked / "src" / "app.py", tool=tool))
        assert "src/app.py is locked by session" in reason
        assert '"main" (branch main, worktree main checkout)' in reason
        assert '"splitting the module"' in reason
        assert 'huddle send main "' in reason
        assert "The edit was not made" in reason
    notebook = b.tool("PreToolUse", "NotebookEdit", linked / "src" / "app.py", "notebook_path")
    assert denial(notebook)
    assert b.before_edit(linked / "src" / "other.py") is None
    assert b.before_edit(linked / "lib" / "x.py") is None

    assert a.before_edit(repo / "src" / "app.py") is None  # the holder's own edit passes
    a.edited(repo / "src" / "app.py")


def test_locks_show_in_locks_and_sessions(repo, state, a, b, plugin):
    ok(a.cli("lock", "src/app.py", "--reason", "splitting the module"))
    ok(a.cli("lock", "lib/*"))

    listing = ok(plugin.cli("locks", cwd=repo)).splitlines()
    assert len(listing) == 2
    assert listing[0].startswith("  lib/*  main  since just now, until ")
    assert listing[1].startswith("  src/app.py  main  since just now, until ")
    assert listing[1].endswith('"splitting the module"')
    assert ok(a.cli("locks")).splitlines()[1].startswith("* src/app.py  main")  # mine

    rows = json.loads(ok(b.cli("locks", "--json")))
    assert [r["pattern"] for r in rows] == ["lib/*", "src/app.py"]
    row = rows[1]
    assert (row["holder"], row["holder_session"], row["reason"], row["mine"]) == (
        "main",
        a.sid,
        "splitting the module",
        False,
    )
    assert row["expires"] > time.time()
    assert all(r["mine"] for r in json.loads(ok(a.cli("locks", "--json"))))

    sessions = {s["name"]: s for s in json.loads(ok(plugin.cli("sessions", "--json", cwd=repo)))}
    held = {lk["pattern"]: lk for lk in sessions["main"]["locks"]}
    assert sorted(held) == ["lib/*", "src/app.py"] and len(sessions["main"]["locks"]) == 2
    assert held["src/app.py"]["reason"] == "splitting the module"
    assert held["src/app.py"]["until"]
    assert sessions["ui-fixes"]["locks"] == []
    assert "locked:src/app.py" in ok(plugin.cli("sessions", cwd=repo))

    ok(a.cli("unlock", "--all"))
    assert ok(plugin.cli("locks", cwd=repo)) == "No locks in this repository.\n"
    assert json.loads(ok(plugin.cli("locks", "--json", cwd=repo))) == []


def test_a_glob_lock_covers_whole_paths_in_every_worktree(linked, state, a, b):
    ok(a.cli("lock", "src/*.py", "--reason", "renaming"))
    assert lock_file(state, "src/*.py").is_file()
    for rel in ("src/app.py", "src/a/b.py", "src/new.py"):
        reason = denial(b.before_edit(linked / rel))
        assert f"{rel} (lock on src/*.py)" in reason and '"main"' in reason
    for rel in ("lib/x.py", "src/notes.md", "app.py"):
        assert b.before_edit(linked / rel) is None, rel

    # Overlapping locks are refused, naming the holder; others are not.
    for pattern in ("src/app.py", "src/*", "src/a/b.py", "*.py"):
        err = refused(b.cli("lock", pattern))
        assert "src/*.py is locked by session" in err and '"main"' in err, pattern
        assert 'huddle send main "' in err
    assert not lock_file(state, "src/app.py").exists()
    assert ok(b.cli("lock", "lib/x.py")).startswith('locked lib/x.py for "ui-fixes"')
    assert ok(a.cli("lock", "src/app.py"))  # the holder may add to its own


# --- how a lock ends ----------------------------------------------------------------------------


def _unlock(a: Session, state: Path) -> None:
    assert ok(a.cli("unlock", "src/app.py")) == "unlocked src/app.py\n"
    assert not lock_file(state, "src/app.py").exists()


def _session_end(a: Session, state: Path) -> None:
    assert a.hook("SessionEnd") is None
    assert not lock_file(state, "src/app.py").exists()


def _pid_reused(a: Session, state: Path) -> None:
    path = state / f"{a.sid}.json"
    record = json.loads(path.read_text())
    record["pid_start"] = str(int(record["pid_start"]) + 1)
    path.write_text(json.dumps(record))


ENDS: dict[str, Callable[[Session, Path], None]] = {
    "unlock": _unlock,
    "ttl": lambda a, state: expire(state, "src/app.py"),
    "session end": _session_end,
    "process dead": lambda a, state: a.proc.kill(),
    "pid reused": _pid_reused,
}


@pytest.mark.parametrize("how", list(ENDS))
def test_a_lock_ends(linked, state, a, b, how):
    ok(a.cli("lock", "src/app.py", "--ttl", "1" if how == "ttl" else "2h"))
    if how == "ttl":
        lock = json.loads(lock_file(state, "src/app.py").read_text())
        assert lock["expires"] - lock["at"] == pytest.approx(1)
        expire(state, "src/app.py", 600)  # so that the control below cannot race the clock
    assert not who_can_edit(b, linked, "src/app.py")  # the control
    ENDS[how](a, state)
    assert who_can_edit(b, linked, "src/app.py")
    assert ok(b.cli("lock", "src/app.py")).startswith('locked src/app.py for "ui-fixes"')
    holder = json.loads(lock_file(state, "src/app.py").read_text())["holder"]
    assert holder == b.sid
    if how in ("unlock", "ttl"):  # A is still here, and now B's lock binds it
        assert '"ui-fixes"' in denial(a.before_edit(a.cwd / "src" / "app.py"))


def test_a_lock_from_a_terminal_binds_every_session_until_its_ttl(
    repo, linked, state, a, b, plugin
):
    ok(plugin.cli("lock", "src/app.py", "--reason", "release freeze", "--ttl", "30m", cwd=repo))
    lock = json.loads(lock_file(state, "src/app.py").read_text())
    assert lock["holder"] == f"user:{getpass.getuser()}"
    for session, worktree in ((a, repo), (b, linked)):
        reason = denial(session.before_edit(worktree / "src" / "app.py"))
        assert f"{getpass.getuser()}, a person at a terminal" in reason
        assert '"release freeze"' in reason
        assert "Ask that person for it" in reason
        assert "huddle send" not in reason
    err = refused(a.cli("lock", "src/app.py"))
    assert "a person at a terminal" in err
    # No session's end or death frees it.
    a.hook("SessionEnd")
    b.proc.kill()
    assert lock_file(state, "src/app.py").is_file()
    assert "release freeze" in ok(plugin.cli("locks", cwd=repo))

    expire(state, "src/app.py")
    assert who_can_edit(a, repo, "src/app.py")
    assert ok(plugin.cli("locks", cwd=repo)) == "No locks in this repository.\n"


def test_only_the_holder_unlocks_unless_forced_and_then_the_holder_is_told(
    repo, linked, state, a, b, plugin
):
    ok(a.cli("lock", "src/app.py", "--reason", "mine for now"))
    err = refused(b.cli("unlock", "src/app.py"))
    assert '"main"' in err and "--force" in err
    assert lock_file(state, "src/app.py").is_file()
    assert a.hook("UserPromptSubmit") is None

    assert ok(plugin.cli("unlock", "--force", "src/app.py", cwd=repo)) == "unlocked src/app.py\n"
    assert not lock_file(state, "src/app.py").exists()
    assert who_can_edit(b, linked, "src/app.py")

    told = a.hook("UserPromptSubmit")
    assert told is not None
    text = told["hookSpecificOutput"]["additionalContext"]
    assert "Your lock on src/app.py was broken by " + getpass.getuser() in text
    assert "huddle unlock --force" in text
    assert a.hook("UserPromptSubmit") is None  # told once
    assert b.hook("UserPromptSubmit") is None


def test_unlock_all_releases_only_the_callers_locks(state, a, b):
    ok(a.cli("lock", "src/app.py"))
    ok(a.cli("lock", "lib/*"))
    ok(b.cli("lock", "README.md"))
    assert ok(a.cli("unlock", "--all")) == "released 2 lock(s)\n"
    assert not lock_file(state, "src/app.py").exists()
    assert not lock_file(state, "lib/*").exists()
    assert lock_file(state, "README.md").is_file()
    assert ok(a.cli("unlock", "--all")) == "you hold no locks\n"


# --- what a pattern means -----------------------------------------------------------------------


def test_absolute_and_cwd_relative_patterns_name_the_same_lock(repo, linked, state, a, plugin):
    src = repo / "src"

    def sub(*args: str) -> Any:
        return plugin.cli(*args, cwd=src, session_id=a.sid, pid=a.proc.pid)

    ok(sub("lock", "app.py"))
    ok(a.cli("lock", str(src / "app.py")))  # renews, no second lock
    ok(a.cli("lock", "./lib/../src/app.py"))
    assert [r["pattern"] for r in json.loads(ok(a.cli("locks", "--json")))] == ["src/app.py"]
    ok(sub("lock", "a/*.py"))
    assert lock_file(state, "src/a/*.py").is_file()
    ok(a.cli("unlock", str(src / "a" / "*.py")))
    assert ok(plugin.cli("unlock", "../src/app.py", cwd=src, session_id=a.sid)) == (
        "unlocked src/app.py\n"
    )
    assert json.loads(ok(a.cli("locks", "--json"))) == []
    # A path in a linked worktree names the same file as in the main checkout.
    ok(a.cli("lock", str(linked / "src" / "app.py")))
    assert lock_file(state, "src/app.py").is_file()


def test_errors_say_what_is_wrong_and_change_nothing(tmp_path, repo, state, a, plugin):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    cases = {
        ("lock", "/etc/passwd"): "/etc/passwd is not a file in this repository",
        ("lock", ".git/config"): ".git/config is not a file in this repository",
        ("lock", ".claude/sessions/huddle.json"): "is not a file in this repository",
        ("lock", f"{outside}/*.py"): "is not inside this worktree",
        ("lock", "src/app.py", "--ttl", "soon"): "--ttl soon: lock_ttl takes a positive duration",
        ("lock", "src/app.py", "--ttl", "0"): "lock_ttl must be positive",
        ("lock", "src/app.py", "--ttl", "infm"): "lock_ttl takes a positive duration",
        ("lock", "src/app.py", "--ttl", "999999999d"): "lock_ttl is at most",
        ("lock", "src/"): "src/ is a folder: lock src/* to cover its files",
        ("lock", "."): ". is a folder: lock ./* to cover its files",
        ("unlock", "src/nothing.py"): "no lock on src/nothing.py",
        ("unlock",): "say which lock",
    }
    for args, words in cases.items():
        assert words in refused(a.cli(*args)), args
    assert not (state / "locks").exists() or not any(
        p.suffix == ".json" for p in (state / "locks").rglob("*")
    )
    ok(a.cli("lock", "src/app.py"))
    assert "no lock on lib/x.py (yours: src/app.py)" in refused(a.cli("unlock", "lib/x.py"))
    plain = tmp_path / "not-a-repo"
    plain.mkdir()
    assert "inside a git repository" in refused(plugin.cli("lock", "x", cwd=plain))
    other = make_repo(tmp_path / "other")
    assert "huddle enable" in refused(plugin.cli("locks", cwd=other))
