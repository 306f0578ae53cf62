"""The MCP server through the SDK's own client over stdio, in real repositories whose Claude Code
sessions are played through the real hooks: agents that are not Claude Code join as peers, and a
server started by a Claude Code session speaks for it."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest

pytest.importorskip("mcp")

from mcp import ClientSession, StdioServerParameters, stdio_client  # noqa: E402
from mcp.types import Implementation  # noqa: E402

from tests.helpers import Plugin, Session, denial  # noqa: E402

TOOLS = {
    "send_message",
    "poll_messages",
    "list_sessions",
    "post_note",
    "lock",
    "unlock",
    "list_locks",
    "list_tasks",
    "add_task",
    "claim_task",
    "finish_task",
    "release_task",
    "set_task_summary",
    "search_history",
}


class Agent:
    """One connected MCP client: `call` gives (is_error, text)."""

    def __init__(self, session: ClientSession) -> None:
        self.session = session

    async def call(self, name: str, arguments: dict[str, Any] | None = None) -> tuple[bool, str]:
        result = await self.session.call_tool(name, arguments or {})
        text = "".join(getattr(c, "text", "") for c in result.content)
        return bool(result.is_error), text

    async def ok(self, name: str, arguments: dict[str, Any] | None = None) -> str:
        failed, text = await self.call(name, arguments)
        assert not failed, text
        return text

    async def json(self, name: str, arguments: dict[str, Any] | None = None) -> Any:
        return json.loads(await self.ok(name, arguments))


@asynccontextmanager
async def agent(
    plugin: Plugin, cwd: Path, client: str = "Codex CLI", claude: Session | None = None
) -> AsyncIterator[Agent]:
    env = plugin.environ(claude.proc.pid if claude else None, claude.sid if claude else None)
    params = StdioServerParameters(
        command=sys.executable,
        args=["-c", "import sys; from huddle.mcp_server.main import main; sys.exit(main())"],
        cwd=str(cwd),
        env=env,
    )
    async with stdio_client(params) as (read, write):
        info = Implementation(name=client, version="1.0")
        async with ClientSession(read, write, client_info=info) as session:
            await session.initialize()
            yield Agent(session)


def rows(plugin: Plugin, repo: Path) -> dict[str, dict[str, Any]]:
    listed = plugin.cli("sessions", "--json", "--all", cwd=repo, check=True).stdout
    return {row["name"]: row for row in json.loads(listed)}


def test_the_tools_and_their_schemas(plugin: Plugin, repo: Path) -> None:
    async def run() -> None:
        async with agent(plugin, repo) as a:
            tools = {t.name: t for t in (await a.session.list_tools()).tools}
            assert set(tools) == TOOLS
            send = tools["send_message"].input_schema
            assert send["required"] == ["to", "text"]
            assert send["properties"]["kind"]["enum"] == [
                "question",
                "answer",
                "request",
                "fyi",
                "done",
            ]
            assert send["properties"]["urgent"]["type"] == "boolean"
            assert all(t.description for t in tools.values())

    anyio.run(run)


def test_another_agent_joins_as_a_peer_talks_and_its_lock_holds(
    plugin: Plugin, repo: Path, session: Callable[..., Session], state: Path
) -> None:
    alice = session("alice")
    target = repo / "app.py"

    async def run() -> None:
        async with agent(plugin, repo, client="Codex CLI") as codex:
            listed = await codex.json("list_sessions")
            me = next(row for row in listed if row["current"])
            assert me["name"] == "codex-cli-main" and me["kind"] == "codex-cli" and me["live"]
            assert rows(plugin, repo)["codex-cli-main"]["kind"] == "codex-cli"
            table = plugin.cli("sessions", cwd=repo, check=True).stdout
            assert "codex-cli-main [codex-cli]" in table

            # A Claude Code session writes to it; it gets the message once.
            sent = alice.cli("send", "codex-cli-main", "please review app.py")
            assert sent.returncode == 0, sent.stderr
            [message] = await codex.json("poll_messages")
            assert message["text"] == "please review app.py" and message["from"] == "alice"
            assert await codex.json("poll_messages") == []

            # It writes back; alice's next prompt shows it, from the agent.
            said = await codex.ok(
                "send_message", {"to": "alice", "text": "on it", "kind": "answer"}
            )
            assert said.startswith("sent answer ")
            shown = json.dumps(alice.hook("UserPromptSubmit", prompt="go on"))
            assert "codex-cli-main" in shown and "on it" in shown

            # Its lock refuses alice's edit, as `huddle lock` would.
            assert "locked app.py" in await codex.ok("lock", {"pattern": "app.py", "reason": "x"})
            refused = denial(alice.before_edit(target))
            assert 'app.py is locked by session "codex-cli-main"' in refused

        # The client went away: the agent ended, its lock was given back.
        after = rows(plugin, repo)["codex-cli-main"]
        assert after["state"] == "ended" and not after["live"]
        assert alice.before_edit(target) is None

    anyio.run(run)


def test_a_server_started_by_a_claude_code_session_speaks_for_it_across_clear(
    plugin: Plugin, repo: Path, session: Callable[..., Session], state: Path
) -> None:
    alice, bob = session("alice"), session("bob")

    async def run() -> None:
        async with agent(plugin, repo, client="claude-code", claude=alice) as server:
            assert (await server.ok("send_message", {"to": "bob", "text": "one"})).startswith(
                "sent fyi"
            )
            bob.cli("send", "alice", "for alice")
            [got] = await server.json("poll_messages")
            assert got["text"] == "for alice"
            assert alice.hook("UserPromptSubmit", prompt="next") is None  # not shown again

            # /clear: a new session id in the same process; the server follows it.
            assert alice.hook("SessionEnd", reason="clear") is None
            cleared = Session(plugin, state, repo, alice.proc)
            cleared.hook("SessionStart", source="clear")
            await server.ok("send_message", {"to": "bob", "text": "two"})
            log = json.loads(plugin.cli("log", "--json", cwd=repo, check=True).stdout)
            by_text = {row["text"]: row for row in log}
            assert by_text["one"]["from_session"] == alice.sid
            assert by_text["two"]["from_session"] == cleared.sid
            assert by_text["two"]["from"] == "alice"
        assert "alice" in rows(plugin, repo)  # it is Claude Code's session: the server ends nothing

    anyio.run(run)


@pytest.mark.parametrize(
    ("tool", "arguments", "said"),
    [
        (
            "send_message",
            {"to": 5, "text": "x"},
            "send_message: to: Input should be a valid string",
        ),
        ("send_message", {"to": "alice"}, "send_message: text: Field required"),
        ("send_message", {"to": "nobody", "text": "x"}, "no session is called 'nobody'"),
        ("send_message", {"to": "alice", "text": "x" * 16001}, "text: String should have at most"),
        ("send_message", {"to": "alice", "text": "x", "kind": "order"}, "kind: Input should be"),
        ("lock", {"pattern": "../../etc/passwd"}, "is not a file in this repository"),
        ("lock", {"pattern": "app.py", "ttl": "forever"}, "ttl: String should match pattern"),
        ("claim_task", {"id": "zzzzzz"}, "'zzzzzz' is not a task id"),
        ("unlock", {}, ""),
    ],
)
def test_bad_input_is_one_line_the_model_can_act_on(
    plugin: Plugin,
    repo: Path,
    session: Callable[..., Session],
    tool: str,
    arguments: dict[str, Any],
    said: str,
) -> None:
    session("alice")

    async def run() -> None:
        async with agent(plugin, repo) as a:
            failed, text = await a.call(tool, arguments)
            assert failed, text
            assert "\n" not in text and said in text, text
            assert await a.json("list_sessions")  # the server goes on

    anyio.run(run)


def test_a_state_directory_that_disappears_is_a_tool_error_not_a_crash(
    plugin: Plugin, repo: Path, state: Path
) -> None:
    async def run() -> None:
        async with agent(plugin, repo) as a:
            await a.json("list_sessions")
            shutil.rmtree(state)
            (repo / ".git" / "huddle-enabled").unlink()
            failed, text = await a.call("post_note", {"text": "still there?"})
            assert failed and "huddle is not enabled" in text and "\n" not in text
            failed, text = await a.call("list_sessions")
            assert failed

    anyio.run(run)
    plugin.data_dir.joinpath("huddle.log").unlink(missing_ok=True)


def launch(plugin: Plugin, cwd: Path, path: str) -> Any:
    """hooks/mcp as the plugin's .mcp.json runs it, with its stdin closed at once."""
    import subprocess

    from tests.helpers import ROOT

    env = {**plugin.environ(), "PATH": path}
    return subprocess.run(
        ["sh", str(ROOT / "hooks" / "mcp")],
        cwd=cwd,
        env=env,
        input=b"",
        capture_output=True,
        timeout=30,
    )


