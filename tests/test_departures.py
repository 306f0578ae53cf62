"""Sessions that leave: a crash its peers notice, a clean end, and /clear handing over.

Every hook runs through the real launcher, each session with a real stand-in process as its
CLAUDE_PID; a session crashes when its stand-in is killed. Locks, tasks and messages are made
with the real `huddle` CLI, as the model's Bash tool runs it. What a session is told is read
from its UserPromptSubmit (or SessionStart) output and from its inbox on disk.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import (
    HookResult,
    Plugin,
    Session,
    checked,
    denial,
    hook_command,
    lease_folder,
    make_record,
    new_session_id,
    sample,
)

LIMIT = 180
PEERS = 8
CRASHED = "ended unexpectedly"
LEFT = "ended and gave back"
# One item line as huddle frames it; the body is one JSON string at the end of the line.
ITEM = re.compile(
    r'^- (?:note|message [0-9a-f]+) from "(?P<sender>[^"]*)"(?: \(branch [^)]*\))? '
    r"at (?:\d\d:\d\d|\?)(?:, (?P<kind>[a-z ]+)[^:]*)?: (?P<body>\".*\")$"
)


# --- plumbing -------------------------------------------------------------------------------


REPO_FILES = (
    "src/app.py",
    "src/cart.py",
    "src/util.py",
)  # committed by conftest's `repo`


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, (done.stdout, done.stderr)
    return done.stdout


def context(output: dict[str, Any] | None, event: str) -> str:
    """The additionalContext of a hook's output ("" for no output)."""
    if output is None:
        return ""
    specific = output["hookSpecificOutput"]
    assert specific["hookEventName"] == event
    text = specific["additionalContext"]
    assert isinstance(text, str) and text
    return text


def prompt(s: Session) -> str:
    """What the session's next model request gets from UserPromptSubmit (the real event)."""
    result = s.plugin.hook(
        "UserPromptSubmit", sample("UserPromptSubmit", s.sid, s.cwd), cwd=s.cwd, pid=s.proc.pid
    )
    return context(checked(result), "UserPromptSubmit")


def items(text: str) -> list[dict[str, Any]]:
    """Every framed item of an injection: sender, kind and body (the decoded JSON string)."""
    found = []
    for line in text.split("\n"):
        if not line.startswith("- ") or " from " not in line:
            continue
        match = ITEM.match(line)
        if match is None:
            continue  # a line of the peers' digest, not an item
        value: dict[str, Any] = match.groupdict()
        value["body"] = json.loads(value["body"])
        found.append(value)
    return found


def notices(text: str, words: str) -> list[str]:
    """Bodies of huddle's own items in `text` that say `words`."""
    return [i["body"] for i in items(text) if i["sender"] == "huddle" and words in i["body"]]


def inbox(state: Path, s: Session | str, part: str = "*") -> list[dict[str, Any]]:
    """The messages in a session's inbox folder(s) on disk: new, cur, or both."""
    sid = s if isinstance(s, str) else s.sid
    found = []
    for path in sorted((state / "mail" / sid).glob(f"{part}/*.json")):
        if path.parent.name in ("new", "cur"):
            found.append(json.loads(path.read_text()))
    return found


def told(state: Path, s: Session | str, words: str, part: str = "*") -> list[str]:
    return [m["text"] for m in inbox(state, s, part) if words in m.get("text", "")]


def lock_file(state: Path, pattern: str) -> Path:
    from huddle.store.layout import encode

    folder = state / "locks" / ("globs" if any(c in pattern for c in "*?[") else "")
    return folder / f"{encode(pattern)}.json"


