"""Edit awareness through the real hook commands: touched files, soft leases, warnings before a
conflicting edit, Bash edits found at Stop, the git-state guard, and messages between sessions.

Every hook runs as Claude Code runs it (`sh hooks/run <Event>` with the event on stdin), each
session with a real stand-in process as its CLAUDE_PID, in real repositories and worktrees.
Nothing waits on the clock: leases, markers and records are aged by rewriting them.
"""

from __future__ import annotations

import getpass
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import (
    Plugin,
    Session,
    StandIn,
    denial,
    git,
    lease_folder,
    make_repo,
    warning,
)

LONG_AGO = 1_000_000_000.0  # 2001


# --- plumbing -------------------------------------------------------------------------------


def forget_warnings(state: Path) -> None:
    shutil.rmtree(state / "warned", ignore_errors=True)


REPO_FILES = {"src/app.py": "print('app')\n"}  # committed by conftest's `repo`


@pytest.fixture
def session(plugin: Plugin, state: Path, spawn: Callable[[], StandIn]) -> Callable[..., Session]:
    def make(cwd: Path, name: str | None = None, task: str | None = None) -> Session:
        s = Session(plugin, state, cwd, spawn()).start()
        if name:
            assert s.cli("name", name).returncode == 0
        if task:
            assert s.cli("doing", task).returncode == 0
        return s

    return make


# --- touched files and leases -----------------------------------------------------------------


def test_every_edit_tool_records_its_file_and_takes_a_lease(repo, state, session):
    a = session(repo)
    edits = [
        ("Write", "file_path", "notes.md"),
        ("Edit", "file_path", "src/app.py"),
        ("MultiEdit", "file_path", "src/util.py"),
        ("NotebookEdit", "notebook_path", "analysis.ipynb"),
    ]
    before = time.time()
    for tool, field, rel in edits:
        (repo / rel).write_text("x\n")
        assert a.tool("PostToolUse", tool, repo / rel, key=field) is None
    after = time.time()

    files = a.record()["files"]
    assert [f["path"] for f in files] == [rel for _, _, rel in reversed(edits)]  # newest first
    stamps = [f["at"] for f in files]
    assert stamps == sorted(stamps, reverse=True)
    assert all(before <= at <= after for at in stamps)
    for _, _, rel in edits:
        lease = json.loads(a.lease(rel).read_text())
        assert lease["path"] == rel
        assert lease["session_id"] == a.sid
        assert lease["worktree"] == str(repo)
        assert before <= lease["at"] <= after
    # Other tools touch nothing.
    assert a.tool("PostToolUse", "Read", repo / "README.md") is None
    assert "README.md" not in a.files()
    assert not lease_folder(state, "README.md").exists()


def test_touched_files_are_bounded_newest_first_and_never_repeated(repo, session):
    a = session(repo)
    assert a.cli("config", "recent_files", "3").returncode == 0
    for name in ("a.py", "b.py", "c.py", "d.py", "b.py"):
        a.edited(repo / name)
    assert a.files() == ["b.py", "d.py", "c.py"]
    a.edited(repo / "d.py", tool="Write")
    assert a.files() == ["d.py", "b.py", "c.py"]


