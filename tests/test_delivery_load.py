"""Exactly once under load: many real sender processes, one recipient whose hooks keep running.

Senders are real processes that import huddle from src/ and call `huddle.talk.messages.send`, each
with its own identity; the recipient's UserPromptSubmit is the real hook launcher, run over and
over (and a second process claims from the same inbox through `huddle.handlers.entry.run`, so two
readers race for every message). Crash windows are reached without sleeping: a child stops
itself with SIGSTOP at the chosen step, the parent sees it stopped (waitpid WUNTRACED) and
kills it with SIGKILL.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from tests.helpers import (
    ROOT,
    HookResult,
    Plugin,
    StandIn,
    checked,
    new_session_id,
    sample,
)
from tests.test_messages import items

SRC = str(ROOT / "src")
SENDERS = 8
EACH = 250

# Shared by the senders and the test: the exact text of message `n` of sender `i`. Quotes,
# backslashes and characters beyond ASCII are there to be escaped; no whitespace is doubled.
BODY = r"""
ALPHABET = 'abcdefgh"\\é中🙂{}[]:,xyz'


def body(i, n, size=None):
    size = 1 + (n * 37 + i * 11) % 160 if size is None else size
    fill = "".join(ALPHABET[(i + n + k) % len(ALPHABET)] for k in range(size))
    return f"s{i} m{n:03d} {fill} end-{i}-{n}"
"""
_space: dict[str, object] = {}
exec(BODY, _space)  # noqa: S102 - the same definition the child processes run
body = cast("Callable[..., str]", _space["body"])

SENDER = (
    BODY
    + r"""
import sys, time
sys.path.insert(0, sys.argv[1])
from huddle.peers import sessions
from huddle.store import posting
from huddle.talk import messages
state, recipient, index, count = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
to = next(s for s in sessions.load_all(state, time.time()) if s.session_id == recipient)
me = posting.Sender(sys.argv[6], f"sender{index}", f"branch{index}")
sys.stdin.read()  # the gate: every sender starts at the same moment
for n in range(count):
    messages.send(state, me, to, body(index, n))
"""
)

# A second reader of the recipient's inbox, in-process hooks in a loop until told to stop.
READER = r"""
import json, os, sys
sys.path.insert(0, sys.argv[1])
from huddle.handlers import entry
raw, stop = sys.argv[2].encode(), sys.argv[3]
runs = 0
with open(sys.argv[4], "w") as shown:  # a file, not a pipe: a full pipe would stall the reader
    while not os.path.exists(stop):
        runs += 1
        output = entry.run("UserPromptSubmit", raw)
        if output:
            shown.write(json.dumps(output) + "\n")