def stored_task(state: Path, task_id: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads((state / "tasks" / f"{task_id}.json").read_text())
    return value


def record_of(state: Path, sid: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads((state / f"{sid}.json").read_text())
    return value


def age_record(state: Path, sid: str, seconds: float) -> float:
    """Make the session's last activity `seconds` ago, in the record and in its mtime."""
    path = state / f"{sid}.json"
    record = json.loads(path.read_text())
    then = round(time.time() - seconds, 3)
    record["last_activity"] = then
    path.write_text(json.dumps(record))
    os.utime(path, (then, then))
    return then


def write_record(state: Path, record: dict[str, Any], at: float | None = None) -> None:
    path = state / f"{record['session_id']}.json"
    path.write_text(json.dumps(record))
    if at is not None:
        os.utime(path, (at, at))


def holds_everything(b: Session, owner: Session, repo: Path, title: str) -> str:
    """B locks src/app.py, leases src/cart.py by editing it, and claims a task `owner` adds."""
    out = ok(b.cli("lock", "src/app.py"))
    assert out.startswith("locked src/app.py"), out
    b.edited(repo / "src" / "cart.py", tool="Write")
    assert b.lease("src/cart.py").is_file()
    task = ok(owner.cli("task", "add", title)).strip()
    ok(b.cli("task", "claim", task))
    assert lock_file(b.state, "src/app.py").is_file()
    assert stored_task(b.state, task)["claimed_by"] == b.sid
    return task


def gave_back(body: str, task: str, title: str) -> None:
    """`body` names the lock, the leased file and the reopened task."""
    assert "locks on src/app.py" in body, body
    assert "leases on files it was editing: src/cart.py" in body, body
    assert f'tasks {task} "{title}" (open again)' in body, body


def given_back(state: Path, b: Session, task: str) -> None:
    """Nothing B held counts any more: the lock and lease files are gone, the task is open."""
    assert not lock_file(state, "src/app.py").exists()
    assert not b.lease("src/cart.py").exists()
    stored = stored_task(state, task)
    assert (stored["state"], stored["claimed_by"], stored["claimed_by_name"]) == (
        "open",
        None,
        None,
    )


# --- a crash ----------------------------------------------------------------------------------


def test_a_crash_is_noticed_once_and_everything_it_held_is_given_back(repo, state, session):
    a, b, c = session("alpha"), session("bee"), session("cee")
    task = holds_everything(b, a, repo, "fix the cart totals")
    assert denial(a.before_edit(repo / "src" / "app.py"))  # the lock counts while B lives
    assert prompt(a) == "" and prompt(c) == ""
    last = age_record(state, b.sid, 600)

    killed_at = time.time()
    b.proc.kill()  # its Claude Code process died without SessionEnd

    text = prompt(a)
    [body] = notices(text, CRASHED)
    assert len(items(text)) == 1, text
    assert body.startswith('session "bee" (branch main) ended unexpectedly'), body
    gave_back(body, task, "fix the cart totals")
    assert "check its files" in body
    given_back(state, b, task)

    record = record_of(state, b.sid)
    assert (record["state"], record["end_reason"]) == ("gone", "crashed")
    assert record["ended_at"] >= killed_at
    # Being found dead is not activity: the record keeps when B last did something.
    assert record["last_activity"] == last
    assert abs(os.stat(state / f"{b.sid}.json").st_mtime - last) < 0.01

    assert notices(prompt(c), CRASHED) == [body]
    assert prompt(a) == ""  # told once
    assert prompt(c) == ""
    assert told(state, b, CRASHED) == []  # the dead session is not told of itself
    assert len(told(state, a, CRASHED)) == len(told(state, c, CRASHED)) == 1

    # B's lock and lease no longer count: A edits src/app.py and src/cart.py without a word.
    assert a.before_edit(repo / "src" / "app.py") is None
    assert a.before_edit(repo / "src" / "cart.py", tool="Write") is None
    ok(c.cli("task", "claim", task))
    assert stored_task(state, task)["claimed_by"] == c.sid


def test_a_crash_is_noticed_at_stop_and_told_at_the_next_prompt(repo, state, session):
    a, b = session("alpha"), session("bee")
    task = holds_everything(b, a, repo, "split the cart module")
    b.proc.kill()

    assert a.hook("Stop") is None
    # Found at Stop: given back at once, the notice waiting in A's inbox.
    given_back(state, b, task)
    assert record_of(state, b.sid)["state"] == "gone"
    [waiting] = told(state, a, CRASHED, "new")
    gave_back(waiting, task, "split the cart module")

    assert notices(prompt(a), CRASHED) == [waiting]
    assert told(state, a, CRASHED, "new") == []
    assert prompt(a) == ""
    assert a.hook("Stop") is None
    assert told(state, a, CRASHED) == [waiting]


def test_a_crash_is_noticed_at_session_start(repo, state, session):
    a, b, c = session("alpha"), session("bee"), session("cee")
    task = holds_everything(b, a, repo, "rename the totals")
    b.proc.kill()

    # A compaction of A finds it, and A is told in the same SessionStart.
    text = context(a.hook("SessionStart", source="compact"), "SessionStart")
    [body] = notices(text, CRASHED)
    assert body.startswith('session "bee" (branch main) ended unexpectedly'), body
    gave_back(body, task, "rename the totals")
    given_back(state, b, task)
    assert notices(prompt(c), CRASHED) == [body]
    assert prompt(a) == ""


def test_a_new_session_finds_a_crash_and_tells_the_others(repo, state, session):
    a, b = session("alpha"), session("bee")
    task = holds_everything(b, a, repo, "rename the totals")
    b.proc.kill()

    d = session("dee")  # a session starting up afterwards finds B dead
    given_back(state, b, task)
    assert record_of(state, b.sid)["end_reason"] == "crashed"
    [body] = notices(prompt(a), CRASHED)
    gave_back(body, task, "rename the totals")
    assert prompt(a) == ""
    assert len(told(state, d, CRASHED)) <= 1  # whether a newcomer hears of it or not: once


def test_a_crash_that_held_nothing_is_still_told(repo, state, session):
    a, b = session("alpha"), session("bee")
    b.proc.kill()
    [body] = notices(prompt(a), CRASHED)
    assert body.startswith('session "bee" (branch main) ended unexpectedly'), body
    assert "It held no locks, file leases or tasks." in body
    assert "no longer count" not in body


def test_a_reused_pid_is_a_crash(repo, state, session, spawn):
    """A record whose pid now belongs to another process (its start time differs) is dead."""
    a = session("alpha")
    other = spawn()
    sid = new_session_id()
    record = make_record(sid, name="reused", pid=other.pid, pid_start="1").to_json()
    write_record(state, record)
    [body] = notices(prompt(a), CRASHED)
    assert body.startswith('session "reused" (branch main) ended unexpectedly'), body
    assert record_of(state, sid)["state"] == "gone"
    assert prompt(a) == ""


# --- exactly once, however many peers look at once ------------------------------------------


def race_prompts(plugin: Plugin, peers: list[Session], tmp: Path) -> list[HookResult]:
    """Fire every peer's UserPromptSubmit hook at one moment: each is started as a shell that
    blocks reading a pipe, closed once all have been started, then execs the hook command
    with the peer's event on stdin."""
    gate_read, gate_write = os.pipe()
    children = []
    try:
        for index, s in enumerate(peers):
            payload = tmp / f"prompt-{index}.json"
            payload.write_text(json.dumps(sample("UserPromptSubmit", s.sid, s.cwd)))
            children.append(
                subprocess.Popen(
                    ["sh", "-c", 'read go; exec "$@" < "$0"', str(payload)]
                    + hook_command("UserPromptSubmit"),
                    stdin=gate_read,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    cwd=s.cwd,
                    env=plugin.environ(s.proc.pid, s.sid),
                )
            )
    finally:
        os.close(gate_read)
        os.close(gate_write)  # every hook's `read` returns now
    done = []
    for child in children:
        out, err = child.communicate(timeout=60)
        done.append(HookResult(child.returncode, out.decode(), err.decode()))
    return done


@pytest.mark.parametrize("round_", range(3))
def test_racing_peers_are_each_told_exactly_once(repo, state, session, plugin, tmp_path, round_):
    peers = [session(f"peer{i}") for i in range(PEERS)]
    b = session("bee")
    task = holds_everything(b, peers[0], repo, f"round {round_}")
    b.proc.kill()

    results = race_prompts(plugin, peers, tmp_path)

    for s, result in zip(peers, results):
        shown = notices(context(checked(result), "UserPromptSubmit"), CRASHED)
        assert len(shown) <= 1
        # Shown now or waiting for the next turn, never twice and never lost.
        [text] = told(state, s, CRASHED)
        assert told(state, s, CRASHED, "cur") == shown
        gave_back(text, task, f"round {round_}")
    given_back(state, b, task)
    assert record_of(state, b.sid)["end_reason"] == "crashed"
    log = plugin.log_text()
    assert log.count(f"{b.sid} ended without SessionEnd") == 1, log
    history = [json.loads(p.read_text()) for p in (state / "history").glob("*/*.json")]
    assert sum(CRASHED in h.get("text", "") for h in history) == PEERS

    for s in peers:  # the next turn shows what waited, and nothing more
        prompt(s)
        assert len(told(state, s, CRASHED, "cur")) == 1
        assert told(state, s, CRASHED, "new") == []


# --- sessions that merely went quiet --------------------------------------------------------


def test_a_session_that_went_quiet_is_never_announced(repo, state, session, spawn):
    a = session("alpha")
    dead = spawn()
    dead.kill()
    now = time.time()
    quiet = {
        # No pid to check: live for a while after its last activity, then not, never crashed.
        "nopid": make_record(name="nopid", pid=None, last_activity=now - 3600),
        "nopid-old": make_record(name="nopid-old", pid=None, last_activity=now - 8 * 3600),
        # On another host a pid says nothing, even one that is not running here.
        "elsewhere": make_record(name="elsewhere", pid=dead.pid, pid_start="1", host="other-host"),
    }
    for record in quiet.values():
        data = record.to_json()
        write_record(state, data, at=data["last_activity"])

    assert prompt(a) == ""
    assert a.hook("Stop") is None
    session("dee")  # a SessionStart looks too
    assert context(a.hook("SessionStart", source="compact"), "SessionStart").count(CRASHED) == 0
    assert prompt(a) == ""
    assert told(state, a, CRASHED) == []
    for record in quiet.values():
        stored = record_of(state, record.session_id)
        assert stored["state"] == "idle" and stored.get("end_reason") is None, stored


# --- a clean end ------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["other", "prompt_input_exit"])
def test_a_clean_end_gives_back_and_tells_those_it_worked_with(
    repo, state, session, plugin, reason
):
    a, b = session("alpha"), session("bee")
    d, e, f, g = session("dee"), session("eee"), session("eff"), session("gee")
    task = holds_everything(b, d, repo, "tidy the cart")  # D put the task on the board
    a.edited(repo / "src" / "cart.py")  # A leases the same file
    ok(b.cli("send", "eee", "I am taking the cart module"))
    ok(f.cli("send", "bee", "ping me when the cart is done"))
    assert record_of(state, b.sid)["contacts"] == [e.sid]
    assert len(items(prompt(e))) == 1  # B's message, out of the way
    for s in (a, d, e, f, g):
        assert notices(prompt(s), "") == []

    assert b.hook("SessionEnd", reason=reason) is None

    given_back(state, b, task)
    assert a.lease("src/cart.py").is_file()  # A's own lease stays
    record = record_of(state, b.sid)
    assert (record["state"], record["end_reason"]) == ("ended", reason)
    for s in (a, d, e, f):
        text = prompt(s)
        assert len(items(text)) == 1, text
        [body] = notices(text, LEFT)
        assert body.startswith('session "bee" (branch main) ended and gave back '), body
        gave_back(body, task, "tidy the cart")
        assert prompt(s) == ""  # once
    assert prompt(g) == ""
    assert told(state, g, "bee") == []
    assert told(state, b, LEFT) == []
    # A clean end is not a crash: nobody hears of B again.
    for s in (a, d, e, f, g):
        assert s.hook("Stop") is None
        assert prompt(s) == ""
    assert record_of(state, b.sid)["end_reason"] == reason


def test_a_clean_end_with_nothing_shared_tells_nobody(repo, state, session):
    a, b = session("alpha"), session("bee")
    ok(b.cli("lock", "src/app.py"))
    assert b.hook("SessionEnd") is None
    assert not lock_file(state, "src/app.py").exists()
    assert prompt(a) == ""
    assert told(state, a, "bee") == []


def test_a_note_sender_is_not_told_of_a_clean_end(repo, state, session):
    a, b, g = session("alpha"), session("bee"), session("gee")
    ok(g.cli("note", "the staging database is down until noon"))
    assert len(items(prompt(b))) == 1
    prompt(a)
    assert b.hook("SessionEnd") is None
    assert prompt(g) == ""


# --- /clear -----------------------------------------------------------------------------------


def clear_ended(b: Session, a: Session, repo: Path, state: Path) -> str:
    """B (which holds a lock, a lease and a task, and wrote to A) ends with reason "clear"."""
    ok(b.cli("doing", "splitting the cart module"))
    task = holds_everything(b, a, repo, "split the cart module")
    ok(b.cli("send", "alpha", "taking the cart module"))
    assert len(items(prompt(a))) == 1

    assert b.hook("SessionEnd", reason="clear") is None

    # Nothing given back, nobody told.
    lock = json.loads(lock_file(state, "src/app.py").read_text())
    assert lock["holder"] == b.sid
    assert stored_task(state, task)["claimed_by"] == b.sid
    assert b.lease("src/cart.py").is_file()
    record = record_of(state, b.sid)
    assert (record["state"], record["end_reason"]) == ("ended", "clear")
    assert prompt(a) == ""
    assert told(state, a, "bee") == []
    return task


def test_clear_hands_everything_to_the_next_session_in_the_same_process(
    repo, state, session, plugin
):
    a, b = session("alpha"), session("bee")
    task = clear_ended(b, a, repo, state)

    after = Session(plugin, state, repo, b.proc)  # the same Claude Code process, a new id
    text = context(after.hook("SessionStart", source="clear"), "SessionStart")
    assert "restored after /clear" in text
    assert "locks you hold" in text and "src/app.py" in text, text
    assert f'{task} "split the cart module"' in text, text

    lock = json.loads(lock_file(state, "src/app.py").read_text())
    assert (lock["holder"], lock["holder_name"]) == (after.sid, "bee")
    stored = stored_task(state, task)
    assert (stored["state"], stored["claimed_by"], stored["claimed_by_name"]) == (
        "claimed",
        after.sid,
        "bee",
    )
    assert after.lease("src/cart.py").is_file()
    assert not b.lease("src/cart.py").exists()
    assert sorted(p.name for p in lease_folder(state, "src/cart.py").iterdir()) == [
        f"{after.sid}.json"
    ]
    mine = record_of(state, after.sid)
    assert (mine["name"], mine["task"]) == ("bee", "splitting the cart module")
    assert "src/cart.py" in after.files()
    assert record_of(state, b.sid)["end_reason"] == "clear, taken over"

    # The lock still counts, now as the new session's; and still nobody was told anything.
    reason = denial(a.before_edit(repo / "src" / "app.py"))
    assert '"bee"' in reason
    assert after.before_edit(repo / "src" / "app.py") is None
    assert prompt(a) == ""
    assert told(state, a, CRASHED) == [] and told(state, a, LEFT) == []

    # The new session ends cleanly later: what it took over is given back, A is told.
    assert after.hook("SessionEnd") is None
    given_back(state, after, task)
    [body] = notices(prompt(a), LEFT)
    assert body.startswith('session "bee" (branch main) ended and gave back'), body


def test_clear_in_another_process_takes_over_nothing(repo, state, session, plugin, spawn):
    a, b = session("alpha"), session("bee")
    task = clear_ended(b, a, repo, state)

    stranger = Session(plugin, state, repo, spawn())
    text = context(stranger.hook("SessionStart", source="clear"), "SessionStart")
    assert "locks you hold" not in text
    assert "tasks you claimed" not in text

    assert json.loads(lock_file(state, "src/app.py").read_text())["holder"] == b.sid
    assert stored_task(state, task)["claimed_by"] == b.sid
    assert b.lease("src/cart.py").is_file()
    assert not stranger.lease("src/cart.py").exists()
    mine = record_of(state, stranger.sid)
    assert mine["name"] != "bee" and not mine.get("task")
    assert record_of(state, b.sid)["end_reason"] == "clear"
    assert prompt(a) == ""


# --- bad input --------------------------------------------------------------------------------


def test_bad_records_and_tasks_do_not_stop_a_crash_being_told(repo, state, session, spawn):
    a, b, c = session("alpha"), session("bee"), session("cee")
    task = holds_everything(b, a, repo, "fix the cart totals")

    (state / f"{new_session_id()}.json").write_text('{"session_id": "torn', encoding="utf-8")
    (state / f"{new_session_id()}.json").write_bytes(b"\xff\xfe\x00garbage")
    (state / f"{new_session_id()}.json").write_text("[1, 2, 3]")
    mismatched = make_record(name="mismatched").to_json()
    (state / f"{new_session_id()}.json").write_text(json.dumps(mismatched))
    dead = spawn()
    dead.kill()
    stringly = make_record(name="stringly").to_json()
    stringly["pid"] = str(dead.pid)  # a process that is gone, but named by a string
    write_record(state, stringly)
    odd = make_record(name="odd").to_json()
    odd.update(pid=True, files="src/app.py", contacts=7, name=["x"], branch=None)
    write_record(state, odd)
    (state / "tasks" / "abcdef.json").write_text("not json {")
    (state / "tasks" / "badbad.json").write_text('["a list"]')
    (state / "tasks" / "0000aa.json").write_text(json.dumps({"id": "0000aa", "state": 3}))

    b.proc.kill()
    [body] = notices(prompt(a), CRASHED)
    gave_back(body, task, "fix the cart totals")
    given_back(state, b, task)
    assert notices(prompt(c), CRASHED) == [body]
    for event, fields in (
        ("Stop", {}),
        ("SessionStart", {"source": "compact"}),
        ("SessionStart", {"source": "startup"}),
        ("UserPromptSubmit", {"prompt": "go on"}),
        ("SessionEnd", {"reason": "other"}),
    ):
        c.hook(event, **fields)  # exit 0, nothing on stderr, nothing or one JSON object
    # Neither the string pid nor the boolean one passes for a process that died.
    assert record_of(state, stringly["session_id"])["state"] == "idle"
    assert record_of(state, odd["session_id"])["state"] == "idle"
    assert (state / "tasks" / "abcdef.json").read_text() == "not json {"


def test_a_crash_with_odd_fields_is_still_told(repo, state, session, spawn):
    """A dead session's record with fields of the wrong types is still dealt with, once."""
    a = session("alpha")
    dead = spawn()
    dead.kill()
    sid = new_session_id()
    record = make_record(sid, name="weird", pid=dead.pid).to_json()
    record.update(files=[{"path": 5}, "x", {"nopath": 1}], contacts="nobody", branch=7)
    write_record(state, record)
    [body] = notices(prompt(a), CRASHED)
    assert body.startswith('session "weird" ended unexpectedly'), body
    assert "It held no locks, file leases or tasks." in body
    assert record_of(state, sid)["state"] == "gone"
    assert prompt(a) == ""