def test_the_launcher_where_huddle_is_not_enabled_says_so_in_one_line(
    plugin: Plugin, tmp_path: Path
) -> None:
    import os

    from tests.helpers import make_repo

    plain = make_repo(tmp_path / "plain")
    done = launch(plugin, plain, os.environ["PATH"])
    assert done.returncode == 1 and done.stdout == b""
    assert done.stderr.decode().splitlines() == [
        "huddle: not enabled in this repository (huddle enable turns it on; its MCP tools "
        "come with the next session)"
    ]


def test_the_launcher_before_the_plugins_environment_is_built_says_so_in_one_line(
    plugin: Plugin, repo: Path, tmp_path: Path
) -> None:
    """The first session after install: the venv with `mcp` is still being built, and the
    interpreter found first has no `mcp`."""
    import os
    import subprocess
    import venv

    bare = tmp_path / "bare"
    venv.create(bare, with_pip=False)
    lacks = subprocess.run([str(bare / "bin" / "python3"), "-c", "import mcp"], capture_output=True)
    assert lacks.returncode == 1  # the interpreter the launcher finds first has no `mcp`
    done = launch(plugin, repo, f"{bare / 'bin'}{os.pathsep}{os.environ['PATH']}")
    assert done.returncode == 1 and done.stdout == b""
    [line] = done.stderr.decode().splitlines()
    assert line.startswith("huddle: the MCP server needs the `mcp` package")
    assert line.endswith("it works from the next one")


