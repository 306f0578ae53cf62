"""The real-client harness works: hooks, tools, concurrent sessions and slash commands.

Uses a throwaway plugin built under tmp_path, not the project's plugin.
"""

from __future__ import annotations

import json
import stat
from dataclasses import dataclass
from pathlib import Path

import pytest

from .client import ClaudeSession, run_print
from .mockapi import hook_contexts, request_text

pytestmark = pytest.mark.realclient

PLUGIN = "probe"


def _script(path: Path, body: str) -> None:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def _hook(event: str, script: str, matcher: str | None = None) -> dict:
    group: dict = {
        "hooks": [
            {
                "type": "command",
                "command": f'"${{CLAUDE_PLUGIN_ROOT}}"/hooks/{script}',
                "timeout": 20,
            }
        ]
    }
    if matcher:
        group["matcher"] = matcher
    return {event: [group]}


def _context_script(event: str, text: str) -> str:
    output = {"hookSpecificOutput": {"hookEventName": event, "additionalContext": text}}
    return f"cat >/dev/null\nprintf '%s\\n' '{json.dumps(output)}'\n"


def make_plugin(root: Path) -> Path:
    """A plugin with marker hooks on SessionStart, PreToolUse(Write) and SessionEnd, and a
    command whose body runs a ``!`` line."""
    (root / ".claude-plugin").mkdir(parents=True)
    (root / ".claude-plugin" / "plugin.json").write_text(
        json.dumps({"name": PLUGIN, "version": "0.0.0"})
    )
    hooks = root / "hooks"
    hooks.mkdir()
    _script(hooks / "start.sh", _context_script("SessionStart", "MARKER-START"))
    _script(hooks / "pre_write.sh", _context_script("PreToolUse", "MARKER-PRE-WRITE"))
    # One line per ended session, in the plugin data dir (shared by sessions with one HOME).
    _script(
        hooks / "end.sh",
        'log="$CLAUDE_PLUGIN_DATA/ended.jsonl"\ntr -d "\\n" >>"$log"\necho >>"$log"\n',
    )
    config = {
        **_hook("SessionStart", "start.sh"),
        **_hook("PreToolUse", "pre_write.sh", matcher="Write"),
        **_hook("SessionEnd", "end.sh"),
    }
    (hooks / "hooks.json").write_text(json.dumps({"hooks": config}))
    (root / "commands").mkdir()
    (root / "commands" / "shout.md").write_text(
        "---\n"
        "description: probe command\n"
        "allowed-tools: Bash(echo:*)\n"
        "---\n"
        "Command body for $ARGUMENTS.\n"
        "!`echo BANG-$((6*7))`\n"
        "REPLY from-command\n"
    )
    return root


@dataclass
class Workspace:
    plugin: Path
    project: Path
    root: Path

    def scratch(self, name: str) -> Path:
        return self.root / name

    def ended_sessions(self, home: Path) -> list[dict]:
        log = home / ".claude" / "plugins" / "data" / f"{PLUGIN}-inline" / "ended.jsonl"
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


@pytest.fixture
def ws(tmp_path: Path, claude_bin: str) -> Workspace:
    project = tmp_path / "project"
    project.mkdir()
    return Workspace(make_plugin(tmp_path / "plugin"), project, tmp_path)


def test_session_start_context_reaches_first_request(ws: Workspace) -> None:
    with ClaudeSession(ws.plugin, ws.project, ws.scratch("s")) as session:
        result = session.turn("hello")
        assert result["result"] == "ok"
        first = session.api.conversation_requests()[0]
        assert "SessionStart hook additional context: MARKER-START" in hook_contexts(first)
        assert "hello" in request_text(first)


def test_tool_directive_writes_file_and_pre_tool_context_follows(ws: Workspace) -> None:
    target = ws.project / "out.txt"
    directive = json.dumps({"file_path": str(target), "content": "written by the mock model\n"})
    with ClaudeSession(ws.plugin, ws.project, ws.scratch("s")) as session:
        result = session.turn(f"please write\nTOOL Write {directive}\nREPLY wrote it")
        assert result["result"] == "wrote it"
        assert target.read_text() == "written by the mock model\n"
        before, after = session.api.conversation_requests()
        assert not any("MARKER-PRE-WRITE" in c for c in hook_contexts(before))
        assert "PreToolUse:Write hook additional context: MARKER-PRE-WRITE" in hook_contexts(after)


def test_two_live_sessions_each_run_session_end(ws: Workspace) -> None:
    home = ws.root / "shared-home"
    with (
        ClaudeSession(ws.plugin, ws.project, ws.scratch("a"), home=home) as a,
        ClaudeSession(ws.plugin, ws.project, ws.scratch("b"), home=home) as b,
    ):
        for turn in (1, 2):
            assert a.turn(f"a-turn-{turn}")["result"] == "ok"
            assert b.turn(f"b-turn-{turn}")["result"] == "ok"
        assert a.alive and b.alive and a.session_id != b.session_id
        # Each session's mock saw only its own turns.
        assert "a-turn-2" in request_text(a.api.conversation_requests()[-1])
        assert "b-turn" not in request_text(a.api.conversation_requests()[-1])
        assert len(b.api.conversation_requests()) == 2
        assert a.close(timeout=20) == 0
        assert b.close(timeout=20) == 0
    ended = ws.ended_sessions(home)
    assert {e["session_id"] for e in ended} == {a.session_id, b.session_id}
    assert {e["hook_event_name"] for e in ended} == {"SessionEnd"}


def test_plugin_command_bang_line_reaches_request(ws: Workspace) -> None:
    with ClaudeSession(ws.plugin, ws.project, ws.scratch("s")) as session:
        result = session.turn(f"/{PLUGIN}:shout loudly")
        assert result["result"] == "from-command"  # the expanded body was the prompt
        text = request_text(session.api.conversation_requests()[-1])
        assert "BANG-42" in text
        assert "Command body for loudly." in text


def test_kill_skips_session_end(ws: Workspace) -> None:
    with ClaudeSession(ws.plugin, ws.project, ws.scratch("s")) as session:
        session.turn("hello")
        session.kill()
        assert not session.alive
    assert ws.ended_sessions(ws.scratch("s") / "home") == []


def test_run_print_one_shot(ws: Workspace) -> None:
    run = run_print("one shot", ws.project, ws.plugin, ws.scratch("p"), timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.result["result"] == "ok"
    assert len(run.conversation_requests()) == 1
    assert [e["hook_event_name"] for e in ws.ended_sessions(ws.scratch("p") / "home")] == [
        "SessionEnd"
    ]
