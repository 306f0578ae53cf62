"""Peer sessions through the real Claude Code client, with the project's own plugin loaded.

Every test runs real ``claude`` processes (``--plugin-dir`` this repository) against a local
MockAPI and asserts on what the "model" was shown (the recorded request bodies) and on the
files huddle keeps. Sessions of one test share one HOME, and so one plugin data dir, as the
sessions of one user do.

Observed with client 2.1.332 and pinned down here:

* ``CLAUDE_PID`` (hooks, ``!`` lines, Bash tool calls) is ``ClaudeSession.pid`` itself.
* The plugin's ``bin/`` is on PATH (appended last) for Bash tool calls and for the ``!`` lines
  of slash commands; ``CLAUDE_CODE_SESSION_ID`` reaches both. ``CLAUDE_PLUGIN_ROOT`` and
  ``CLAUDE_PLUGIN_DATA`` do not reach Bash tool calls.
* A slash-command turn runs UserPromptSubmit before the command's ``!`` lines, so a
  ``/huddle:sessions`` lists the calling session as working.
* Closing stdin runs SessionEnd to completion before the process exits.
"""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import pytest

from tests.helpers import add_worktree, make_repo

from .client import ClaudeSession
from .huddle_support import (
    HUDDLE_BIN,
    Lab,
    heartbeat,
    last_tool_result,
    prompt_of,
    session_start_contexts,
    state_dir,
    table_rows,
    tool_results,
    tree_snapshot,
    wait_heartbeat,
)
from .mockapi import hook_entries, request_text

pytestmark = pytest.mark.realclient

# Phrases only huddle's hook text uses (the skill listing names huddle too, so "huddle" alone
# is no sign of injected text).
DIGEST_MARKERS = (
    "Claude Code session is live",
    "Claude Code sessions are live",
    "`huddle sessions` shows the current list",
    'You are "',
)


def started(session: ClaudeSession, repo: Path) -> dict:
    """Start the session and wait until its SessionStart hook has registered it."""
    session.start()
    return wait_heartbeat(repo, session.session_id, what="after SessionStart")


def bash(command: str, reply: str = "done") -> str:
    return f"TOOL Bash {json.dumps({'command': command})}\nREPLY {reply}"


def test_live_peers_see_each_other_and_an_ended_peer_is_not_live(lab: Lab) -> None:
    repo = make_repo(lab.root / "shop")
    worktree = add_worktree(repo, lab.root / "shop-ui", "ui/fixes")
    lab.enable(repo)
    with lab.session(repo, "a") as a:
        record_a = started(a, repo)
        assert (record_a["name"], record_a["branch"]) == ("main", "main")
        with lab.session(worktree, "b") as b:  # started only now, once A is registered
            # B's very first model request already tells it about A.
            assert b.turn("hello")["result"] == "ok"
            assert a.alive and b.alive
            first_b = b.api.conversation_requests()[0]
            contexts = session_start_contexts(first_b)
            assert len(contexts) == 1, hook_entries(first_b)
            digest = contexts[0].text
            assert "1 other Claude Code session is live in this repository" in digest
            assert '- "main": branch main, worktree main checkout, idle, ' in digest
            assert 'You are "ui-fixes" on branch ui/fixes.' in digest
            record_b = wait_heartbeat(repo, b.session_id, lambda r: r["state"] == "idle", "idle")
            assert record_b["pid"] == b.pid and record_b["worktree"] == str(worktree)

            # /huddle:sessions in A lists B, live, with its branch and worktree.
            assert a.turn("/huddle:sessions")["result"] == "ok"
            listing = prompt_of(a.api.last_conversation_request())
            rows = table_rows(listing)
            assert set(rows) == {"main", "ui-fixes"}, listing
            # A's UserPromptSubmit ran before the command's `!` line: A is working.
            assert rows["main"][:5] == ["*", "main", "main", "main", "checkout"], listing
            assert rows["main"][5] == "working", listing
            assert rows["ui-fixes"][:5] == ["", "ui-fixes", "ui/fixes", "../shop-ui", "idle"]
            assert "Not live" not in listing

            # B ends: its process exits 0 and SessionEnd marks its record ended.
            assert b.close(timeout=20) == 0
            assert not b.alive
        ended = wait_heartbeat(repo, b.session_id, lambda r: r["state"] == "ended", "ended")
        assert ended["ended_at"] is not None

        assert a.turn("/huddle:sessions")["result"] == "ok"
        listing = prompt_of(a.api.last_conversation_request())
        assert set(table_rows(listing)) == {"main"}, listing
        assert re.search(r"^Not live: ui-fixes \(ended (just now|\d+s ago)\)\.", listing, re.M), (
            listing
        )
        assert a.alive


