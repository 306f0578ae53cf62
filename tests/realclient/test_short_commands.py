"""The short slash commands through the real client (stream-json): after `huddle commands
install`, `/note`, `/message` and `/sessions` run huddle as `/huddle:note` and the rest do, the
namespaced ones still work, and a command of the user's under one of those names is left alone.

Observed with client 2.1.332: a user-level command (``~/.claude/commands/<name>.md``) is not
namespaced, its ``!`` block runs before the model sees the body, and the plugin's ``bin/`` is on
the PATH of that block, as it is for the plugin's own commands.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from . import tui
from .huddle_support import PLUGIN_ROOT, Lab
from .test_messages import (
    get_going,
    huddle_items,
    item_line,
    only_match,
    prompt_of,
    run_huddle,
    sessions,
    shop,
    turn_hook_entries,
)
from .test_peers import started

pytestmark = pytest.mark.realclient


def test_note_message_and_sessions_work_as_typed(lab: Lab) -> None:
    repo, worktree = shop(lab)
    installed = run_huddle(lab, repo, "commands", "install").stdout
    assert "installed /sessions, /note, /message" in installed
    a, b = sessions(lab, repo, worktree)
    with a, b:
        get_going(a, b, repo)
        assert a.turn("/note renamed getLabel to t()")["result"] == "ok"
        assert "note sent to 1 session(s)" in prompt_of(a.api.last_conversation_request())

        assert a.turn("/message ui-fixes please keep the whatsapp tab")["result"] == "ok"
        assert 'to "ui-fixes"' in prompt_of(a.api.last_conversation_request())
        assert b.turn("carry on")["result"] == "ok"
        items = huddle_items(
            turn_hook_entries(b.api.last_conversation_request()), "UserPromptSubmit"
        )
        only_match(item_line("note", "alice", "main", "renamed getLabel to t()"), items)
        assert any("please keep the whatsapp tab" in item for item in items), items

        assert a.turn("/sessions")["result"] == "ok"
        table = prompt_of(a.api.last_conversation_request())
        assert "ui-fixes" in table and "../shop-ui" in table and "* this session" in table

        assert a.turn("/huddle:note the namespaced one still works")["result"] == "ok"
        assert "note sent to 1 session(s)" in prompt_of(a.api.last_conversation_request())
    log = json.loads(run_huddle(lab, repo, "log", "--json").stdout)
    assert [row["text"] for row in log if row["kind"] == "note"] == [
        "renamed getLabel to t()",
        "the namespaced one still works",
    ]


DIARY = "---\ndescription: my diary\n---\nDIARY ENTRY: $ARGUMENTS\n"


def own_note_then_install(lab: Lab, repo: Path) -> Path:
    """The user's own /note, then `huddle commands install`, which must leave it and say so."""
    mine = lab.home / ".claude" / "commands" / "note.md"
    mine.parent.mkdir(parents=True, exist_ok=True)
    mine.write_text(DIARY)
    installed = run_huddle(lab, repo, "commands", "install").stdout
    assert f"left your own /note alone ({mine})" in installed
    return mine


def test_a_note_command_of_the_users_is_left_alone(lab: Lab) -> None:
    repo, worktree = shop(lab)
    mine = own_note_then_install(lab, repo)
    a, b = sessions(lab, repo, worktree)
    with a, b:
        get_going(a, b, repo)
        assert a.turn("/note bought milk")["result"] == "ok"
        shown = prompt_of(a.api.last_conversation_request())
        assert "DIARY ENTRY: bought milk" in shown and "note sent" not in shown
        assert a.turn("/message ui-fixes hello")["result"] == "ok"
        assert 'to "ui-fixes"' in prompt_of(a.api.last_conversation_request())
    assert mine.read_text() == DIARY
    assert [
        row
        for row in json.loads(run_huddle(lab, repo, "log", "--json").stdout)
        if row["kind"] == "note"
    ] == []


def interactive(lab: Lab, repo: Path) -> tui.TuiSession:
    """Session A, the full-screen client in tmux, in the lab's HOME."""
    tui.require_tmux()
    return tui.TuiSession(
        PLUGIN_ROOT, repo, lab.root / "a", home=lab.home, env=lab.env(), claude_bin=lab.claude_bin
    )


def test_typed_in_the_interactive_client(lab: Lab) -> None:
    """The full-screen client, in tmux: typed and Enter, as a person does it."""
    repo, worktree = shop(lab)
    run_huddle(lab, repo, "commands", "install")
    b = lab.session(worktree, "b")
    a = interactive(lab, repo)
    with b, a:
        started(b, repo)
        state = repo / ".claude" / "sessions"
        a.wait(lambda: len(list(state.glob("*-*-*-*-*.json"))) == 2, "A's SessionStart")

        def logged(kind: str) -> list[str]:
            rows = json.loads(run_huddle(lab, repo, "log", "--json").stdout)
            return [row["text"] for row in rows if row["kind"] == kind]

        a.type("/note renamed getLabel to t()")
        a.wait(lambda: logged("note") == ["renamed getLabel to t()"], "the note in huddle log")
        a.type("/message ui-fixes please keep the whatsapp tab")
        a.wait(lambda: "please keep the whatsapp tab" in logged("fyi"), "the message in the log")
        assert b.turn("carry on")["result"] == "ok"
        items = huddle_items(
            turn_hook_entries(b.api.last_conversation_request()), "UserPromptSubmit"
        )
        only_match(item_line("note", "main", "main", "renamed getLabel to t()"), items)
        assert any("please keep the whatsapp tab" in item for item in items), items

        def table() -> str | None:
            for body in reversed(a.api.conversation_requests()):
                shown = prompt_of(body)
                if "* this session" in shown:
                    return shown
            return None

        a.type("/sessions")
        shown = a.wait(table, "the sessions table in A's prompt")
        assert "ui-fixes" in shown and "../shop-ui" in shown

        a.type("/huddle:note the namespaced one still works")
        a.wait(
            lambda: logged("note") == ["renamed getLabel to t()", "the namespaced one still works"],
            "the namespaced note",
        )


def test_a_users_own_note_stays_theirs_in_the_interactive_client(lab: Lab) -> None:
    repo, _ = shop(lab)
    mine = own_note_then_install(lab, repo)
    a = interactive(lab, repo)
    with a:
        state = repo / ".claude" / "sessions"
        a.wait(lambda: list(state.glob("*-*-*-*-*.json")), "A's SessionStart")
        a.type("/note bought milk")

        def diary() -> bool:
            return any(
                "DIARY ENTRY: bought milk" in prompt_of(body)
                for body in a.api.conversation_requests()
            )

        a.wait(diary, "the user's own /note in A's prompt")
    assert mine.read_text() == DIARY
    rows = json.loads(run_huddle(lab, repo, "log", "--json").stdout)
    assert [row for row in rows if row["kind"] == "note"] == []
