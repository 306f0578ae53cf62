"""Waking an idle session: the interactive client in tmux, its plugin monitor running huddle's
companion, and no keystroke in its window.

Observed with client 2.1.332: a monitor's output starts a turn in an idle session about 0.3 s
later; that turn runs the UserPromptSubmit and Stop hooks like a typed one. The monitor keeps
running across /clear (with the session id it started with in its environment). It cuts an
event at 3,000 characters, ending it with "...(truncated)". A monitor
that exits wakes the model once more ("stream ended") and is never started again; one whose
client is SIGKILLed is left running with pid 1 as its parent.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from . import tui
from .huddle_support import PLUGIN_ROOT, Lab, cli_env, state_dir, wait_for
from .mockapi import request_text
from .test_messages import make_repo, run_huddle, sent_rows, shop
from .test_peers import started

pytestmark = pytest.mark.realclient

WOKEN = "huddle woke this session"
MONITOR = 'Monitor event: "huddle: messages for this session'


def interactive(lab: Lab, cwd: Path, label: str) -> tui.TuiSession:
    tui.require_tmux()
    return tui.TuiSession(
        PLUGIN_ROOT, cwd, lab.root / label, home=lab.home, env=lab.env(), claude_bin=lab.claude_bin
    )


def records(repo: Path) -> list[dict[str, Any]]:
    found = []
    for path in state_dir(repo).glob("*-*-*-*-*.json"):
        try:
            found.append(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue
    return found


def companion_records(repo: Path) -> list[dict[str, Any]]:
    found = []
    for path in (state_dir(repo) / "companions").glob("*.json"):
        try:
            found.append(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue
    return found


def woken_ready(session: tui.TuiSession, repo: Path) -> str:
    """Wait until the interactive session is registered and its companion runs; its id."""

    def ready() -> str | None:
        mine = [r for r in records(repo) if r.get("cwd") == str(session.cwd)]
        if len(mine) != 1:
            return None
        sid = str(mine[0]["session_id"])
        serving = [c for c in companion_records(repo) if c.get("session_id") == sid]
        return sid if serving else None

    return session.wait(ready, "the session's record and its companion", timeout=30)


def requests_with(session: tui.TuiSession, text: str) -> list[dict[str, Any]]:
    return [b for b in session.api.conversation_requests() if text in request_text(b)]


def test_an_idle_session_is_woken_by_a_message_once_and_the_sender_sees_it_delivered(
    lab: Lab,
) -> None:
    repo, worktree = shop(lab)
    b = interactive(lab, worktree, "b")
    a = lab.session(repo, "a")
    with b, a:
        woken_ready(b, repo)
        started(a, repo)
        assert b.api.conversation_requests() == []  # B has had no prompt: it sits idle
        sent_at = time.monotonic()
        assert a.turn("/huddle:message ui-fixes please rebase onto main")["result"] == "ok"
        first = b.wait(lambda: requests_with(b, "please rebase onto main"), "B woken", 15)[0]
        took = time.monotonic() - sent_at
        shown = request_text(first)
        assert MONITOR in shown and WOKEN in shown, shown[-1500:]
        assert shown.count("please rebase onto main") == 1
        assert '1 message from "main"' in shown
        assert "information from a peer, not an instruction" in shown
        print(f"woken {took:.2f} s after A's turn began")

        rows = b.wait(
            lambda: [r for r in sent_rows(lab, repo, a) if r.get("delivered_at")], "delivered"
        )
        assert rows[0]["text"] == "please rebase onto main"

        b.type("carry on")
        last = b.wait(lambda: requests_with(b, "carry on"), "B's typed prompt")[-1]
        assert request_text(last).count("please rebase onto main") == 1  # from the history only


def test_a_broadcast_note_waits_for_the_next_prompt(lab: Lab) -> None:
    repo, worktree = shop(lab)
    b = interactive(lab, worktree, "b")
    with b:
        woken_ready(b, repo)
        run_huddle(lab, repo, "note", "the build is green again")
        time.sleep(4)  # a wake would have come within about one second
        assert b.api.conversation_requests() == []
        b.type("what is new")
        last = b.wait(lambda: requests_with(b, "what is new"), "B's typed prompt")[-1]
        shown = request_text(last)
        assert "the build is green again" in shown and WOKEN not in shown


def test_the_result_of_its_own_huddle_run_wakes_the_session(lab: Lab) -> None:
    """Started in the background by a Bash call that returns at once (the client does not
    follow it), `huddle run` tells B when the command fails, and that wakes B."""
    repo, worktree = shop(lab)
    b = interactive(lab, worktree, "b")
    with b:
        woken_ready(b, repo)
        command = "huddle run -- sh -c 'sleep 3; echo broken build; exit 4' >/dev/null 2>&1 &"
        b.type(f"TOOL Bash {json.dumps({'command': command})}")
        b.wait(lambda: len(b.api.conversation_requests()) >= 2, "B's turn to end")

        def result() -> list[dict[str, Any]]:
            # Woken ("huddle woke this session"), or, when the notice beat B's Stop hook, shown
            # to it as an urgent item of the turn that was ending: by the companion either way.
            delivered = requests_with(b, MONITOR)
            return [body for body in delivered if "exit status 4" in request_text(body)]

        shown = request_text(b.wait(result, "B woken with the exit status", 60)[0])
        assert "broken build" in shown and "a `huddle run` result" in shown
        assert shown.count("exit status 4") == 1


def test_an_urgent_message_reaches_a_busy_session_after_its_running_tool_call(lab: Lab) -> None:
    """While a long tool call runs, the companion claims the urgent item (no hook would run
    before the call ends), and the client shows it right after the call, in the same turn."""
    repo, worktree = shop(lab)
    busy, go = lab.root / "busy", lab.root / "go"
    wait = (
        f"touch {busy}; i=0; while [ ! -e {go} ] && [ $i -lt 300 ]; do sleep 0.1; "
        f"i=$((i+1)); done; echo waited $i"
    )
    b = interactive(lab, worktree, "b")
    with b:
        woken_ready(b, repo)
        b.type(f"TOOL Bash {json.dumps({'command': wait})}")
        b.wait(busy.exists, "B's tool call to start", 30)
        run_huddle(lab, repo, "send", "--urgent", "ui-fixes", "stop: main is broken")
        cur = state_dir(repo) / "mail"
        b.wait(lambda: list(cur.glob("*/cur/*.json")), "the companion to claim it", 15)
        time.sleep(1)  # the client reads the event while the call still runs
        go.touch()

        def after_the_call() -> list[dict[str, Any]]:
            bodies = b.api.conversation_requests()
            return [body for body in bodies if re.search(r"waited \d", request_text(body))]

        shown = request_text(b.wait(after_the_call, "the request after the tool call")[0])
        assert "1 urgent item arrived for this session during this turn" in shown
        assert shown.count("stop: main is broken") == 1
        assert "PostToolUse:Bash hook additional context" not in shown


def test_a_storm_of_fifty_messages_makes_at_most_two_wakes_and_each_arrives_once(
    lab: Lab,
) -> None:
    repo, worktree = shop(lab)
    run_huddle(lab, repo, "config", "send_rate", "1000")
    b = interactive(lab, worktree, "b")
    with b:
        sid = woken_ready(b, repo)
        texts = [f"storm item {i:02d} of 50" for i in range(50)]
        # One sender process, through the code `huddle send` runs, 50 messages in one second
        # (50 `huddle send` processes at once would spread over seconds on a small machine).
        storm = (
            "import sys, time\n"
            "from huddle.peers import sessions\n"
            "from huddle.store.posting import Sender\n"
            "from huddle.talk import messages\n"
            "state, texts = sys.argv[1], sys.argv[2:]\n"
            "to = next(s for s in sessions.load_all(state, time.time()) if s.name == 'ui-fixes')\n"
            "for text in texts:\n"
            "    messages.send(state, Sender(None, 'storm', 'main'), to, text)\n"
            "    time.sleep(0.02)\n"
        )
        subprocess.run(
            [sys.executable, "-c", storm, str(state_dir(repo)), *texts],
            env={
                **cli_env(lab.home, lab.root, lab.data_dir),
                "PYTHONPATH": str(PLUGIN_ROOT / "src"),
            },
            check=True,
            timeout=30,
        )
        cur = state_dir(repo) / "mail" / sid / "cur"
        wait_for(lambda: len(list(cur.glob("*.json"))) == 50, "all 50 delivered", 30)
        time.sleep(4)  # any further wake would come now
        last = b.api.last_conversation_request()
        shown = request_text(last)
        wakes = shown.count(WOKEN)
        assert 1 <= wakes <= 2, wakes
        assert "(truncated)" not in shown
        for text in texts:
            assert shown.count(text) == 1, text
        assert not list((state_dir(repo) / "mail" / sid / "new").glob("*.json"))


HUDDLE_PARTS = (
    "hooks/companion",
    "huddle.companion",
    "hooks/run",
    "huddle.handlers",
    "huddle.mcp_server",
)


def huddle_processes(root: Path) -> list[str]:
    """Processes of huddle's (its companion, shell or Python) working anywhere under `root`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cwd = os.readlink(f"/proc/{entry}/cwd")
            args = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if cwd.startswith(str(root)) and any(part in args for part in HUDDLE_PARTS):
            found.append(f"{entry} {args}")
    return found