def test_paths_are_named_relative_to_the_worktree_they_are_in(tmp_path, repo, linked, session):
    (repo / "pkg").mkdir()
    (repo / "pkg" / "real.py").write_text("x\n")
    (repo / "via").symlink_to(repo / "pkg")  # a folder symlink
    (repo / "alias.py").symlink_to(repo / "pkg" / "real.py")  # a file symlink
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (repo / "out").symlink_to(outside)  # leads out of the repository
    other = make_repo(tmp_path / "other-repo")
    deep = repo / "src" / "deep"
    deep.mkdir()
    a = session(deep)  # runs in a subdirectory

    cases: list[tuple[Path | str, str | None]] = [
        (repo / "src" / "app.py", "src/app.py"),
        (deep / ".." / ".." / "lib" / "x.py", "lib/x.py"),
        (repo / "via" / "mod.py", "pkg/mod.py"),
        (repo / "alias.py", "pkg/real.py"),
        (repo / ".claude" / "settings.json", ".claude/settings.json"),
        (linked / "src" / "only_here.py", "src/only_here.py"),  # relative to THAT worktree
        (outside / "x.py", None),
        (repo / "out" / "y.py", None),
        (repo / ".git" / "config", None),
        (repo / ".git" / "info" / "exclude", None),
        (linked / ".git", None),
        (repo / ".claude" / "sessions" / "huddle.json", None),
        (repo / ".claude" / "sessions" / "notes.txt", None),
        (other / "README.md", None),
        ("src/app.py", None),  # not absolute: edit tools never send that
    ]
    for path, _ in cases:
        a.edited(path)

    expected = {key for _, key in cases if key is not None}
    assert set(a.files()) == expected
    assert len(a.files()) == len(expected)
    leased = {p.name for p in (a.state / "leases").iterdir()}
    assert leased == {lease_folder(a.state, key).name for key in expected}
    lease = json.loads(a.lease("src/only_here.py").read_text())
    assert lease["worktree"] == str(linked)
    assert json.loads(a.lease("src/app.py").read_text())["worktree"] == str(repo)


# --- warnings before a conflicting edit ---------------------------------------------------------


def test_an_edit_in_another_worktree_warns_of_a_future_conflict(repo, state, linked, session):
    a = session(repo, task="refactoring the cart")
    b = session(linked)
    (repo / "src" / "app.py").write_text("A's version\n")
    a.edited(repo / "src" / "app.py", tool="Write")

    text = warning(b.before_edit(linked / "src" / "app.py"))
    assert '"main"' in text
    assert "branch main" in text
    assert "worktree main checkout" in text
    assert 'task: "refactoring the cart"' in text
    assert "src/app.py" in text
    assert "just now" in text
    assert "branches will conflict" in text
    assert 'huddle send main "' in text
    assert "ui-fixes" not in text
    b.edited(linked / "src" / "app.py")

    # Once per warn_every for the same file and peer, not on every edit.
    assert b.before_edit(linked / "src" / "app.py") is None
    assert b.before_edit(linked / "src" / "app.py", tool="Write") is None
    # Another file of no peer's: nothing.
    assert b.before_edit(linked / "src" / "other.py") is None

    markers = list((state / "warned" / b.sid).iterdir())
    assert len(markers) == 1 and a.sid in markers[0].name
    recent = time.time() - 100
    os.utime(markers[0], (recent, recent))
    assert b.before_edit(linked / "src" / "app.py") is None  # 100 s < 300 s
    assert b.cli("config", "warn_every", "60").returncode == 0
    assert '"main"' in warning(b.before_edit(linked / "src" / "app.py"))
    assert b.cli("config", "warn_every", "5m").returncode == 0
    os.utime(markers[0], (LONG_AGO, LONG_AGO))
    assert '"main"' in warning(b.before_edit(linked / "src" / "app.py"))

    # A, in turn, is warned about B's edit, with B's own branch and worktree.
    text = warning(a.before_edit(repo / "src" / "app.py"))
    assert '"ui-fixes"' in text and "branch ui/fixes" in text and "worktree ../shop-ui" in text
    assert "branches will conflict" in text


def test_an_edit_in_the_same_worktree_warns_that_they_overwrite_each_other(repo, session):
    a = session(repo)
    b = session(repo / "src")
    a.edited(repo / "src" / "app.py")
    text = warning(b.before_edit(repo / "src" / "app.py"))
    assert '"main"' in text and "src/app.py" in text
    assert "same worktree" in text
    assert "overwrite the other's changes" in text
    assert "branches will conflict" not in text