sys.stderr.write(f"{runs}\n")
"""


LIMIT = 180


class Recipient:
    """The one session everything is sent to, driven through the real hook launcher."""

    def __init__(self, plugin: Plugin, repo: Path, state: Path) -> None:
        self.plugin, self.repo, self.state = plugin, repo, state
        self.proc = StandIn()
        self.sid = new_session_id()
        checked(self.hook("SessionStart", sample("SessionStart-startup", self.sid, repo)))
        self.mail = state / "mail" / self.sid

    def hook(self, name: str, payload: dict[str, Any]) -> HookResult:
        return self.plugin.hook(name, payload, cwd=self.repo, pid=self.proc.pid)

    def payload(self) -> dict[str, Any]:
        return sample("UserPromptSubmit", self.sid, self.repo)

    def prompt(self) -> str | None:
        output = checked(self.hook("UserPromptSubmit", self.payload()))
        if output is None:
            return None
        text: str = output["hookSpecificOutput"]["additionalContext"]
        return text

    def files(self, part: str) -> list[str]:
        folder = self.mail / part
        return sorted(os.listdir(folder)) if folder.is_dir() else []


@pytest.fixture
def recipient(plugin: Plugin, repo: Path, state: Path) -> Iterator[Recipient]:
    r = Recipient(plugin, repo, state)
    yield r
    r.proc.kill()


def child_env(plugin: Plugin, pid: int | None = None) -> dict[str, str]:
    env = plugin.environ(pid)
    env.pop("CLAUDE_CODE_SESSION_ID", None)
    return env


# --- 8 senders x 250 messages, one recipient whose hooks keep running --------------------------


@pytest.mark.slow
def test_every_message_is_injected_exactly_once_under_load(
    plugin, repo, state, recipient, tmp_path
):
    plugin.cli("config", "send_rate", "100000", cwd=repo, check=True)
    started = time.monotonic()
    stop = tmp_path / "stop-reader"
    shown_file = tmp_path / "second-reader.jsonl"
    children: list[subprocess.Popen[str]] = []
    try:
        reader = subprocess.Popen(
            [
                sys.executable,
                "-c",
                READER,
                SRC,
                json.dumps(recipient.payload()),
                str(stop),
                str(shown_file),
            ],
            cwd=repo,
            env=child_env(plugin, recipient.proc.pid),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        children.append(reader)
        gate_read, gate_write = os.pipe()
        try:
            for i in range(SENDERS):
                children.append(
                    subprocess.Popen(
                        [
                            sys.executable,
                            "-c",
                            SENDER,
                            SRC,
                            str(state),
                            recipient.sid,
                            str(i),
                            str(EACH),
                            new_session_id(),
                        ],
                        stdin=gate_read,
                        cwd=repo,
                        env=child_env(plugin),
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.PIPE,
                        text=True,
                    )
                )
        finally:
            os.close(gate_read)
            os.close(gate_write)  # every sender's read returns now
        senders = children[1:]

        texts: list[str] = []
        runs_while_sending = 0
        while any(s.poll() is None for s in senders):
            runs_while_sending += 1
            text = recipient.prompt()
            if text is not None:
                texts.append(text)
            assert time.monotonic() - started < 120, "the senders take far too long"
        sent_at = time.monotonic()
        for s in senders:
            _, err = s.communicate(timeout=60)
            assert s.returncode == 0, err
        shown_while_sending = len(texts)

        stop.touch()
        _, err = reader.communicate(timeout=60)
        assert reader.returncode == 0, err
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    reader_texts = [
        json.loads(line)["hookSpecificOutput"]["additionalContext"]
        for line in shown_file.read_text().splitlines()
    ]
    drains = 0
    while (text := recipient.prompt()) is not None:  # once the senders are done, until empty
        drains += 1
        texts.append(text)
    assert recipient.files("new") == []
    elapsed = time.monotonic() - started

    seen: Counter[str] = Counter()
    for text in texts + reader_texts:
        assert len(text) < 8000
        for item in items(text):  # every line framed, every body one whole JSON string
            i = int(item["body"].split()[0][1:])
            assert (item["sender"], item["branch"]) == (f"sender{i}", f"branch{i}")
            assert item["kind"] == "fyi"
            seen[item["body"]] += 1
    expected = {body(i, n) for i in range(SENDERS) for n in range(EACH)}
    assert len(expected) == SENDERS * EACH
    duplicated = {b: c for b, c in seen.items() if c > 1}
    assert not duplicated, f"{len(duplicated)} shown more than once"
    assert not set(seen) - expected, "a body was shown that nobody sent (torn or altered)"
    assert not expected - set(seen), f"{len(expected - set(seen))} messages were lost"

    # The store agrees: all claimed, none stranded in tmp/, none set aside, all in the history.
    assert len(recipient.files("cur")) == SENDERS * EACH
    assert recipient.files("tmp") == [] and recipient.files("bad") == []
    assert len(list((state / "history").glob("*/*.json"))) == SENDERS * EACH
    # Both readers really took part, and the hooks ran while the senders were sending.
    assert texts and reader_texts and shown_while_sending > 0
    print(
        f"\n{SENDERS}x{EACH} messages: senders done after {sent_at - started:.1f}s, all shown "
        f"after {elapsed:.1f}s; launcher hooks while sending {runs_while_sending}, injections "
        f"{len(texts)} (+{len(reader_texts)} by the second reader in {err.strip()} runs), "
        f"drain {drains}"
    )


# --- a sender killed while writing --------------------------------------------------------------

# Sends message `n` of a large series until killed; at the step named in argv[7] of message
# number argv[8] it stops itself, for the parent to kill it there.
KILLED = (
    BODY
    + r'''
import builtins, os, signal, sys, time
sys.path.insert(0, sys.argv[1])
from huddle.peers import sessions
from huddle.store import posting
from huddle.talk import messages
from huddle.store import atomic
state, recipient, index, count = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
step, at = sys.argv[7], int(sys.argv[8])
to = next(s for s in sessions.load_all(state, time.time()) if s.session_id == recipient)
me = posting.Sender(sys.argv[6], f"killed{index}", "crash")
current = -1


def stop_here():
    if current == at:
        os.kill(os.getpid(), signal.SIGSTOP)  # the parent kills us while stopped


class Half:
    """A file whose write of a message stops halfway."""

    def __init__(self, handle):
        self.handle = handle

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self.handle.__exit__(*exc)

    def write(self, data):
        if b'"text"' in data and b'"recent"' not in data and current == at:
            self.handle.write(data[: len(data) // 2])
            self.handle.flush()
            stop_here()
        return self.handle.write(data)

    def __getattr__(self, name):
        return getattr(self.handle, name)


real_fsync, real_replace, real_rename = os.fsync, os.replace, os.rename


def in_tmp(path):
    """A path in an inbox's tmp/ (not the senders' or the history's files)."""
    folder = os.path.dirname(path)
    return os.path.basename(folder) == "tmp" and os.path.basename(
        os.path.dirname(os.path.dirname(folder))) == "mail"


