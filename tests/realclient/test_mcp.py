"""huddle's MCP server through the real client: `--mcp-config` gives a session `huddle-mcp`, and
its model calls the tools.

Observed with client 2.1.332: an MCP server's tools are deferred. The first requests list only
`ToolSearch` (and `DeferredToolPlaceholder`); the model calls `ToolSearch` with
`select:mcp__huddle__send_message`, and from then on the tool is in the request's `tools` with
its schema (`defer_loading: true`). The server's environment has CLAUDE_CODE_SESSION_ID and
CLAUDE_PROJECT_DIR (its working directory), not CLAUDE_PID: its parent is the client.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from .huddle_support import Lab, prompt_of, tool_results
from .mockapi import request_text
from .test_messages import huddle_items, item_line, only_match, run_huddle, shop, turn_hook_entries
from .test_peers import started

pytestmark = pytest.mark.realclient

SERVER = "import sys; from huddle.mcp_server.main import main; sys.exit(main())"


def mcp_config(lab: Lab) -> Path:
    path = lab.root / "mcp.json"
    server = {"command": sys.executable, "args": ["-c", SERVER]}
    path.write_text(json.dumps({"mcpServers": {"huddle": server}}))
    return path


def load(*tools: str) -> str:
    return f"TOOL ToolSearch {json.dumps({'query': 'select:' + ','.join(tools)})}"


def test_a_model_sends_and_polls_through_huddles_mcp_tools(lab: Lab) -> None:
    repo, worktree = shop(lab)
    run_huddle(lab, repo, "config", "wake", "off")  # B's next prompt, not a wake, shows it
    a = lab.session(repo, "a", "--mcp-config", str(mcp_config(lab)))
    b = lab.session(worktree, "b")
    with a, b:
        started(a, repo)
        started(b, repo)
        send = {"to": "ui-fixes", "text": "from the model over MCP", "kind": "question"}
        prompt = "\n".join(
            [
                load("mcp__huddle__send_message", "mcp__huddle__poll_messages"),
                f"TOOL2 mcp__huddle__send_message {json.dumps(send)}",
                "REPLY done",
            ]
        )
        assert a.turn(prompt)["result"] == "done"
        body = a.api.last_conversation_request()
        assert (
            "sent question" in tool_results(body)[-1] and 'to "ui-fixes"' in tool_results(body)[-1]
        )
        tools = {t["name"]: t for t in body["tools"]}
        schema = tools["mcp__huddle__send_message"]["input_schema"]
        assert schema["required"] == ["to", "text"] and "mcp__huddle__poll_messages" in tools

        assert b.turn("carry on")["result"] == "ok"
        items = huddle_items(
            turn_hook_entries(b.api.last_conversation_request()), "UserPromptSubmit"
        )
        only_match(item_line("question", "main", "main", "from the model over MCP"), items)

        # A message that arrives during A's turn: poll_messages takes it, once.
        tell = "env -u CLAUDE_CODE_SESSION_ID huddle send main 'for the model only'"
        prompt = "\n".join(
            [
                f"TOOL Bash {json.dumps({'command': tell})}",
                "TOOL2 mcp__huddle__poll_messages {}",
                "REPLY done",
            ]
        )
        assert a.turn(prompt)["result"] == "done"
        polled = json.loads(tool_results(a.api.last_conversation_request())[-1])
        assert [row["text"] for row in polled] == ["for the model only"]
        assert a.turn("next")["result"] == "ok"
        assert "for the model only" not in prompt_of(a.api.last_conversation_request())
        shown = request_text(a.api.last_conversation_request())
        assert shown.count("for the model only") == 2  # the Bash call and the poll, nothing new


def test_a_lock_taken_through_mcp_refuses_a_peers_write_as_huddle_lock_does(lab: Lab) -> None:
    from .test_edit_awareness import APP, ORIGINAL, locked_by, write
    from .test_edit_awareness import shop as app_shop

    repo, worktree = app_shop(lab)
    assert worktree is not None
    a = lab.session(repo, "a", "--mcp-config", str(mcp_config(lab)))
    b = lab.session(worktree, "b")
    with a, b:
        started(a, repo)
        started(b, repo)
        take = {"pattern": "src/app.py", "reason": "refactor"}
        prompt = "\n".join(
            [load("mcp__huddle__lock"), f"TOOL2 mcp__huddle__lock {json.dumps(take)}", "REPLY ok"]
        )
        assert a.turn(prompt)["result"] == "ok"
        assert "locked src/app.py" in tool_results(a.api.last_conversation_request())[-1]
        assert b.turn(write(worktree / APP, "mine\n"))["result"] == "wrote"
        assert 'Its reason: "refactor"' in locked_by(b, "main")
        assert (worktree / APP).read_text() == ORIGINAL


def test_another_agent_over_mcp_is_a_peer_of_real_claude_code_sessions(lab: Lab) -> None:
    """The SDK's own client plays an agent that is not Claude Code, in the main checkout."""
    import anyio
    from mcp import ClientSession, StdioServerParameters, stdio_client
    from mcp.types import Implementation

    from .huddle_support import cli_env
    from .test_edit_awareness import APP, ORIGINAL, locked_by, write
    from .test_edit_awareness import shop as app_shop
    from .test_peers import bash

    repo, worktree = app_shop(lab)
    assert worktree is not None
    b = lab.session(worktree, "b")
    env = cli_env(lab.home, lab.root, lab.data_dir)
    params = StdioServerParameters(
        command=sys.executable, args=["-c", SERVER], cwd=str(repo), env=env
    )

    async def play() -> None:
        info = Implementation(name="Codex CLI", version="1.0")
        async with (
            stdio_client(params) as (read, write_),
            ClientSession(read, write_, client_info=info) as codex,
        ):
            await codex.initialize()
            listed = await codex.call_tool("list_sessions", {})
            mine = [r for r in json.loads(listed.content[0].text) if r["current"]]
            assert mine[0]["name"] == "codex-cli-main" and mine[0]["kind"] == "codex-cli"
            table = run_huddle(lab, repo, "sessions").stdout
            assert "codex-cli-main [codex-cli]" in table and "ui-fixes" in table

            send = "huddle send codex-cli-main 'the css is yours now'"
            assert b.turn(bash(send))["result"] == "done"
            polled = await codex.call_tool("poll_messages", {})
            [message] = json.loads(polled.content[0].text)
            assert message["text"] == "the css is yours now" and message["from"] == "ui-fixes"

            taken = await codex.call_tool("lock", {"pattern": "src/app.py", "reason": "mine"})
            assert not taken.is_error, taken
            assert b.turn(write(worktree / APP, "theirs\n"))["result"] == "wrote"
            assert 'Its reason: "mine"' in locked_by(b, "codex-cli-main")
            assert (worktree / APP).read_text() == ORIGINAL

    with b:
        started(b, repo)
        anyio.run(play)
        assert b.turn(write(worktree / APP, "theirs\n"))["result"] == "wrote"  # it left
        assert (worktree / APP).read_text() == "theirs\n"