def _age_lease(a: Session, key: str, seconds: float) -> None:
    path = a.lease(key)
    lease = json.loads(path.read_text())
    lease["at"] = time.time() - seconds
    path.write_text(json.dumps(lease))


def _end(a: Session) -> None:
    assert a.hook("SessionEnd") is None
    assert a.record()["state"] == "ended"
    assert not a.lease("src/app.py").exists()


def _kill(a: Session) -> None:
    a.proc.kill()


def _reuse_pid(a: Session) -> None:
    path = a.state / f"{a.sid}.json"
    record = json.loads(path.read_text())
    assert record["pid"] == a.proc.pid and record["pid_start"]
    record["pid_start"] = str(int(record["pid_start"]) + 1)  # same pid, another process
    path.write_text(json.dumps(record))


GONE: dict[str, Callable[[Session], None]] = {
    "lease expired": lambda a: _age_lease(a, "src/app.py", 601),
    "peer ended": _end,
    "peer process dead": _kill,
    "peer pid reused": _reuse_pid,
}


@pytest.mark.parametrize("how", list(GONE))
def test_no_warning_once_the_peer_no_longer_holds_the_file(repo, state, linked, session, how):
    a = session(repo)
    b = session(linked)
    a.edited(repo / "src" / "app.py")
    assert '"main"' in warning(b.before_edit(linked / "src" / "app.py"))  # the control
    forget_warnings(state)

    GONE[how](a)
    assert b.before_edit(linked / "src" / "app.py") is None
    b.edited(linked / "src" / "app.py")
    assert "src/app.py" in b.files()
    assert not (state / "warned" / b.sid).exists()


def test_the_lease_ttl_setting_applies_to_leases_already_taken(repo, state, linked, session):
    a = session(repo)
    b = session(linked)
    a.edited(repo / "src" / "app.py")
    _age_lease(a, "src/app.py", 120)
    assert b.cli("config", "lease_ttl", "60").returncode == 0
    assert b.before_edit(linked / "src" / "app.py") is None
    assert b.cli("config", "lease_ttl", "10m").returncode == 0
    text = warning(b.before_edit(linked / "src" / "app.py"))
    assert '"main"' in text and "2m ago" in text


# --- Bash edits, found at the end of the turn ---------------------------------------------------


SED_I = """
import os, sys
path = sys.argv[1]
text = open(path).read().replace("app", "application")
with open(path + ".sedtmp", "w") as out:  # what `sed -i` does: a new file renamed over
    out.write(text)
os.replace(path + ".sedtmp", path)
os.makedirs("gen", exist_ok=True)
open("gen/new.py", "w").write("generated = True\\n")
"""


def bash(cwd: Path, script: str, *args: str) -> None:
    """A command the model ran through Bash: a child process the hooks never hear about."""
    subprocess.run([sys.executable, "-c", script, *args], cwd=cwd, check=True)


def test_stop_records_files_that_bash_changed_during_the_turn(repo, state, session):
    (repo / "dirty.txt").write_text("committed\n")
    git(repo, "add", "dirty.txt")
    git(repo, "commit", "-q", "-m", "dirty")
    (repo / "dirty.txt").write_text("changed before the session started\n")
    (repo / "old-untracked.txt").write_text("also there before\n")

    a = session(repo)  # SessionStart takes the baseline
    assert a.hook("UserPromptSubmit") is None
    bash(repo, SED_I, "src/app.py")
    assert a.hook("Stop") is None
    assert sorted(a.files()) == ["gen/new.py", "src/app.py"]
    assert a.record()["state"] == "idle"
    for key in ("gen/new.py", "src/app.py"):
        assert json.loads(a.lease(key).read_text())["session_id"] == a.sid
    assert not lease_folder(state, "dirty.txt").exists()
    assert not lease_folder(state, "old-untracked.txt").exists()

    # A turn that changes nothing adds nothing; one that changes the old dirty file does.
    stamps = a.record()["files"]
    a.hook("UserPromptSubmit")
    assert a.hook("Stop") is None
    assert a.record()["files"] == stamps
    a.hook("UserPromptSubmit")
    bash(repo, "open('dirty.txt', 'a').write('and now by this session\\n')")
    a.hook("Stop")
    assert a.files()[0] == "dirty.txt"
    assert a.lease("dirty.txt").exists()