def test_a_session_alone_is_shown_nothing(lab: Lab) -> None:
    repo = make_repo(lab.root / "solo")
    lab.enable(repo)
    target = repo / "notes.txt"
    with lab.session(repo, "s") as s:
        started(s, repo)
        assert s.turn("hello")["result"] == "ok"
        write = json.dumps({"file_path": str(target), "content": "solo\n"})
        assert s.turn(f"TOOL Write {write}\nREPLY wrote")["result"] == "wrote"
        assert s.turn(bash("cat notes.txt"))["result"] == "done"
        requests = s.api.conversation_requests()
        assert len(requests) == 5  # hello; write + after; bash + after
        for body in requests:
            assert hook_entries(body) == [], hook_entries(body)
            text = request_text(body)
            assert not any(marker in text for marker in DIGEST_MARKERS)
        assert "solo" in tool_results(requests[-1])[-1]
        assert target.read_text() == "solo\n"
        assert heartbeat(repo, s.session_id) is not None
    # Silence was huddle's choice, not hooks that never ran: every event left its mark.
    ran = state_dir(repo) / "ran"
    events = ("SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse", "Stop", "SessionEnd")
    assert {p.name for p in ran.iterdir()} >= set(events)
    assert wait_heartbeat(repo, s.session_id)["state"] == "ended"


def test_a_repository_that_is_not_enabled_is_left_alone(lab: Lab) -> None:
    repo = make_repo(lab.root / "plain")
    worktree = add_worktree(repo, lab.root / "plain-wt", "side")
    written = {"written.txt", "from-bash.txt"}  # what the session's tools write, in repo
    before = {root: tree_snapshot(root) for root in (repo, worktree)}
    with lab.session(repo, "s") as s:
        s.start()
        assert s.turn("hello")["result"] == "ok"
        write = json.dumps({"file_path": str(repo / "written.txt"), "content": "x\n"})
        assert s.turn(f"TOOL Write {write}\nREPLY wrote")["result"] == "wrote"
        assert s.turn(bash("echo y > from-bash.txt"))["result"] == "done"
        requests = s.api.conversation_requests()
        assert len(requests) == 5
        for body in requests:
            assert hook_entries(body) == [], hook_entries(body)
            assert not any(marker in request_text(body) for marker in DIGEST_MARKERS)
        # The plugin is loaded and its hooks ran: they chose to say nothing.
        responses = [
            e
            for e in s.events()
            if e.get("type") == "system" and e.get("subtype") == "hook_response"
        ]
        assert responses and all(e["exit_code"] == 0 and e["stdout"] == "" for e in responses)
    # Byte for byte, .git included, the repository and its worktree are as they were, but
    # for what the session's own tools wrote.
    for root, old in before.items():
        new = tree_snapshot(root)
        if root == repo:
            new = {k: v for k, v in new.items() if k not in written}
        changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
        assert changed == [], changed
    assert (repo / "written.txt").read_text() == "x\n"
    assert (repo / "from-bash.txt").read_text() == "y\n"
    assert not (repo / ".claude").exists()
    # The plugin data dir exists (the client makes it) but huddle put nothing there.
    assert lab.data_dir.is_dir()
    assert list(lab.data_dir.iterdir()) == [], "huddle wrote to its data dir (huddle.log?)"


def test_enable_from_inside_a_session_registers_it_at_once(lab: Lab) -> None:
    repo = make_repo(lab.root / "late")
    with lab.session(repo, "a") as a:
        a.start()
        assert a.turn("hello")["result"] == "ok"
        assert not state_dir(repo).exists()

        assert a.turn("/huddle:enable")["result"] == "ok"
        shown = prompt_of(a.api.last_conversation_request())
        assert f"huddle is enabled in {repo}" in shown, shown
        assert 'this session joined as "main"' in shown, shown
        # Registered by the `!` line itself, before the model was asked anything.
        record = heartbeat(repo, a.session_id)
        assert record is not None and record["name"] == "main"
        # CLAUDE_PID, as `!` lines see it, is the very process the test started.
        assert record["pid"] == a.pid
        state = state_dir(repo)
        assert stat.S_IMODE(state.stat().st_mode) == 0o700
        assert "/.claude/sessions/" in (repo / ".git" / "info" / "exclude").read_text().splitlines()

        with lab.session(repo, "b") as b:
            assert b.turn("hello")["result"] == "ok"
            digest = session_start_contexts(b.api.conversation_requests()[0])
            assert len(digest) == 1
            assert '- "main": branch main, worktree main checkout, ' in digest[0].text
            assert 'You are "main-2" on branch main.' in digest[0].text