def test_it_follows_a_switch_to_another_session_of_the_same_process(
    plugin: Plugin, repo: Path, session: Callable[..., Session], state: Path
) -> None:
    """/resume or a fork inside a running client: another session id in the same process, and
    no SessionEnd for the one before."""
    alice = session("alice")
    session("bob")

    async def run() -> None:
        async with agent(plugin, repo, client="claude-code", claude=alice) as server:
            await server.ok("send_message", {"to": "bob", "text": "before"})
            other = Session(plugin, state, repo, alice.proc)
            other.hook("SessionStart", source="resume")
            await server.ok("send_message", {"to": "bob", "text": "after"})
            log = json.loads(plugin.cli("log", "--json", cwd=repo, check=True).stdout)
            by_text = {row["text"]: row["from_session"] for row in log}
            assert by_text == {"before": alice.sid, "after": other.sid}

    anyio.run(run)


def test_a_state_directory_corrupted_under_the_server_is_survived(
    plugin: Plugin, repo: Path, session: Callable[..., Session], state: Path
) -> None:
    alice = session("alice")

    async def run() -> None:
        async with agent(plugin, repo) as codex:
            me = next(r for r in await codex.json("list_sessions") if r["current"])
            (state / f"{me['session_id']}.json").write_text("{not json")  # its own record
            (state / f"{alice.sid}.json").write_bytes(b"\xff\xfe garbage")  # a peer's
            (state / "huddle.json").write_text("[]")  # the settings
            results = {}
            for tool, arguments in [
                ("list_sessions", {}),
                ("post_note", {"text": "still here"}),
                ("send_message", {"to": "alice", "text": "x"}),
                ("list_locks", {}),
            ]:
                results[tool] = await codex.call(tool, arguments)
            # Damaged records are skipped (and kept), as the command skips them.
            assert results["list_sessions"] == (False, "[]")
            assert results["post_note"][0] is False
            assert results["send_message"] == (
                True,
                "no session is called 'alice'; live sessions: none",
            )
            assert await codex.json("list_locks") == []  # it answers still

    anyio.run(run)
    plugin.data_dir.joinpath("huddle.log").unlink(missing_ok=True)