if step == "half":
    atomic.open = lambda *a, **k: Half(builtins.open(*a, **k))
elif step == "fsync":  # the bytes are written, the temp file not yet renamed
    os.fsync = lambda fd: (stop_here(), real_fsync(fd))[1]
elif step == "replace":  # the temp file is whole; tmp/ holds it under its final tmp name next
    os.replace = lambda a, b: (stop_here() if in_tmp(b) else None, real_replace(a, b))[1]
elif step == "rename":  # whole in tmp/, one rename from new/
    os.rename = lambda a, b: (stop_here() if in_tmp(a) else None, real_rename(a, b))[1]
for n in range(count):
    current = n
    messages.send(state, me, to, body(index, n, 12000))
    print(n, flush=True)
'''
)


def run_killed(
    plugin: Plugin,
    state: Path,
    recipient: Recipient,
    index: int,
    count: int,
    step: str = "none",
    at: int = -1,
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            KILLED,
            SRC,
            str(state),
            recipient.sid,
            str(index),
            str(count),
            new_session_id(),
            step,
            str(at),
        ],
        cwd=recipient.repo,
        env=child_env(plugin),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill_when_stopped(child: subprocess.Popen[str]) -> None:
    _, status = os.waitpid(child.pid, os.WUNTRACED)
    assert os.WIFSTOPPED(status), f"the child ended before its crash point: {status}"
    child.kill()
    child.wait()
    assert child.returncode == -signal.SIGKILL


def assert_new_holds_only_whole_messages(recipient: Recipient) -> int:
    for name in recipient.files("new"):
        message = json.loads((recipient.mail / "new" / name).read_bytes())
        i, n = (int(part) for part in message["text"].rsplit("end-", 1)[1].split("-"))
        assert message["text"] == body(i, n, 12000)
    return len(recipient.files("new"))


@pytest.mark.parametrize("step", ["half", "fsync", "replace", "rename"])
def test_a_sender_killed_at_each_step_of_a_write_leaves_nothing_partial(
    plugin, repo, state, recipient, step
):
    child = run_killed(plugin, state, recipient, 0, 3, step, at=1)
    kill_when_stopped(child)
    assert child.stdout.read() == "0\n"  # message 0 went through; message 1 died on the way
    child.stdout.close()
    child.stderr.close()
    assert assert_new_holds_only_whole_messages(recipient) == 1
    leftovers = recipient.files("tmp")
    assert leftovers, "the killed write left nothing behind at all?"
    assert not [n for n in leftovers if n.endswith(".json")]  # never a deliverable name
    history = [json.loads(p.read_text())["text"] for p in (state / "history").glob("*/*.json")]
    assert history == [body(0, 0, 12000)]

    [item] = items(recipient.prompt())
    assert item["body"] == body(0, 0, 12000)[:1999] + "…"
    assert recipient.prompt() is None
    cur = [json.loads((recipient.mail / "cur" / n).read_bytes()) for n in recipient.files("cur")]
    assert [m["text"] for m in cur] == [body(0, 0, 12000)]
    assert recipient.files("bad") == []


def test_senders_killed_at_random_points_never_deliver_a_partial_message(
    plugin, repo, state, recipient
):
    plugin.cli("config", "send_rate", "100000", cwd=repo, check=True)
    chance = random.Random(4)
    reported: set[tuple[int, int]] = set()
    for index in range(12):
        child = run_killed(plugin, state, recipient, index, 1000)
        for _ in range(chance.randint(1, 4)):  # progress read from the pipe, then a kill
            reported.add((index, int(child.stdout.readline())))
        child.kill()
        child.wait()
        child.stdout.close()
        child.stderr.close()
        assert_new_holds_only_whole_messages(recipient)

    shown = []
    while (text := recipient.prompt()) is not None:
        shown += [item["body"] for item in items(text)]
    assert len(shown) == len(set(shown))
    cur = {}
    for name in recipient.files("cur"):
        message = json.loads((recipient.mail / "cur" / name).read_bytes())
        i, n = (int(part) for part in message["text"].rsplit("end-", 1)[1].split("-"))
        assert message["text"] == body(i, n, 12000)  # whole
        cur[(i, n)] = message["text"]
    assert reported <= set(cur)  # every send the child finished was delivered
    assert sorted(shown) == sorted(t[:1999] + "…" for t in cur.values())
    # Whatever the kills left is in tmp/, under names no reader takes for a message.
    assert recipient.files("new") == [] and recipient.files("bad") == []
    assert set(os.listdir(recipient.mail)) <= {"tmp", "new", "cur"}
    assert not [n for n in recipient.files("tmp") if n.endswith(".json")]


# --- a corrupted message --------------------------------------------------------------------------


def test_a_corrupted_message_is_set_aside_and_the_others_are_delivered(
    plugin, repo, state, recipient
):
    from huddle.store import mailbox

    for n in range(3):  # from a person at a terminal
        done = plugin.cli("send", "main", f"good {n}", cwd=repo)
        assert done.returncode == 0, done.stderr
    now = time.time()
    bad = {
        mailbox.name_for("deadbee1", now - 3, False): b'{"id": "deadbee1", "text": "torn in hal',
        mailbox.name_for("deadbee2", now - 2, True): b"[1, 2, 3]",
        mailbox.name_for("deadbee3", now - 1, False): b"",
        mailbox.name_for("deadbee4", now, False): b"\xff\xfe not utf-8",
        mailbox.name_for("deadbee5", now, False): b'{"text": "' + b"x" * (1 << 20) + b'"}',
    }
    for name, data in bad.items():
        (recipient.mail / "new" / name).write_bytes(data)

    text = recipient.prompt()
    assert [item["body"] for item in items(text)] == ["good 0", "good 1", "good 2"]
    assert recipient.prompt() is None
    assert recipient.files("new") == []
    assert recipient.files("bad") == sorted(bad)
    for name, data in bad.items():
        assert (recipient.mail / "bad" / name).read_bytes() == data  # kept as it was
    log = plugin.log_text()
    for name in bad:
        assert f"set aside the unreadable message {name} for {recipient.sid}" in log
    assert log.count("set aside the unreadable message") == len(bad)


# --- two hooks of one session racing for the same message ------------------------------------


def test_a_hook_that_loses_the_claim_shows_nothing_of_it(
    plugin, repo, state, recipient, monkeypatch
):
    """Another hook (a PostToolUse next to this UserPromptSubmit, `huddle inbox`) claims every
    message between this hook's read and its claim: each is shown by the winner alone."""
    from huddle.store import mailbox
    from huddle.talk import inbox

    for n in range(3):
        assert plugin.cli("send", "main", f"raced {n}", cwd=repo).returncode == 0
    monkeypatch.setenv("CLAUDE_PLUGIN_DATA", str(plugin.data_dir))
    real = mailbox.read_new
    winner: list[str | None] = []

    def read_then_lose(state: str, session_id: str, name: str) -> object:
        message = real(state, session_id, name)
        if not winner:
            winner.append(None)
            winner[0] = inbox.show_waiting(state, session_id, time.time())
        return message

    monkeypatch.setattr(mailbox, "read_new", read_then_lose)
    loser = inbox.show_waiting(str(state), recipient.sid, time.time())
    assert loser is None
    assert [item["body"] for item in items(winner[0])] == ["raced 0", "raced 1", "raced 2"]
    monkeypatch.setattr(mailbox, "read_new", real)  # (not undo(): HOME is monkeypatched too)
    assert recipient.prompt() is None
