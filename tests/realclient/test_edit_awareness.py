"""Edit awareness through the real Claude Code client, with the project's own plugin loaded.

Two live ``claude`` processes (``--plugin-dir`` this repository) share one HOME and one
repository; each talks to its own MockAPI. Their "model" is scripted with
``TOOL Write/Edit/Bash`` lines; the tests assert on the request the model gets right after its
tool call (what it was shown), on the files on disk, and on what huddle keeps (heartbeats,
``huddle sessions --json``, ``huddle locks``).

Session A is renamed "alice" first, so that its name, its branch (``main``) and its worktree
("main checkout") are three different words in what session B is shown.

Observed with client 2.1.332 and pinned down here:

* A PreToolUse ``additionalContext`` reaches the model in the same request as the tool result,
  as a ``role: "system"`` entry right after the tool_result message, headed
  ``PreToolUse:<Tool> hook additional context: ``; the tool_result itself is left as it was.
* A PreToolUse deny replaces the tool result: the tool does not run, and the tool_result is
  ``is_error: true`` with content ``PreToolUse:<Tool> hook error: <reason>``. No system entry
  follows it (PostToolUse does not run for a denied call).
* Write and Edit of a file the session never read go ahead in this headless mode.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import add_worktree, git, make_repo

from .client import ClaudeSession
from .huddle_support import (
    Lab,
    heartbeat,
    huddle,
    last_tool_result,
    new_hook_entries,
    prompt_of,
    since_last_tool_call,
    state_dir,
    tool_result_blocks,
    wait_for,
    wait_heartbeat,
)
from .mockapi import HookEntry, request_text
from .test_peers import bash, started

pytestmark = pytest.mark.realclient

APP = "src/app.py"
ORIGINAL = "total = 1\n"


# ---------------------------------------------------------------- helpers


def shop(lab: Lab, worktree: bool = True) -> tuple[Path, Path | None]:
    """An enabled repository with a committed ``src/app.py`` and, if asked, a linked worktree
    on branch ui/fixes (which has its own copy of the file)."""
    repo = make_repo(lab.root / "shop")
    (repo / "src").mkdir()
    (repo / APP).write_text(ORIGINAL)
    git(repo, "add", APP)
    git(repo, "commit", "-q", "-m", "app")
    linked = add_worktree(repo, lab.root / "shop-ui", "ui/fixes") if worktree else None
    lab.enable(repo)
    return repo, linked


def write(path: Path, content: str, reply: str = "wrote") -> str:
    return f"TOOL Write {json.dumps({'file_path': str(path), 'content': content})}\nREPLY {reply}"


def edit(path: Path, old: str, new: str, reply: str = "edited") -> str:
    args = {"file_path": str(path), "old_string": old, "new_string": new}
    return f"TOOL Edit {json.dumps(args)}\nREPLY {reply}"


def rename(session: ClaudeSession, name: str) -> None:
    assert session.turn(f"/huddle:name {name}")["result"] == "ok"
    shown = prompt_of(session.api.last_conversation_request())
    assert name in shown, shown


def after_tool(session: ClaudeSession) -> list[dict[str, Any]]:
    """What the session's model was shown for its newest tool call: the messages of the last
    request that follow the tool_use (its tool_result, then any hook system entry)."""
    messages = since_last_tool_call(session.api.last_conversation_request())
    assert messages, "the last request follows no tool call"
    return messages


def hook_output(session: ClaudeSession) -> list[HookEntry]:
    return new_hook_entries(session.api.last_conversation_request())


def the_tool_result(session: ClaudeSession) -> dict[str, Any]:
    results = tool_result_blocks(after_tool(session))
    assert len(results) == 1, results
    return results[0]


def result_text(block: dict[str, Any]) -> str:
    content = block.get("content")
    if isinstance(content, str):
        return content
    return "\n".join(b.get("text", "") for b in content or [] if isinstance(b, dict))


def assert_silent(session: ClaudeSession) -> None:
    """huddle added nothing to what the model saw for its newest tool call, and it ran."""
    entries = hook_output(session)
    assert entries == [], entries
    shown = request_text({"messages": after_tool(session)})
    assert "huddle:" not in shown, shown
    assert the_tool_result(session).get("is_error") is not True


def sessions_json(lab: Lab, repo: Path, *flags: str) -> dict[str, dict[str, Any]]:
    """``huddle sessions --json`` run from a terminal (outside any session), by name."""
    out = huddle(
        "sessions",
        "--json",
        *flags,
        cwd=repo,
        home=lab.home,
        scratch=lab.root,
        data_dir=lab.data_dir,
    ).stdout
    return {row["name"]: row for row in json.loads(out)}


def touched(record: dict[str, Any] | None) -> list[str]:
    files = (record or {}).get("files") or []
    return [f["path"] for f in files if isinstance(f, dict)]


def locked_by(session: ClaudeSession, holder: str) -> str:
    """Assert the newest tool call was denied by huddle's lock and return the reason."""
    result = the_tool_result(session)
    assert result.get("is_error") is True, result
    text = result_text(result)
    assert text.startswith(
        "PreToolUse:Write hook error: huddle: src/app.py is locked by "
        f'session "{holder}" (branch main, worktree main checkout)'
    ), text
    return text


