"""Coordination that survives compaction and crashes, through the real Claude Code client.

Observed with client 2.1.332: ``/compact`` sent as a stream-json user line runs the summary
request, then SessionStart with ``source: "compact"``; what that hook injects reaches the model
in the session's next conversation request, after the summary. SIGKILL on the client leaves its
heartbeat saying idle (no SessionEnd runs): peers find out from its pid and start time.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import add_worktree, make_repo

from .huddle_support import Lab, heartbeat, state_dir, wait_heartbeat
from .mockapi import hook_entries
from .test_edit_awareness import assert_silent, write
from .test_messages import huddle_items, run_huddle, turn_hook_entries
from .test_peers import bash, started

pytestmark = pytest.mark.realclient

APP = "src/app.py"
TASK = "fix the login form"
MESSAGE = "the orders schema changed: re-run the migrations"


def session_start_text(body: dict, marker: str) -> str:
    """What SessionStart injected, as found in a request: the one text holding `marker`."""
    texts = [e.text for e in hook_entries(body) if e.event == "SessionStart"]
    found = [t for t in texts if marker in t]
    assert len(found) == 1, texts
    return found[0]


def test_compaction_restores_the_lock_the_task_and_the_message(lab: Lab) -> None:
    repo = make_repo(lab.root / "shop")
    lab.enable(repo)
    task_id = run_huddle(lab, repo, "task", "add", TASK).stdout.strip()
    with lab.session(repo, "a") as a:
        started(a, repo)
        claim = f"huddle lock {APP} && huddle task claim {task_id}"
        assert a.turn(bash(claim, "holding"))["result"] == "holding"
        record = heartbeat(repo, a.session_id)
        assert record is not None
        lock = json.loads((state_dir(repo) / "locks" / "src%2Fapp.py.json").read_text())
        assert lock["holder"] == a.session_id
        run_huddle(lab, repo, "send", record["name"], MESSAGE, user="robin")
        assert list((state_dir(repo) / "mail" / a.session_id / "new").glob("*.json"))

        a.turn("/compact", timeout=90)
        wait_heartbeat(repo, a.session_id, lambda r: r.get("context_since"), "compacted")
        before = len(a.api.conversation_requests())
        assert a.turn("where were we")["result"] == "ok"
        body = a.api.conversation_requests()[before]
        text = session_start_text(body, "restored after compaction")

        assert f"- locks you hold (`huddle unlock PATTERN` when done): {APP} (until " in text
        claimed = f'- tasks you claimed (`huddle task done ID` when finished): {task_id} "{TASK}"'
        assert claimed in text, text
        assert f'you are "{record["name"]}" on branch main' in text, text
        # The message waited unread until the compaction: it is shown there, once, framed.
        [line] = [x for x in text.splitlines() if json.dumps(MESSAGE) in x]
        assert 'from "robin"' in line, line
        assert len(text) < 2500 + 1000, len(text)  # the digest, plus the unread item's frame

        # It was shown once: the following turn carries no huddle item.
        assert a.turn("carry on")["result"] == "ok"
        later = a.api.last_conversation_request()
        assert huddle_items(turn_hook_entries(later), "UserPromptSubmit") == []


def test_a_killed_peer_stops_counting_and_its_peers_are_told_once(lab: Lab) -> None:
    repo = make_repo(lab.root / "shop")
    worktree = add_worktree(repo, lab.root / "shop-ui", "ui/fixes")
    lab.enable(repo)
    (repo / "src").mkdir(exist_ok=True)
    (repo / APP).write_text("total = 1\n")
    with lab.session(repo, "a") as a, lab.session(worktree, "b") as b:
        started(a, repo)
        started(b, repo)
        assert a.turn("hello")["result"] == "ok"
        assert b.turn(bash(f"huddle lock {APP}", "locked"))["result"] == "locked"
        lock = state_dir(repo) / "locks" / "src%2Fapp.py.json"
        assert json.loads(lock.read_text())["holder"] == b.session_id
        wait_heartbeat(repo, b.session_id, lambda r: r["state"] == "idle", "idle")
        b_name = heartbeat(repo, b.session_id)["name"]  # type: ignore[index]

        b.kill()  # SIGKILL: no SessionEnd
        assert not b.alive
        assert heartbeat(repo, b.session_id)["state"] == "idle"  # type: ignore[index]

        assert a.turn(write(repo / APP, "total = 2\n"))["result"] == "wrote"
        assert (repo / APP).read_text() == "total = 2\n"  # not denied
        assert_silent(a)  # no deny, no warning about the dead holder's file
        body = a.api.conversation_requests()[-2]  # the turn's first request: its prompt
        items = huddle_items(turn_hook_entries(body), "UserPromptSubmit")
        [item] = items
        assert f'session \\"{b_name}\\" (branch ui/fixes) ended unexpectedly' in item, item
        assert f"locks on {APP}" in item, item
        assert not lock.exists()
        gone = heartbeat(repo, b.session_id)
        assert gone is not None and (gone["state"], gone["end_reason"]) == ("gone", "crashed")

        # Told once: the next turn has nothing more.
        assert a.turn("carry on")["result"] == "ok"
        later = a.api.last_conversation_request()
        assert huddle_items(turn_hook_entries(later), "UserPromptSubmit") == []


def test_clear_keeps_the_sessions_lock_and_task(lab: Lab) -> None:
    repo = make_repo(lab.root / "shop")
    lab.enable(repo)
    task_id = run_huddle(lab, repo, "task", "add", TASK).stdout.strip()
    with lab.session(repo, "a") as a:
        started(a, repo)
        old = a.session_id
        claim = f"huddle lock {APP} && huddle task claim {task_id} && huddle doing 'login form'"
        assert a.turn(bash(claim, "holding"))["result"] == "holding"
        name = heartbeat(repo, old)["name"]  # type: ignore[index]

        a.turn("/clear")
        new = wait_heartbeat_of_new_session(repo, old)
        before = len(a.api.conversation_requests())
        assert a.turn("where were we")["result"] == "ok"
        text = session_start_text(a.api.conversation_requests()[before], "restored after /clear")
        assert f'you are "{name}" on branch main; your task summary: "login form"' in text, text
        assert f"locks you hold (`huddle unlock PATTERN` when done): {APP}" in text, text
        assert f'{task_id} "{TASK}"' in text, text

        lock = json.loads((state_dir(repo) / "locks" / "src%2Fapp.py.json").read_text())
        assert lock["holder"] == new
        board = json.loads(run_huddle(lab, repo, "task", "list", "--json").stdout)
        assert [(t["id"], t["state"]) for t in board] == [(task_id, "claimed")]
        assert heartbeat(repo, new)["name"] == name  # type: ignore[index]
        assert heartbeat(repo, old)["state"] == "ended"  # type: ignore[index]


def wait_heartbeat_of_new_session(repo: Path, old: str) -> str:
    """The id of the session that /clear started in place of `old`."""
    from .huddle_support import wait_for

    def probe() -> str | None:
        for path in state_dir(repo).glob("*.json"):
            if path.stem != old and path.stem != "huddle":
                record = json.loads(path.read_text())
                if record.get("session_id") == path.stem:
                    return path.stem
        return None

    return wait_for(probe, "the session after /clear", timeout=30)


def test_a_fork_is_told_what_its_live_parent_holds_and_inherits_none_of_it(lab: Lab) -> None:
    repo = make_repo(lab.root / "shop")
    lab.enable(repo)
    task_id = run_huddle(lab, repo, "task", "add", TASK).stdout.strip()
    with lab.session(repo, "a") as a:
        started(a, repo)
        claim = f"huddle lock {APP} && huddle task claim {task_id}"
        assert a.turn(bash(claim, "holding"))["result"] == "holding"
        parent = heartbeat(repo, a.session_id)["name"]  # type: ignore[index]
        with lab.session(repo, "fork", "--resume", a.session_id, "--fork-session") as fork:
            fork.start()
            assert fork.turn("hello")["result"] == "ok"
            assert fork.session_id != a.session_id
            body = fork.api.conversation_requests()[0]
            text = session_start_text(body, "restored for this fork")
            assert f'You are a new session forked from session "{parent}"' in text, text
            assert f"It still holds locks on {APP}; tasks {task_id}" in text, text
            assert "a fork inherits no locks or tasks" in text, text
            assert "- you hold no locks, file leases or tasks" in text, text
            lock = json.loads((state_dir(repo) / "locks" / "src%2Fapp.py.json").read_text())
            assert lock["holder"] == a.session_id


def test_a_clean_exit_gives_everything_back_and_tells_the_peer_it_shared_a_file_with(
    lab: Lab,
) -> None:
    repo = make_repo(lab.root / "shop")
    worktree = add_worktree(repo, lab.root / "shop-ui", "ui/fixes")
    lab.enable(repo)
    task_id = run_huddle(lab, repo, "task", "add", TASK).stdout.strip()
    with lab.session(repo, "a") as a, lab.session(worktree, "b") as b:
        started(a, repo)
        started(b, repo)
        assert b.turn(write(worktree / APP, "total = 5\n"))["result"] == "wrote"
        assert b.turn(bash(f"huddle task claim {task_id}", "claimed"))["result"] == "claimed"
        assert a.turn(write(repo / APP, "total = 2\n"))["result"] == "wrote"  # warned, leased
        b_name = heartbeat(repo, b.session_id)["name"]  # type: ignore[index]

        assert b.close(timeout=20) == 0  # stdin closed: SessionEnd runs
        ended = wait_heartbeat(repo, b.session_id, lambda r: r["state"] == "ended", "ended")
        assert ended["end_reason"] == "other"
        board = json.loads(run_huddle(lab, repo, "task", "list", "--json").stdout)
        assert [(t["id"], t["state"]) for t in board] == [(task_id, "open")]

        assert a.turn("carry on")["result"] == "ok"
        items = huddle_items(
            turn_hook_entries(a.api.last_conversation_request()), "UserPromptSubmit"
        )
        [item] = items
        assert f'session \\"{b_name}\\" (branch ui/fixes) ended and gave back' in item, item
        assert f"leases on files it was editing: {APP}" in item, item
        assert f'tasks {task_id} \\"{TASK}\\" (open again)' in item, item


def test_a_resumed_session_is_told_what_its_last_exit_gave_back(lab: Lab) -> None:
    repo = make_repo(lab.root / "shop")
    lab.enable(repo)
    with lab.session(repo, "a") as a:
        started(a, repo)
        assert a.turn(bash(f"huddle lock {APP}", "locked"))["result"] == "locked"
        session_id = a.session_id
        assert a.close(timeout=20) == 0
    wait_heartbeat(repo, session_id, lambda r: r["state"] == "ended", "ended")
    with lab.session(repo, "resumed", "--resume", session_id) as resumed:
        resumed.start()
        assert resumed.turn("where were we")["result"] == "ok"
        assert resumed.session_id == session_id
        body = resumed.api.conversation_requests()[0]
        text = session_start_text(body, "restored on resume")
        assert f"it ended and huddle gave back what it held: locks on {APP}." in text, text
        assert "- you hold no locks, file leases or tasks" in text, text
