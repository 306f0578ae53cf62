"""`huddle run`: the real CLI runs a command, and its end reaches sessions through the real hooks.

Sessions are registered through SessionStart with stand-in processes; what a session's model is
shown is what its UserPromptSubmit or PostToolUse hook prints. Signals are sent once the
command has said, through the pipe, that it is running: no sleeps decide anything.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import HUDDLE, Plugin, Session, StandIn, checked, sample
from tests.test_messages import ITEM

LIMIT = 60
BOOM = "echo hi; echo boom >&2; exit 3"


@pytest.fixture
def session(plugin: Plugin, state: Path, spawn: Callable[[], StandIn]) -> Callable[..., Session]:
    def make(cwd: Path, name: str) -> Session:
        s = Session(plugin, state, cwd, spawn()).start()
        assert s.cli("name", name).returncode == 0
        return s

    return make


def shown(s: Session, event: str) -> list[dict[str, Any]]:
    """The items `event`'s hook shows the session's model (UserPromptSubmit or PostToolUse)."""
    name = "UserPromptSubmit" if event == "UserPromptSubmit" else "PostToolUse-Bash"
    output = checked(s.plugin.hook(event, sample(name, s.sid, s.cwd), cwd=s.cwd, pid=s.proc.pid))
    if output is None:
        return []
    assert output["hookSpecificOutput"]["hookEventName"] == event
    lines = output["hookSpecificOutput"]["additionalContext"].split("\n")[1:]
    found = []
    for line in lines:
        match = ITEM.match(line)
        assert match, line
        value = match.groupdict()
        value["body"] = json.loads(value["body"])
        found.append(value)
    return found


def one_done(s: Session, event: str = "UserPromptSubmit") -> str:
    [item] = shown(s, event)
    assert item["kind"] == "urgent done", item
    body: str = item["body"]
    assert body.startswith("huddle run: `"), body
    return body


def test_the_session_that_ran_it_is_told_status_output_and_command(repo, session) -> None:
    a = session(repo, "alice")
    done = a.cli("run", "--", "sh", "-c", BOOM)
    assert done.returncode == 3
    assert done.stdout == "hi\n" and done.stderr == "boom\n"  # passed through, as they came

    body = one_done(a)
    assert f"`sh -c '{BOOM}'` finished: exit status 3 after " in body
    # Two pipes: which of two lines written a moment apart is read first is not guaranteed.
    assert sorted(body.split("Last output: ")[1].split(" ⏎ ")) == ["boom", "hi"], body
    assert shown(a, "UserPromptSubmit") == []  # once

    # The same command again: not dropped as a repeat, and urgent, so a busy session sees it
    # next to its next tool result.
    assert a.cli("run", "--", "sh", "-c", BOOM).returncode == 3
    body = one_done(a, "PostToolUse")
    assert "exit status 3" in body and "boom" in body and "hi" in body
    assert shown(a, "UserPromptSubmit") == []


def test_notify_reaches_another_session_too(repo, tmp_path, session, plugin) -> None:
    a, b = session(repo, "alice"), session(repo, "bee")
    assert a.cli("run", "--notify", "bee", "--", "sh", "-c", BOOM).returncode == 3
    for s in (a, b):
        assert "exit status 3" in one_done(s)
    assert shown(b, "UserPromptSubmit") == []

    # From a plain terminal there is no session of one's own: only --notify, or nothing runs.
    flag = tmp_path / "ran"
    done = plugin.cli("run", "--", "touch", str(flag), cwd=repo)
    assert done.returncode == 1 and "--notify NAME" in done.stderr and not flag.exists()
    done = plugin.cli("run", "--notify", "bee", "--", "touch", str(flag), cwd=repo)
    assert done.returncode == 0 and flag.exists()
    assert "finished: exit status 0" in one_done(b) and shown(a, "UserPromptSubmit") == []
    assert plugin.cli("run", "--notify", "nobody", "--", "true", cwd=repo).returncode == 1


def test_a_command_killed_by_a_signal_is_reported_as_such(repo, session) -> None:
    a = session(repo, "alice")
    assert a.cli("run", "--", "sh", "-c", "kill -TERM $$").returncode == 128 + signal.SIGTERM
    assert "finished: killed by signal SIGTERM after" in one_done(a)


def test_a_command_that_cannot_start_exits_127_and_says_so(repo, session) -> None:
    a = session(repo, "alice")
    done = a.cli("run", "--", "no-such-command-here", "x")
    assert done.returncode == 127
    assert "no-such-command-here: command not found" in done.stderr
    body = one_done(a)
    assert "`no-such-command-here x` finished: could not start: command not found (exit 127)" in (
        body
    )
    assert a.cli("run").returncode == 1  # nothing to run


def test_long_output_keeps_its_last_lines(repo, session) -> None:
    a = session(repo, "alice")
    script = "for i in $(seq 1 500); do echo line$i; done; exit 1"
    done = a.cli("run", "--", "sh", "-c", script)
    assert done.returncode == 1 and done.stdout.count("\n") == 500
    lines = one_done(a).split("Last output: ")[1].split(" ⏎ ")
    assert lines == [f"line{i}" for i in range(481, 501)]

    # One huge line: its end is kept, and the body stays under what the inbox shows whole.
    script = "printf 'start'; i=0; while [ $i -lt 3000 ]; do printf x; i=$((i+1)); done; echo end"
    assert a.cli("run", "--", "sh", "-c", script).returncode == 0
    [item] = shown(a, "UserPromptSubmit")
    assert "cut short" not in item["about"]
    tail = item["body"].split("Last output: ")[1]
    assert tail.startswith("…x") and tail.endswith("xxxend")
    assert len(item["body"]) < 2000


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_huddle_run_reaches_the_command(repo, session, plugin, sig) -> None:
    a = session(repo, "alice")
    child = subprocess.Popen(
        [str(HUDDLE), "run", "--", "sh", "-c", "echo started; sleep 50; echo too-late"],
        cwd=repo,
        env=plugin.environ(a.proc.pid, a.sid),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # As from a terminal: the test runner may have been started with SIGINT ignored.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert child.stdout is not None
    assert child.stdout.readline() == "started\n"  # it runs: now stop it
    os.kill(child.pid, sig)
    out, err = child.communicate(timeout=20)
    assert child.returncode == 128 + sig, err
    assert "too-late" not in out
    assert f"killed by signal {signal.Signals(sig).name}" in one_done(a)