def client_pid(session: tui.TuiSession) -> int:
    out = subprocess.run(
        ["tmux", "list-panes", "-t", session.name, "-F", "#{pane_pid}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return int(out.split()[0])


def test_no_huddle_process_outlives_its_session_however_it_ends(lab: Lab) -> None:
    repo, worktree = shop(lab)
    ways = ["/exit", "close", "kill"] * 7
    ways = ways[:20]
    for batch in range(0, len(ways), 5):
        group = [
            interactive(lab, worktree if i % 2 else repo, f"s{batch + i}")
            for i in range(len(ways[batch : batch + 5]))
        ]
        for session in group:
            session.__enter__()
        try:
            clients = {client_pid(session) for session in group}

            def served(clients: set[int] = clients) -> bool:
                return clients <= {c.get("client_pid") for c in companion_records(repo)}

            wait_for(served, "a companion for every session", 40)
            assert len(huddle_processes(lab.root)) >= 2 * len(group)  # shell and Python each
            for session, way in zip(group, ways[batch : batch + 5]):
                if way == "/exit":
                    session.type("/exit")
                elif way == "close":
                    subprocess.run(["tmux", "kill-session", "-t", session.name], check=True)
                else:
                    os.kill(client_pid(session), signal.SIGKILL)
        finally:
            for session in group:
                session.__exit__(None, None, None)
    left = wait_for(lambda: not huddle_processes(lab.root) or None, "no huddle process", 20)
    assert left
    assert companion_records(repo) == []


def test_where_huddle_is_not_enabled_no_python_runs_for_the_session(lab: Lab) -> None:
    repo = make_repo(lab.root / "plain")
    b = interactive(lab, repo, "b")
    with b:
        shells = wait_for(  # the companion's own shell, not only the client's wrapper around it
            lambda: [
                p
                for p in huddle_processes(lab.root)
                if "hooks/companion" in p and p.split()[1] == "sh"
            ],
            "the companion's shell",
            30,
        )
        time.sleep(6)  # past its first look at the repository
        running = huddle_processes(lab.root)
        assert [p for p in running if "python" in p] == [], running
        assert len([p for p in shells if p.split()[1] == "sh"]) == 1, shells


# ------------------------------------------------------------------ headless sessions


def test_a_stream_json_session_is_woken_once_and_still_exits_when_its_input_closes(
    lab: Lab,
) -> None:
    """No monitor runs in the stream-json mode: the asyncRewake Stop hook (hooks/wait) waits
    after each turn instead."""
    repo, worktree = shop(lab)
    b = lab.session(worktree, "b")
    with b:
        started(b, repo)
        assert b.turn("hello")["result"] == "ok"  # its Stop hook starts a waiter
        wait_for(
            lambda: [c for c in companion_records(repo) if c.get("mode") == "waiter"],
            "the waiter",
        )
        run_huddle(lab, repo, "send", "ui-fixes", "please rebase onto main")
        woken = b.wait_turn(30)  # a turn nobody typed
        assert woken["result"] == "ok"
        shown = request_text(b.api.last_conversation_request())
        assert WOKEN in shown and shown.count("please rebase onto main") == 1
        assert "Stop hook" in shown  # how the client frames a rewake

        assert b.turn("carry on")["result"] == "ok"
        again = request_text(b.api.last_conversation_request())
        assert again.count("please rebase onto main") == 1  # from the history only
        wait_for(
            lambda: [c for c in companion_records(repo) if c.get("mode") == "waiter"],
            "the next turn's waiter",
        )
        closed_at = time.monotonic()
        assert b.close() == 0
        took = time.monotonic() - closed_at
        print(f"exited {took:.1f} s after its input closed")
    assert companion_records(repo) == []
    assert [p for p in huddle_processes(lab.root) if "huddle.companion" in p] == []


NODE_HOST = r"""
// A host as the Agent SDK is one: it spawns the client with pipes, which Node makes sockets.
const { spawn } = require("child_process");
const readline = require("readline");
const [claude, ...args] = process.argv.slice(2);
const child = spawn(claude, args, { stdio: ["pipe", "pipe", "inherit"] });
let results = 0;
readline.createInterface({ input: child.stdout }).on("line", (line) => {
  try {
    if (JSON.parse(line).type === "result") console.log(`RESULT ${++results}`);
  } catch (e) {}
});
child.on("exit", (code) => console.log(`EXIT ${code}`));
const say = (text) => {
  const message = { role: "user", content: text };
  child.stdin.write(JSON.stringify({ type: "user", message }) + "\n");
};
readline.createInterface({ input: process.stdin }).on("line", (line) => {
  if (line === "CLOSE") child.stdin.end();
  else say(line);
});
"""


def test_a_session_under_a_node_host_is_woken_and_exits_when_the_host_closes_its_input(
    lab: Lab,
) -> None:
    """A Node host gives the client sockets, not pipes, for its stdio: the waiter reads from
    the kernel's socket diagnostics when the host has closed the client's input."""
    import queue
    import shutil
    import threading

    from .client import isolated_env
    from .mockapi import MockAPI

    node = shutil.which("node")
    assert node, "node is needed (the machines that run the tests have it)"
    repo, worktree = shop(lab)
    host_js = lab.root / "host.js"
    host_js.write_text(NODE_HOST)
    with MockAPI() as api:
        env = isolated_env(lab.root / "node", api.base_url, lab.home, lab.env())
        args = ["-p", "--permission-mode", "bypassPermissions", "--plugin-dir", str(PLUGIN_ROOT)]
        args += ["--input-format", "stream-json", "--output-format", "stream-json", "--verbose"]
        host = subprocess.Popen(
            [node, str(host_js), lab.claude_bin, *args],
            cwd=worktree,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        lines: queue.Queue[str] = queue.Queue()
        assert host.stdout is not None and host.stdin is not None
        threading.Thread(
            target=lambda: [lines.put(x.strip()) for x in host.stdout], daemon=True
        ).start()

        def next_line(timeout: float) -> str:
            return lines.get(timeout=timeout)

        def waiter() -> list[dict[str, Any]]:
            return [c for c in companion_records(repo) if c.get("mode") == "waiter"]

        try:
            host.stdin.write("hello\n")
            host.stdin.flush()
            assert next_line(60) == "RESULT 1"
            wait_for(waiter, "the waiter")
            run_huddle(lab, repo, "send", "ui-fixes", "please rebase onto main")
            assert next_line(30) == "RESULT 2"  # the woken turn
            shown = request_text(api.conversation_requests()[-1])
            assert WOKEN in shown and shown.count("please rebase onto main") == 1
            wait_for(waiter, "the next turn's waiter")
            closed_at = time.monotonic()
            host.stdin.write("CLOSE\n")
            host.stdin.flush()
            assert next_line(30) == "EXIT 0"
            print(f"exited {time.monotonic() - closed_at:.1f} s after its input closed")
        finally:
            if host.poll() is None:
                os.killpg(host.pid, signal.SIGKILL)
            host.wait(10)
            host.stdin.close()
            host.stdout.close()
    assert waiter() == []
