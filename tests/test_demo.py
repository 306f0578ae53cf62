"""`huddle demo` plays sessions through the real hooks and CLI, and cleans up after itself."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from tests.helpers import HUDDLE

SILENT = "(nothing: huddle stays silent)"


def run_demo(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    scratch_parent = tmp_path / "tmp"
    scratch_parent.mkdir()
    env = {
        **os.environ,
        "CLAUDE_PLUGIN_DATA": str(tmp_path / "data"),
        "TMPDIR": str(scratch_parent),
    }
    done = subprocess.run(
        [str(HUDDLE), "demo", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done, scratch_parent


def steps(output: str) -> dict[int, str]:
    """The text of each numbered step, by number."""
    found = re.split(r"^(\d+)\. ", output, flags=re.MULTILINE)
    return {int(number): text for number, text in zip(found[1::2], found[2::2])}


def test_demo_shows_what_each_session_is_told(tmp_path):
    done, scratch_parent = run_demo(tmp_path)
    by_step = steps(done.stdout)
    assert sorted(by_step) == list(range(1, 14))

    # 1: alone, A is shown nothing.
    assert f"SessionStart hook -> A's model is shown: {SILENT}" in by_step[1]

    # 3: B is told about A: its name, branch and task.
    joined = by_step[3]
    assert "SessionStart hook -> B's model is shown:\n" in joined
    assert '"main": branch main' in joined and '"refactor checkout totals"' in joined
    assert 'You are "ui-fixes" on branch ui/fixes' in joined

    # 4: B's edit and turn bring no text yet.
    assert "(Edit) -> B's model is shown: " + SILENT in by_step[4]

    # 5: A edits the file B edited in its worktree: warned of the conflict to come, edit made.
    warned = by_step[5]
    assert "PreToolUse hook (Edit) -> A's model is shown:" in warned
    assert 'styles.css is also being edited by session "ui-fixes"' in warned
    assert "your branches will conflict" in warned
    assert "A's Edit tool changes styles.css" in warned

    # 6: A's lock refuses B's edit, and the tool does not run.
    refused = by_step[6]
    assert "locked cart.py" in refused
    assert "refuses the call; the tool does not run" in refused
    assert 'cart.py is locked by session "main"' in refused
    assert "B's Edit tool changes cart.py" not in refused

    # 7: B's message wakes A, idle, through A's companion, attributed to B, and only once.
    message = by_step[7]
    assert 'to "main"; it wakes the session now' in message
    assert "A's companion wakes it, with no keystroke; A's model is shown:" in message
    assert "huddle woke this session: 1 new item" in message
    assert 'from "ui-fixes"' in message
    assert message.count('"may I change cart.py after your refactor?"') == 2  # sent, shown once
    assert message.rstrip().endswith(f"UserPromptSubmit hook -> A's model is shown: {SILENT}")

    # 8: A's listing has B in it, live, and A's lock.
    assert re.search(r"\|\s+ui-fixes\s+ui/fixes\s+\.\./shop-ui\s+\w+", by_step[8])
    assert "locked:cart.py" in by_step[8]

    # 9: after SessionEnd, the last listing shows B as not live.
    listing = by_step[9]
    assert "Not live: ui-fixes (ended" in listing
    assert not re.search(r"\|\s+ui-fixes\s+ui/fixes", listing)

    # 10: C is told about A only.
    late = by_step[10]
    assert "1 other Claude Code session is live" in late and '"main": branch main' in late

    # 11: C claims A's task.
    assert re.search(r'claimed task [0-9a-f]{6} "fix the coupon form" for "ui-fixes"', by_step[11])

    # 12: compaction gives A its lock, its file and B's message back; B's goodbye waits for A.
    restored = by_step[12]
    assert "restored after compaction" in restored
    assert "locks you hold (`huddle unlock PATTERN` when done): cart.py (until" in restored
    assert "may I change cart.py after your refactor?" in restored
    assert 'left: "session \\"ui-fixes\\" (branch ui/fixes) ended and gave back' in restored

    # 13: C dies without SessionEnd: A is told once at its next prompt; the task is open again.
    crashed = by_step[13]
    assert crashed.count("ended unexpectedly") == 1
    assert '"fix the coupon form\\" (open again)' in crashed
    assert re.search(r"\|\s+[0-9a-f]{6}\s+open\s+\"fix the coupon form\"", crashed)

    assert "(the hook exited" not in done.stdout and "exit status" not in done.stdout
    assert list(scratch_parent.iterdir()) == []


def test_demo_keep_leaves_the_repository(tmp_path):
    done, scratch_parent = run_demo(tmp_path, "--keep")
    match = re.search(r"^Kept the scratch directory: (.+)$", done.stdout, flags=re.MULTILINE)
    assert match, done.stdout
    scratch = Path(match.group(1))
    assert scratch.is_dir() and scratch.resolve().parent == scratch_parent.resolve()
    assert (scratch / "shop" / ".git").is_dir()
    assert (scratch / "shop-ui" / ".git").is_file()
    state = scratch / "shop" / ".claude" / "sessions"
    assert (state / "huddle.json").is_file()
    assert len(list(state.glob("*-*-*-*-*.json"))) == 3  # A, B and C