def test_stop_leaves_a_live_peers_edits_in_the_same_worktree_to_the_peer(repo, state, session):
    a = session(repo)
    b = session(repo)
    a.hook("UserPromptSubmit")
    (repo / "peer.py").write_text("B wrote this with its Write tool\n")
    b.edited(repo / "peer.py", tool="Write")
    bash(repo, "open('mine.py', 'w').write('A made this through Bash\\n')")
    a.hook("Stop")
    assert a.files() == ["mine.py"]
    assert not a.lease("peer.py").exists()
    assert b.lease("peer.py").exists()
    assert b.files() == ["peer.py"]


# --- the git-state guard ------------------------------------------------------------------------

RISKY = ["git stash", "cd sub && git checkout -b x", "GIT_TRACE=0 git reset --hard"]


def test_git_guard_warns_about_a_live_peer_in_the_same_worktree(repo, state, session):
    (repo / "sub").mkdir()
    session(repo, task="editing the cart")
    b = session(repo)
    for command in RISKY:
        text = warning(b.before_bash(command))
        assert '"main"' in text, command
        assert '"main-2"' not in text, command
    text = warning(b.before_bash("git stash"))
    assert "`git stash`" in text and 'task: "editing the cart"' in text
    for harmless in ("git status", "ls -la", "git log --oneline | head", "echo git stash"):
        assert b.before_bash(harmless) is None, harmless

    assert b.cli("config", "git_guard", "deny").returncode == 0
    for command in RISKY:
        assert '"main"' in denial(b.before_bash(command)), command
    assert b.before_bash("git status") is None
    assert b.cli("config", "git_guard", "off").returncode == 0
    for command in RISKY:
        assert b.before_bash(command) is None, command


def test_git_guard_is_quiet_about_peers_in_other_worktrees_and_dead_ones(
    repo, state, linked, session
):
    a = session(linked)
    b = session(repo)
    for command in RISKY:
        assert b.before_bash(command.replace("cd sub", "cd src")) is None, command
    # Unless the command is aimed at the peer's worktree.
    assert '"ui-fixes"' in warning(b.before_bash(f"git -C {linked} stash"))
    a.proc.kill()
    assert b.before_bash(f"git -C {linked} stash") is None


# --- messages -----------------------------------------------------------------------------------


def test_a_message_is_shown_at_the_next_prompt_exactly_once(repo, linked, session, plugin):
    a = session(repo)
    b = session(linked)
    sent = a.cli("send", "ui-fixes", "please leave src/app.py to me")
    assert sent.returncode == 0, sent.stderr
    assert '"ui-fixes"' in sent.stdout

    output = b.hook("UserPromptSubmit")
    assert output is not None
    specific = output["hookSpecificOutput"]
    assert specific["hookEventName"] == "UserPromptSubmit"
    text = specific["additionalContext"]
    assert "please leave src/app.py to me" in text
    assert 'from "main" (branch main)' in text
    assert "not an instruction" in text
    assert b.hook("UserPromptSubmit") is None
    assert a.hook("UserPromptSubmit") is None  # the sender's own inbox is empty

    # From a plain terminal, the person is named.
    assert plugin.cli("send", "ui-fixes", "lunch?", cwd=repo).returncode == 0
    text = b.hook("UserPromptSubmit")["hookSpecificOutput"]["additionalContext"]
    assert "lunch?" in text and "please leave" not in text
    assert f'from "{getpass.getuser()}" at' in text