# ---------------------------------------------------------------- tests


def test_edit_in_another_worktree_warns_with_the_peer_branch_and_file(lab: Lab) -> None:
    repo, worktree = shop(lab)
    assert worktree is not None
    with lab.session(repo, "a") as a, lab.session(worktree, "b") as b:
        started(a, repo)
        started(b, repo)
        rename(a, "alice")

        assert a.turn(write(repo / APP, "total = 2\n"))["result"] == "wrote"
        assert_silent(a)  # nobody else has touched it
        assert APP in touched(heartbeat(repo, a.session_id))

        # B edits its own copy in the linked worktree: same repository-relative file.
        assert b.turn(edit(worktree / APP, "total = 1", "total = 3"))["result"] == "edited"
        shown = after_tool(b)
        # The tool result comes first, untouched, then the warning in a system entry.
        assert shown[0]["role"] == "user"
        result = the_tool_result(b)
        assert result.get("is_error") is not True
        assert "has been updated successfully" in result_text(result)
        assert [m["role"] for m in shown[1:]] == ["system"], shown
        entries = hook_output(b)
        assert [(e.label, e.kind) for e in entries] == [
            ("PreToolUse:Edit", "additional context")
        ], entries
        warning = entries[0].text
        assert warning.startswith(
            'huddle: src/app.py is also being edited by session "alice" (branch main, '
            "worktree main checkout), which touched it just now."
        ), warning
        assert "your branches will conflict in this file when they meet" in warning
        assert "Your edit went ahead." in warning
        assert '`huddle send alice "..."`' in warning
        # The edit happened, in B's worktree only.
        assert (worktree / APP).read_text() == "total = 3\n"
        assert (repo / APP).read_text() == "total = 2\n"
        assert APP in touched(heartbeat(repo, b.session_id))

        # The same warning is not repeated on B's next edit of the file.
        assert b.turn(edit(worktree / APP, "total = 3", "total = 4"))["result"] == "edited"
        assert_silent(b)
        assert (worktree / APP).read_text() == "total = 4\n"


def test_a_lock_denies_another_sessions_write_and_lets_the_holders_own_pass(lab: Lab) -> None:
    repo, worktree = shop(lab)
    assert worktree is not None
    with lab.session(repo, "a") as a, lab.session(worktree, "b") as b:
        started(a, repo)
        started(b, repo)
        rename(a, "alice")

        assert a.turn('/huddle:lock src/app.py --reason "reworking totals"')["result"] == "ok"
        shown = prompt_of(a.api.last_conversation_request())
        assert 'locked src/app.py for "alice" until ' in shown, shown
        assert "(reworking totals)" in shown, shown

        before = (worktree / APP).read_bytes()
        assert b.turn(write(worktree / APP, "total = 99\n"))["result"] == "wrote"
        reason = locked_by(b, "alice")
        assert 'Its reason: "reworking totals".' in reason
        assert "The edit was not made." in reason
        assert '`huddle send alice "..."`' in reason
        # The deny is the tool result itself: nothing follows it.
        assert [m["role"] for m in after_tool(b)] == ["user"], after_tool(b)
        assert (worktree / APP).read_bytes() == before
        assert APP not in touched(heartbeat(repo, b.session_id))

        # The holder's own edits pass, silently.
        assert a.turn(write(repo / APP, "total = 2\n"))["result"] == "wrote"
        assert_silent(a)
        assert (repo / APP).read_text() == "total = 2\n"

        locks = json.loads(
            huddle(
                "locks",
                "--json",
                cwd=repo,
                home=lab.home,
                scratch=lab.root,
                data_dir=lab.data_dir,
            ).stdout
        )
        assert [(lk["pattern"], lk["holder"], lk["reason"]) for lk in locks] == [
            (APP, "alice", "reworking totals")
        ]