def test_heartbeat_follows_turns_and_the_task_reaches_a_later_peer(lab: Lab) -> None:
    repo = make_repo(lab.root / "shop")
    worktree = add_worktree(repo, lab.root / "shop-ui", "ui/fixes")
    lab.enable(repo)
    with lab.session(repo, "a") as a:
        assert started(a, repo)["state"] == "idle"
        assert a.turn("hello")["result"] == "ok"
        wait_heartbeat(repo, a.session_id, lambda r: r["state"] == "idle", "idle after a turn")

        # Inside a turn (after UserPromptSubmit) the record says working ...
        record_path = f".claude/sessions/{a.session_id}.json"
        assert a.turn(bash(f"cat {record_path}"))["result"] == "done"
        during = json.loads(last_tool_result(a))
        assert during["state"] == "working"
        # ... and Stop puts it back to idle.
        after = wait_heartbeat(
            repo, a.session_id, lambda r: r["state"] == "idle", "idle after Stop"
        )
        assert after["last_activity"] >= during["last_activity"]

        # The model runs `huddle doing` through Bash: the plugin's bin/ is on the tool's PATH.
        command = "command -v huddle; huddle doing refactor totals"
        assert a.turn(bash(command))["result"] == "done"
        out = last_tool_result(a).splitlines()
        assert out[0] == str(HUDDLE_BIN), out
        assert out[1] == '"main" is now doing: refactor totals', out
        assert wait_heartbeat(repo, a.session_id)["task"] == "refactor totals"

        with lab.session(worktree, "b") as b:
            assert b.turn("hello")["result"] == "ok"
            digest = session_start_contexts(b.api.conversation_requests()[0])
            assert len(digest) == 1
            assert '- "main": branch main, worktree main checkout, idle, ' in digest[0].text
            assert 'task: "refactor totals"' in digest[0].text


def test_huddle_sessions_in_bash_marks_the_calling_session(lab: Lab) -> None:
    repo = make_repo(lab.root / "shop")
    worktree = add_worktree(repo, lab.root / "shop-ui", "ui/fixes")
    lab.enable(repo)
    with lab.session(repo, "a") as a, lab.session(worktree, "b") as b:
        started(a, repo)
        started(b, repo)
        for session, me, other in ((a, "main", "ui-fixes"), (b, "ui-fixes", "main")):
            assert (
                session.turn(bash("echo SID=$CLAUDE_CODE_SESSION_ID; huddle sessions"))["result"]
                == "done"
            )
            out = last_tool_result(session)
            assert out.splitlines()[0] == f"SID={session.session_id}"
            rows = table_rows(out)
            assert set(rows) == {"main", "ui-fixes"}, out
            assert rows[me][0] == "*", out
            assert rows[other][0] != "*", out
            assert "* this session" in out


def test_bash_calls_learn_the_plugin_data_dir(lab: Lab) -> None:
    """Claude Code gives Bash calls no CLAUDE_PLUGIN_DATA; SessionStart hands it over, so the
    model's `huddle` finds the plugin's venv and log."""
    repo = make_repo(lab.root / "shop")
    lab.enable(repo)
    with lab.session(repo, "a") as a:
        started(a, repo)
        assert (
            a.turn(bash("echo DATA=$HUDDLE_PLUGIN_DATA; huddle doctor --json"))["result"] == "done"
        )
        out = last_tool_result(a)
        assert out.splitlines()[0] == f"DATA={lab.data_dir}", out
        checks = {c["what"]: c for c in json.loads(out.split("\n", 1)[1])}
        assert str(lab.data_dir / "venv") in checks["plugin venv"]["detail"]


def test_slash_doing_takes_the_text_as_typed_in_the_default_permission_mode(lab: Lab) -> None:
    repo = make_repo(lab.root / "shop")
    lab.enable(repo)
    with lab.session(repo, "a", "--permission-mode", "default") as a:
        started(a, repo)
        typed = 'fix the "cart" totals $HOME `date` & (soon)'
        assert a.turn(f"/huddle:doing {typed}")["result"] == "ok"
        assert wait_heartbeat(repo, a.session_id)["task"] == typed


def test_slash_commands_with_arguments_take_them_as_typed(lab: Lab) -> None:
    repo = make_repo(lab.root / "shop")
    lab.enable(repo)
    with lab.session(repo, "a", "--permission-mode", "default") as a:
        started(a, repo)
        title = "fix the user's `cart` on $HOME"
        assert a.turn(f"/huddle:task add {title}")["result"] == "ok"
        [task] = (repo / ".claude" / "sessions" / "tasks").glob("*.json")
        assert json.loads(task.read_text())["title"] == title
        reason = 'the "totals" rewrite'
        typed = f"/huddle:lock src/app.py --reason '{reason}' --ttl 30m"
        assert a.turn(typed)["result"] == "ok"
        lock = json.loads((repo / ".claude/sessions/locks/src%2Fapp.py.json").read_text())
        assert (lock["holder"], lock["reason"]) == (a.session_id, reason)
        assert 1700 < lock["expires"] - lock["at"] <= 1800
        assert a.turn("/huddle:sessions")["result"] == "ok"
        assert "locked:src/app.py" in prompt_of(a.api.last_conversation_request())