def test_the_plugins_own_server_gives_every_session_the_tools(lab: Lab) -> None:
    """The plugin's .mcp.json (hooks/mcp): tools named mcp__plugin_huddle_huddle__*."""
    repo, worktree = shop(lab)
    run_huddle(lab, repo, "config", "wake", "off")
    a, b = lab.session(repo, "a"), lab.session(worktree, "b")
    with a, b:
        started(a, repo)
        started(b, repo)
        tool = "mcp__plugin_huddle_huddle__send_message"
        send = {"to": "ui-fixes", "text": "through the plugin's server"}
        prompt = f"{load(tool)}\nTOOL2 {tool} {json.dumps(send)}\nREPLY done"
        assert a.turn(prompt)["result"] == "done"
        assert 'to "ui-fixes"' in tool_results(a.api.last_conversation_request())[-1]
        names = {t["name"] for t in a.api.last_conversation_request()["tools"]}
        assert tool in names
        assert b.turn("carry on")["result"] == "ok"
        assert "through the plugin's server" in request_text(b.api.last_conversation_request())


def test_where_huddle_is_not_enabled_the_plugins_server_starts_no_python(lab: Lab) -> None:
    from .test_messages import make_repo
    from .test_wake import huddle_processes

    repo = make_repo(lab.root / "plain")
    with lab.session(repo, "a") as a:
        assert a.turn("hello")["result"] == "ok"
        assert [p for p in huddle_processes(lab.root) if "mcp_server" in p] == []
        names = {t["name"] for t in a.api.last_conversation_request()["tools"]}
        assert not [n for n in names if n.startswith("mcp__plugin_huddle")]