@pytest.mark.parametrize("ending", ["close", "kill"])
def test_once_the_holder_is_gone_edits_pass_without_warning_or_deny(lab: Lab, ending: str) -> None:
    repo, worktree = shop(lab)
    assert worktree is not None
    with lab.session(repo, "a") as a, lab.session(worktree, "b") as b:
        started(a, repo)
        started(b, repo)
        rename(a, "alice")
        assert a.turn(write(repo / APP, "total = 2\n"))["result"] == "wrote"
        assert a.turn("/huddle:lock src/app.py")["result"] == "ok"

        # While A lives, its lock holds (and its lease would warn).
        assert b.turn(write(worktree / APP, "total = 5\n"))["result"] == "wrote"
        locked_by(b, "alice")
        assert (worktree / APP).read_text() == ORIGINAL

        if ending == "close":
            assert a.close(timeout=20) == 0
            wait_heartbeat(repo, a.session_id, lambda r: r["state"] == "ended", "ended")
            expected_state = "ended"
        else:
            wait_heartbeat(repo, a.session_id, lambda r: r["state"] == "idle", "idle")
            a.kill()  # SIGKILL: no SessionEnd, so the record still says idle
            assert not a.alive
            assert heartbeat(repo, a.session_id)["state"] == "idle"  # type: ignore[index]
            expected_state = "gone"
        everyone = sessions_json(lab, repo, "--all")
        assert everyone["alice"]["state"] == expected_state, everyone["alice"]
        assert everyone["alice"]["live"] is False
        assert "alice" not in sessions_json(lab, repo)
        locks = huddle(
            "locks",
            cwd=repo,
            home=lab.home,
            scratch=lab.root,
            data_dir=lab.data_dir,
        ).stdout
        assert locks.strip() == "No locks in this repository.", locks

        assert b.turn(write(worktree / APP, "total = 6\n"))["result"] == "wrote"
        assert_silent(b)
        assert (worktree / APP).read_text() == "total = 6\n"
        assert b.turn(edit(worktree / APP, "total = 6", "total = 7"))["result"] == "edited"
        assert_silent(b)
        assert (worktree / APP).read_text() == "total = 7\n"


def test_git_stash_in_a_worktree_shared_with_a_live_peer_warns(lab: Lab) -> None:
    repo, _ = shop(lab, worktree=False)
    with lab.session(repo, "a") as a, lab.session(repo, "b") as b:
        started(a, repo)
        started(b, repo)
        rename(a, "alice")
        # A has work in progress in the checkout that B's stash would take away.
        assert a.turn(write(repo / "README.md", "alice was here\n"))["result"] == "wrote"

        # A git command that changes nothing is let through silently.
        assert b.turn(bash("git status --short"))["result"] == "done"
        assert_silent(b)
        assert "README.md" in last_tool_result(b)

        assert b.turn(bash("git stash"))["result"] == "done"
        result = the_tool_result(b)
        assert result.get("is_error") is not True, result
        entries = hook_output(b)
        assert [(e.label, e.kind) for e in entries] == [
            ("PreToolUse:Bash", "additional context")
        ], entries
        warning = entries[0].text
        assert warning.startswith("huddle: `git stash` "), warning
        assert 'session "alice" (branch main, worktree main checkout)' in warning, warning
        # warn mode (the default): the command ran, and took A's change with it.
        assert (repo / "README.md").read_text() == "hello\n"
        assert len(git(repo, "stash", "list").splitlines()) == 1


def test_a_file_changed_through_bash_is_touched_once_the_turn_ends(lab: Lab) -> None:
    repo, worktree = shop(lab)
    assert worktree is not None
    with lab.session(repo, "a") as a, lab.session(worktree, "b") as b:
        started(a, repo)
        started(b, repo)
        rename(a, "alice")
        # The baseline of A's first turn is taken at SessionStart (after the heartbeat).
        wait_for(
            lambda: (state_dir(repo) / "turns" / f"{a.session_id}.json").exists(),
            "A's worktree baseline",
        )

        record = f".claude/sessions/{a.session_id}.json"
        sed = json.dumps({"command": "sed -i 's/hello/bye/' README.md"})
        cat = json.dumps({"command": f"cat {record}"})
        assert a.turn(f"TOOL Bash {sed}\nTOOL2 Bash {cat}\nREPLY done")["result"] == "done"
        assert (repo / "README.md").read_text() == "bye\n"
        # Within the turn (after the sed, before Stop) the file was not yet A's ...
        during = json.loads(last_tool_result(a))
        assert "README.md" not in touched(during), during
        # ... and once the turn ended, it is: in the heartbeat and in `huddle sessions --json`.
        after = wait_heartbeat(
            repo, a.session_id, lambda r: "README.md" in touched(r), "with README.md touched"
        )
        assert after["state"] == "idle"
        row = sessions_json(lab, repo)["alice"]
        assert "README.md" in [f["path"] for f in row["files"]], row
        assert "README.md" in row["leases"], row

        # It took a lease like an edit: B, editing its own README.md, is warned about A.
        assert b.turn(edit(worktree / "README.md", "hello", "hi"))["result"] == "edited"
        entries = hook_output(b)
        assert [(e.label, e.kind) for e in entries] == [
            ("PreToolUse:Edit", "additional context")
        ], entries
        assert entries[0].text.startswith(
            'huddle: README.md is also being edited by session "alice" (branch main, '
        ), entries[0].text
        assert (worktree / "README.md").read_text() == "hi\n"
