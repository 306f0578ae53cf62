"""The companion as Claude Code runs it (`sh hooks/companion <data dir>`, as monitors.json says),
for sessions played through the real hooks with real stand-in processes as their clients.

What it writes to stdout is what the client would hand the model; each write is one event.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers import ROOT, Plugin, Session, StandIn, wait_for

MONITORS = json.loads((ROOT / "monitors" / "monitors.json").read_text())
WOKEN = "huddle woke this session"


def companion_argv(plugin: Plugin) -> list[str]:
    """monitors.json's command, with the client's substitutions made."""
    [entry] = MONITORS
    command = entry["command"].replace("${CLAUDE_PLUGIN_ROOT}", str(ROOT))
    command = command.replace("${CLAUDE_PLUGIN_DATA}", str(plugin.data_dir))
    return ["sh", "-c", command]


class Companion:
    """One companion process; `events` are its stdout writes as they came."""

    def __init__(self, plugin: Plugin, session: Session, pid: int | None = None) -> None:
        env = plugin.environ(pid or session.proc.pid, session.sid)
        for name in ("CLAUDE_PLUGIN_ROOT", "CLAUDE_PLUGIN_DATA"):
            env.pop(name)  # monitors get neither: the command text holds them
        self.proc = subprocess.Popen(
            companion_argv(plugin),
            cwd=session.cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            start_new_session=True,  # as the client starts it: its own process group
        )
        self.events: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while chunk := os.read(fd, 1 << 16):
            self.events.append(chunk.decode())

    def python(self) -> list[int]:
        """Pids of the Python part running under the shell."""
        found = []
        for entry in os.listdir("/proc"):
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                args = Path(f"/proc/{entry}/cmdline").read_bytes()
            except (OSError, ValueError):
                continue
            group = stat[stat.rfind(")") + 2 :].split()[2]
            if group == str(self.proc.pid) and b"huddle.companion" in args:
                found.append(int(entry))
        return found

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(10)
        self._reader.join(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@pytest.fixture
def companion(plugin: Plugin) -> Iterator[Callable[..., Companion]]:
    made: list[Companion] = []

    def make(session: Session, pid: int | None = None, ready: bool = True) -> Companion:
        made.append(Companion(plugin, session, pid))
        if ready:
            wait_for(lambda: serving(session), "the companion to serve the session")
        return made[-1]

    yield make
    for one in made:
        one.stop()


def companion_records(state: Path) -> list[dict]:
    found = []
    for path in (state / "companions").glob("*.json"):
        try:
            found.append(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue
    return found


def serving(session: Session) -> bool:
    return any(c.get("session_id") == session.sid for c in companion_records(session.state))


def waiting(session: Session) -> list[Path]:
    return sorted((session.state / "mail" / session.sid / "new").glob("*.json"))


def delivered(session: Session) -> list[Path]:
    return sorted((session.state / "mail" / session.sid / "cur").glob("*.json"))


# ------------------------------------------------------------------ what wakes, what waits


def test_a_message_to_an_idle_session_is_written_out_once_and_marked_delivered(
    session: Callable[..., Session], companion: Callable[..., Companion]
) -> None:
    a, b = session("alice"), session("bob")
    c = companion(b)
    assert a.cli("send", "bob", "please rebase onto main").stdout.endswith(
        "it wakes the session now\n"
    )
    wait_for(lambda: c.events, "the wake")
    [event] = c.events
    assert event.startswith(f"{WOKEN}: 1 new item arrived for it while it was idle")
    assert '(1 message from "alice")' in event
    assert '"please rebase onto main"' in event
    assert event.endswith("\n") and event.count("\n") == 2  # the head and one item
    assert waiting(b) == [] and len(delivered(b)) == 1
    sent = json.loads(a.cli("sent", "--json").stdout)
    assert sent[0]["delivered_at"] is not None
    # The next prompt does not show it again.
    assert b.hook("UserPromptSubmit", prompt="go on") is None
    time.sleep(1)
    assert len(c.events) == 1


def test_notes_and_notices_wait_for_the_next_prompt_by_default(
    session: Callable[..., Session], companion: Callable[..., Companion]
) -> None:
    a, b = session("alice"), session("bob")
    c = companion(b)
    a.cli("note", "the build is green")
    time.sleep(1.5)
    assert c.events == [] and len(waiting(b)) == 1
    shown = b.hook("UserPromptSubmit", prompt="go on")
    assert shown is not None and "the build is green" in json.dumps(shown)


@pytest.mark.parametrize(
    ("setting", "wakes"),
    [
        ("all", {"note", "message", "urgent"}),
        ("direct", {"message", "urgent"}),
        ("urgent", {"urgent"}),
        ("off", set()),
    ],
)
def test_the_wake_setting_says_what_wakes(
    session: Callable[..., Session],
    companion: Callable[..., Companion],
    setting: str,
    wakes: set[str],
) -> None:
    a, b = session("alice"), session("bob")
    assert a.cli("config", "wake", setting).returncode == 0
    c = companion(b)
    sent = {
        "note": a.cli("note", "a note"),
        "message": a.cli("send", "bob", "a message"),
        "urgent": a.cli("send", "--urgent", "bob", "an urgent one"),
    }
    assert all(done.returncode == 0 for done in sent.values())
    texts = {"note": '"a note"', "message": '"a message"', "urgent": '"an urgent one"'}
    if wakes:
        wait_for(lambda: all(texts[k] in "".join(c.events) for k in wakes), "the wake")
    time.sleep(1.5)
    shown = "".join(c.events)
    assert {k for k, text in texts.items() if text in shown} == wakes
    assert len(c.events) <= 2  # one wake, or two when the sends straddle its gathering
    assert len(waiting(b)) == 3 - len(wakes)


def test_a_busy_session_gets_urgent_items_between_tool_calls_and_the_rest_when_it_stops(
    session: Callable[..., Session], companion: Callable[..., Companion]
) -> None:
    a, b = session("alice"), session("bob")
    c = companion(b)
    assert b.hook("UserPromptSubmit", prompt="work") is None  # now working
    a.cli("send", "bob", "when you are done")
    a.cli("send", "--urgent", "bob", "stop touching app.py")
    wait_for(lambda: c.events, "the urgent item")
    [urgent] = c.events
    assert urgent.startswith("huddle: 1 urgent item arrived for this session during this turn")
    assert "stop touching app.py" in urgent and "when you are done" not in urgent
    time.sleep(1)
    assert len(c.events) == 1
    assert b.hook("Stop") is None  # the turn ends: the message wakes it
    wait_for(lambda: len(c.events) == 2, "the wake after the turn")
    assert c.events[1].startswith(WOKEN) and "when you are done" in c.events[1]


def test_a_storm_of_a_hundred_messages_makes_at_most_two_events(
    session: Callable[..., Session], companion: Callable[..., Companion], state: Path
) -> None:
    a, b = session("alice"), session("bob")
    a.cli("config", "send_rate", "1000")
    c = companion(b)
    sys_path = str(ROOT / "src")
    script = (
        "import sys, time; sys.path.insert(0, sys.argv[1]);"
        "from huddle.store.posting import Sender, item, post;"
        "s = Sender(None, 'carol', 'main');"
        "[post(sys.argv[2], item(s, 'fyi', f'storm {i:03d}', time.time(), urgent=False,"
        " reply_to=None, to_sessions=[sys.argv[3]], to_name='bob'), [sys.argv[3]])"
        " for i in range(100)]"
    )
    subprocess.run([sys.executable, "-c", script, sys_path, str(state), b.sid], check=True)
    # As the client does: each event starts a turn, whose UserPromptSubmit hook shows what the
    # event had no room for (the client cuts an event at 3,000 characters), and which ends.
    shown, answered = [], 0
    deadline = time.monotonic() + 30
    while len(delivered(b)) < 100 and time.monotonic() < deadline:
        if len(c.events) > answered:
            answered = len(c.events)
            shown.append(json.dumps(b.hook("UserPromptSubmit", prompt="(the woken turn)")))
            assert b.hook("Stop") is None
        time.sleep(0.05)
    time.sleep(1)
    assert len(delivered(b)) == 100
    assert 1 <= len(c.events) <= 2
    assert all(len(event) < 3000 for event in c.events)  # under the client's cut
    everything = "".join(c.events) + "".join(shown)
    assert all(everything.count(f"storm {i:03d}") == 1 for i in range(100))


# ------------------------------------------------------------------ lifecycle


def test_it_exits_within_seconds_of_its_client_and_leaves_no_record(
    session: Callable[..., Session], companion: Callable[..., Companion], state: Path
) -> None:
    client = StandIn()
    b = session("bob", client)
    c = companion(b)
    assert c.python()
    client.kill()  # SIGKILL, as a crashed client
    c.proc.wait(10)
    assert c.proc.returncode == 0
    assert companion_records(state) == []


def test_a_second_companion_for_one_client_waits_and_takes_over(
    session: Callable[..., Session], companion: Callable[..., Companion]
) -> None:
    a, b = session("alice"), session("bob")
    first = companion(b)
    second = companion(b, ready=False)
    wait_for(lambda: second.python(), "the second one's Python part")
    a.cli("send", "bob", "one")
    wait_for(lambda: first.events, "the first delivery")
    time.sleep(1)
    assert second.events == []
    for pid in first.python():
        os.kill(pid, signal.SIGKILL)  # the first one dies: the second one serves
    time.sleep(3.5)  # past the wake interval
    a.cli("send", "bob", "two")
    wait_for(lambda: second.events, "the second delivery", timeout=15)
    assert '"two"' in second.events[0] and len(first.events) == 1


def test_an_item_it_could_not_write_out_waits_again(
    session: Callable[..., Session], plugin: Plugin
) -> None:
    a, b = session("alice"), session("bob")
    env = plugin.environ(b.proc.pid, b.sid)
    read, write = os.pipe()
    proc = subprocess.Popen(
        companion_argv(plugin), cwd=b.cwd, env=env, stdout=write, stdin=subprocess.DEVNULL
    )
    os.close(write)
    try:
        wait_for(lambda: serving(b), "the companion")
        os.close(read)  # the client stopped reading
        a.cli("send", "bob", "keep me")
        proc.wait(15)
        assert len(waiting(b)) == 1 and delivered(b) == []
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_it_follows_its_client_across_clear(
    session: Callable[..., Session],
    companion: Callable[..., Companion],
    plugin: Plugin,
    state: Path,
) -> None:
    a, b = session("alice"), session("bob")
    c = companion(b)
    assert b.hook("SessionEnd", reason="clear") is None
    after = Session(plugin, state, b.cwd, b.proc)
    after.hook("SessionStart", source="clear")
    wait_for(lambda: serving(after), "the companion to serve the new session")
    a.cli("send", "bob", "after the clear")
    wait_for(lambda: c.events, "the wake")
    assert "after the clear" in c.events[0]
    assert len(delivered(after)) == 1


def test_turning_huddle_off_stops_its_python_and_on_again_starts_it(
    session: Callable[..., Session],
    companion: Callable[..., Companion],
    plugin: Plugin,
    repo: Path,
) -> None:
    b = session("bob")
    c = companion(b)
    assert plugin.cli("disable", "--yes", cwd=repo).returncode == 0
    wait_for(lambda: not c.python(), "its Python part to end")
    assert c.proc.poll() is None  # the shell stays: a monitor that exits is never restarted
    assert c.events == []


def test_bad_state_is_logged_and_it_goes_on(
    session: Callable[..., Session],
    companion: Callable[..., Companion],
    plugin: Plugin,
    state: Path,
) -> None:
    a, b = session("alice"), session("bob")
    c = companion(b)
    inbox = state / "mail" / b.sid / "new"
    inbox.mkdir(parents=True)
    (inbox / f"{int(time.time() * 1e6):019d}.deadbeef.json").write_text("{not json")
    record = state / f"{b.sid}.json"
    saved = record.read_bytes()
    record.write_text("[]")
    time.sleep(1.5)
    record.write_bytes(saved)
    a.cli("send", "bob", "still here")
    wait_for(lambda: c.events, "the wake after the trouble")
    assert "still here" in c.events[0] and "deadbeef" not in c.events[0]
    assert c.proc.poll() is None and c.python()
    assert (state / "mail" / b.sid / "bad").is_dir()


# ------------------------------------------------------------------ what people are shown


def test_sessions_and_doctor_say_which_sessions_can_be_woken(
    session: Callable[..., Session], companion: Callable[..., Companion], plugin: Plugin
) -> None:
    a, b = session("alice"), session("bob")
    companion(b)
    a.cli("send", "bob", "hello")
    wait_for(lambda: delivered(b), "the delivery")
    rows = {row["name"]: row for row in json.loads(a.cli("sessions", "--json").stdout)}
    assert rows["bob"]["wakeable"] is True and rows["alice"]["wakeable"] is False
    table = a.cli("sessions").stdout
    [alice] = [line for line in table.splitlines() if "alice" in line]
    [bob] = [line for line in table.splitlines() if "bob" in line and "alice" not in line]
    assert "(no wake)" in alice and "(no wake)" not in bob
    assert "(no wake): no companion runs for it" in table
    doctor = a.cli("doctor").stdout
    [line] = [line for line in doctor.splitlines() if "wake" in line and "bob:" in line]
    assert "bob: companion since" in line and "last delivered" in line
    assert "alice: cannot be woken (no companion)" in line


def test_a_prompt_typed_as_a_message_arrives_shows_it_once_either_way(
    session: Callable[..., Session], companion: Callable[..., Companion]
) -> None:
    """The hook of a prompt typed at the moment the companion would wake the session: one of
    them claims each message, never both, whoever comes first."""
    a, b = session("alice"), session("bob")
    c = companion(b)
    hooks = []
    for index, delay in enumerate([0.0, 0.1, 0.2, 0.25, 0.3, 0.35, 0.45, 0.6]):
        assert b.hook("Stop") is None  # idle again
        text = f"race {index}"
        assert a.cli("send", "bob", text).returncode == 0
        time.sleep(delay)
        shown = b.hook("UserPromptSubmit", prompt="typed")
        hooks.append(shown["hookSpecificOutput"]["additionalContext"] if shown else "")
        wait_for(lambda: not waiting(b), "the message to be claimed")
        time.sleep(3.2)  # past the least time between two wakes
    both = "".join(c.events) + "".join(hooks)
    assert all(both.count(f'"race {i}"') == 1 for i in range(8)), both
    assert len(delivered(b)) == 8
