"""The waiter of headless sessions as Claude Code runs it: `sh hooks/wait`, the asyncRewake Stop
hook of hooks.json, with the Stop event on stdin and a real stand-in process as its client."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT, Plugin, Session, event, wait_for

HOOKS = json.loads((ROOT / "hooks" / "hooks.json").read_text())
STREAM_JSON = ("--input-format", "stream-json", "--output-format", "stream-json")


def waiter_argv() -> list[str]:
    [entry] = [h for h in HOOKS["hooks"]["Stop"][0]["hooks"] if h.get("asyncRewake")]
    argv = [entry["command"], *entry["args"]]
    return [part.replace("${CLAUDE_PLUGIN_ROOT}", str(ROOT)) for part in argv]


class Client:
    """A stand-in client with `args` on its command line and as its stdin a pipe (as a Python
    host gives it), a socket (as a Node host does) or /dev/null."""

    def __init__(self, *args: str, stdin: str = "pipe") -> None:
        self.host_end: socket.socket | None = None
        given: Any = subprocess.PIPE
        if stdin == "socket":
            self.host_end, client_end = socket.socketpair()
            given = client_end.fileno()
        elif stdin == "null":
            given = subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(3600)", *args], stdin=given
        )
        if stdin == "socket":
            client_end.close()
        self.pid = self.proc.pid

    def close_input(self) -> None:
        if self.host_end is not None:
            self.host_end.close()
        elif self.proc.stdin is not None:
            self.proc.stdin.close()

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            self.proc.stdin.close()
        if self.host_end is not None:
            self.host_end.close()


@pytest.fixture
def client() -> Iterator[Callable[..., Client]]:
    made: list[Client] = []

    def make(*args: str, stdin: str = "pipe") -> Client:
        made.append(Client(*args, stdin=stdin))
        return made[-1]

    yield make
    for one in made:
        one.kill()


def start_waiter(plugin: Plugin, session: Session) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        waiter_argv(),
        cwd=session.cwd,
        env=plugin.environ(session.proc.pid, session.sid),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None
    proc.stdin.write(json.dumps(event("Stop", session.sid, session.cwd)).encode())
    proc.stdin.close()
    return proc


def finished(proc: subprocess.Popen[bytes], timeout: float) -> tuple[bytes, bytes]:
    proc.wait(timeout)
    assert proc.stdout is not None and proc.stderr is not None
    out, err = proc.stdout.read(), proc.stderr.read()
    proc.stdout.close()
    proc.stderr.close()
    return out, err


def waiters(state: Path) -> list[dict]:
    return [
        json.loads(p.read_text())
        for p in (state / "companions").glob("*.json")
        if json.loads(p.read_text()).get("mode") == "waiter"
    ]


def test_under_plain_claude_p_it_ends_at_once_and_says_nothing(
    session: Callable[..., Session], client: Callable[..., Client], plugin: Plugin
) -> None:
    b = session("bob", client("-p", "hello"))
    started = time.monotonic()
    proc = start_waiter(plugin, b)
    out, err = finished(proc, 10)
    assert proc.returncode == 0 and out == b"" and err == b""
    assert time.monotonic() - started < 5  # it never waits (a generous bound for slow machines)


def test_in_stream_json_it_wakes_the_session_once_with_exit_2(
    session: Callable[..., Session], client: Callable[..., Client], plugin: Plugin, state: Path
) -> None:
    a, b = session("alice"), session("bob", client("-p", *STREAM_JSON))
    first = start_waiter(plugin, b)
    wait_for(lambda: waiters(state), "the waiter")
    second = start_waiter(plugin, b)  # the next turn's: it steps aside
    assert finished(second, 10) == (b"", b"") and second.returncode == 0
    a.cli("send", "bob", "please rebase")
    _, err = finished(first, 15)
    assert first.returncode == 2
    text = err.decode()
    assert text.startswith("huddle woke this session: 1 new item") and '"please rebase"' in text
    assert waiters(state) == []
    assert b.hook("UserPromptSubmit", prompt="next") is None  # not shown again


@pytest.mark.parametrize("stdin", ["pipe", "socket"])
def test_it_ends_when_its_clients_input_closes(
    session: Callable[..., Session],
    client: Callable[..., Client],
    plugin: Plugin,
    state: Path,
    stdin: str,
) -> None:
    host = client("-p", *STREAM_JSON, stdin=stdin)
    b = session("bob", host)
    proc = start_waiter(plugin, b)
    wait_for(lambda: waiters(state), "the waiter")
    host.close_input()  # the host is done: the client waits for its hooks before it exits
    finished(proc, 10)
    assert proc.returncode == 0
    assert waiters(state) == []


def test_where_it_cannot_watch_the_clients_input_it_does_not_wait(
    session: Callable[..., Session], client: Callable[..., Client], plugin: Plugin
) -> None:
    b = session("bob", client("-p", *STREAM_JSON, stdin="null"))
    proc = start_waiter(plugin, b)
    assert finished(proc, 10) == (b"", b"") and proc.returncode == 0


def test_it_ends_with_its_client(
    session: Callable[..., Session], client: Callable[..., Client], plugin: Plugin, state: Path
) -> None:
    host = client("-p", *STREAM_JSON)
    b = session("bob", host)
    proc = start_waiter(plugin, b)
    wait_for(lambda: waiters(state), "the waiter")
    host.kill()
    finished(proc, 10)
    assert proc.returncode == 0


def test_a_malformed_event_is_logged_and_wakes_nothing(
    session: Callable[..., Session], client: Callable[..., Client], plugin: Plugin
) -> None:
    b = session("bob", client("-p", *STREAM_JSON))
    done = subprocess.run(
        waiter_argv(),
        cwd=b.cwd,
        env=plugin.environ(b.proc.pid, b.sid),
        input=b"{not json",
        capture_output=True,
        timeout=10,
    )
    assert done.returncode == 0 and done.stdout == b"" and done.stderr == b""
    assert "waiter: ignored bad input: Expecting property name" in plugin.log_text()
    (plugin.data_dir / "huddle.log").unlink()  # expected: the fixture checks the log is clean
