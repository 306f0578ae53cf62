"""store/mailbox.py: each session's inbox, `mail/<session>/{tmp,new,cur,bad}/`, Maildir-style."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from huddle.store import mailbox
from huddle.store.layout import URGENT_SHOWN
from tests.helpers import new_session_id
from tests.store.racing import ROOT, race

NOW = 1_700_000_000.0
ALICE, BOB = new_session_id(), new_session_id()


def inbox(state: Path, session_id: str = ALICE) -> Path:
    return state / "mail" / session_id


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def message(n: int, **more: object) -> bytes:
    return json.dumps({"id": f"m{n}", "text": f"message {n}", **more}).encode()


def deliver(state: Path, n: int, at: float, *, urgent: bool = False, to: str = ALICE) -> str:
    name = mailbox.name_for(f"{n:08x}", at, urgent)
    mailbox.deliver(str(state), to, name, message(n))
    return name


# --- names --------------------------------------------------------------------------------------


def test_name_for() -> None:
    assert mailbox.name_for("ab12cd34", NOW, False) == "0001700000000000000.ab12cd34.json"
    assert mailbox.name_for("ab12cd34", NOW + 0.25, True) == (
        "0001700000000250000.ab12cd34.urgent.json"
    )
    assert (
        mailbox.name_for("ab12cd34", NOW, False, note=True)
        == "0001700000000000000.ab12cd34.note.json"
    )
    assert mailbox.name_for("ab12cd34", NOW, True, note=True).endswith(".ab12cd34.urgent.json")
    assert mailbox.name_for("x", 0.0, False) == "0000000000000000000.x.json"


def test_names_sort_in_delivery_order() -> None:
    times = [0.0, 1.0, 9.999999, 10.0, 999.5, NOW, NOW + 1e-6, 4e9, 9e12]
    names = [mailbox.name_for("ffffffff", at, False) for at in reversed(times)]
    names += [mailbox.name_for("00000000", at, True) for at in times]
    ordered = sorted(names)
    stamps = [int(name.split(".")[0]) for name in ordered]
    assert stamps == sorted(stamps)
    assert len({len(n.split(".")[0]) for n in names}) == 1  # fixed width


def test_is_urgent() -> None:
    assert mailbox.is_urgent(mailbox.name_for("a", NOW, True))
    assert not mailbox.is_urgent(mailbox.name_for("a", NOW, False))
    assert not mailbox.is_urgent(mailbox.name_for("a", NOW, False, note=True))
    assert not mailbox.is_urgent("0001700000000000000.urgent-ish.json")


# --- deliver and read ---------------------------------------------------------------------------


def test_deliver_puts_the_message_whole_into_new(tmp_path: Path) -> None:
    name = deliver(tmp_path, 1, NOW)
    assert listing(inbox(tmp_path)) == ["cur", "new", "tmp"]
    assert listing(inbox(tmp_path) / "new") == [name]
    assert (inbox(tmp_path) / "new" / name).read_bytes() == message(1)
    assert listing(inbox(tmp_path) / "tmp") == []
    assert listing(inbox(tmp_path) / "cur") == []
    for part in ("tmp", "new", "cur"):
        assert (inbox(tmp_path) / part).stat().st_mode & 0o777 == 0o700
    assert (inbox(tmp_path) / "new" / name).stat().st_mode & 0o777 == 0o600


def test_waiting_lists_messages_in_delivery_order(tmp_path: Path) -> None:
    names = [deliver(tmp_path, n, at) for n, at in [(1, NOW + 5), (2, NOW), (3, NOW + 2)]]
    urgent = deliver(tmp_path, 4, NOW + 1, urgent=True)
    (inbox(tmp_path) / "new" / "stray.txt").write_text("x")
    assert mailbox.waiting(str(tmp_path), ALICE) == [names[1], urgent, names[2], names[0]]
    assert [n for n in mailbox.waiting(str(tmp_path), ALICE) if mailbox.is_urgent(n)] == [urgent]
    assert mailbox.waiting(str(tmp_path), BOB) == []
    assert mailbox.waiting(str(tmp_path / "missing"), ALICE) == []


def test_urgent_messages_are_found_without_reading_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    urgent = deliver(tmp_path, 1, NOW, urgent=True)
    deliver(tmp_path, 2, NOW + 1)
    (inbox(tmp_path) / "new" / urgent).write_bytes(b"\x00 not json")  # only its name counts

    def no_reading(*args: object, **kwargs: object) -> None:
        raise AssertionError("a message was read")

    monkeypatch.setattr(mailbox.atomic, "read_json_object", no_reading)
    monkeypatch.setattr("builtins.open", no_reading)
    found = [n for n in mailbox.waiting(str(tmp_path), ALICE) if mailbox.is_urgent(n)]
    assert found == [urgent]


def test_read_new(tmp_path: Path) -> None:
    name = deliver(tmp_path, 1, NOW)
    assert mailbox.read_new(str(tmp_path), ALICE, name) == json.loads(message(1))
    assert mailbox.read_new(str(tmp_path), ALICE, "0000000000000000000.gone.json") is None
    assert mailbox.read_new(str(tmp_path), BOB, name) is None


@pytest.mark.parametrize("content", [b"", b'{"id": "m1", "te', b"[1]", b"\xff", b" " * (1 << 20)])
def test_read_new_sets_a_corrupt_message_aside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes
) -> None:
    monkeypatch.setenv("CLAUDE_PLUGIN_DATA", str(tmp_path / "data"))
    name = mailbox.name_for("bad00000", NOW, False)
    mailbox.deliver(str(tmp_path), ALICE, name, content)
    good = deliver(tmp_path, 2, NOW + 1)
    assert mailbox.read_new(str(tmp_path), ALICE, name) is None
    assert mailbox.waiting(str(tmp_path), ALICE) == [good]
    assert (inbox(tmp_path) / "bad" / name).read_bytes() == content
    log = (tmp_path / "data" / "huddle.log").read_text()
    assert f"set aside the unreadable message {name} for {ALICE}" in log


def test_set_aside_of_a_message_already_gone(tmp_path: Path) -> None:
    deliver(tmp_path, 1, NOW)
    mailbox.set_aside(str(tmp_path), ALICE, "0000000000000000000.gone.json", "why")
    assert listing(inbox(tmp_path) / "bad") == []


# --- claim and delivery times -------------------------------------------------------------------


def test_claim_moves_the_message_to_cur_once_and_stamps_the_time(tmp_path: Path) -> None:
    state = str(tmp_path)
    name = deliver(tmp_path, 1, NOW)
    assert mailbox.delivered_at(state, ALICE, name) is None
    assert mailbox.claim(state, ALICE, name, NOW + 42)
    assert not mailbox.claim(state, ALICE, name, NOW + 50)
    assert mailbox.waiting(state, ALICE) == []
    assert mailbox.delivered(state, ALICE) == [name]
    assert mailbox.delivered_at(state, ALICE, name) == NOW + 42
    assert mailbox.read_new(state, ALICE, name) is None
    assert mailbox.read_any(state, ALICE, name) == json.loads(message(1))


def test_claim_of_a_message_never_delivered(tmp_path: Path) -> None:
    assert not mailbox.claim(str(tmp_path), ALICE, "0000000000000000000.x.json", NOW)
    assert mailbox.delivered(str(tmp_path), ALICE) == []


def test_read_any_looks_in_new_then_cur(tmp_path: Path) -> None:
    state = str(tmp_path)
    waiting = deliver(tmp_path, 1, NOW)
    shown = deliver(tmp_path, 2, NOW + 1)
    mailbox.claim(state, ALICE, shown, NOW + 2)
    assert mailbox.read_any(state, ALICE, waiting) == json.loads(message(1))
    assert mailbox.read_any(state, ALICE, shown) == json.loads(message(2))
    assert mailbox.read_any(state, ALICE, "0000000000000000000.x.json") is None
    (inbox(tmp_path) / "cur" / shown).write_text("{broken")
    assert mailbox.read_any(state, ALICE, shown) is None


def test_delivered_lists_shown_messages_in_order(tmp_path: Path) -> None:
    state = str(tmp_path)
    names = [deliver(tmp_path, n, NOW + 10 - n) for n in range(5)]
    for name in names:
        mailbox.claim(state, ALICE, name, NOW + 20)
    (inbox(tmp_path) / "cur" / "note.txt").write_text("x")
    assert mailbox.delivered(state, ALICE) == sorted(names)
    assert mailbox.delivered(state, BOB) == []


# --- crashes and races --------------------------------------------------------------------------

CRASH = textwrap.dedent("""
    import os, sys
    sys.path.insert(0, sys.argv[1])
    from huddle.store import mailbox
    def die(*args, **kwargs):
        os._exit(3)
    setattr(os, sys.argv[3], die)
    mailbox.deliver(sys.argv[2], sys.argv[4], "0001700000000000000.dead.json", b'{"x": 1}' * 9999)
    os._exit(0)
""")


@pytest.mark.parametrize("step", ["fsync", "replace", "rename"])
def test_a_sender_killed_mid_delivery_delivers_nothing(tmp_path: Path, step: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", CRASH, str(ROOT / "src"), str(tmp_path), step, ALICE], timeout=60
    )
    assert done.returncode == 3
    assert mailbox.waiting(str(tmp_path), ALICE) == []
    assert listing(inbox(tmp_path) / "new") == []
    leftovers = list((inbox(tmp_path) / "tmp").iterdir())
    assert len(leftovers) == 1  # a stray in tmp/, for the sweep
    later = NOW * 2
    assert mailbox.sweep_tmp(str(tmp_path), later, older_than=3600) == 1
    assert listing(inbox(tmp_path) / "tmp") == []


CLAIM_SETUP = """
import json, sys
from huddle.store import mailbox
state, session_id = sys.argv[1:3]
names = mailbox.waiting(state, session_id)
"""
CLAIM_WORK = """
print(json.dumps([mailbox.claim(state, session_id, name, 1.0) for name in names]))
"""


def test_of_two_hooks_claiming_the_same_messages_exactly_one_gets_each(tmp_path: Path) -> None:
    names = [deliver(tmp_path, n, NOW + n) for n in range(300)]
    first, second = race(CLAIM_SETUP, CLAIM_WORK, [[str(tmp_path), ALICE]] * 2)
    assert len(first) == len(second) == len(names)
    assert all(a != b for a, b in zip(first, second)), "a message was shown twice or never"
    assert mailbox.waiting(str(tmp_path), ALICE) == []
    assert mailbox.delivered(str(tmp_path), ALICE) == names


SEND_SETUP = """
import json, sys
from huddle.store import mailbox
state, recipient, sender, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
"""
SEND_WORK = """
for n in range(count):
    body = json.dumps({"sender": sender, "n": n, "pad": str(n) * 50000}).encode()
    mailbox.deliver(state, recipient, mailbox.name_for(f"{sender}-{n}", 1.0 + n, False), body)
print(json.dumps(count))
"""
READ_WORK = """
import time
seen, deadline = 0, time.monotonic() + 30
while seen < count and time.monotonic() < deadline:
    for name in mailbox.waiting(state, recipient):
        item = mailbox.read_new(state, recipient, name)
        assert item is not None, name
        assert item["pad"] == str(item["n"]) * 50000, name
        assert mailbox.claim(state, recipient, name, 1.0)
        seen += 1
print(json.dumps(seen))
"""


def test_a_reader_racing_the_senders_sees_every_message_whole(tmp_path: Path) -> None:
    per_sender = 30
    argvs = [[str(tmp_path), ALICE, str(s), str(per_sender)] for s in range(3)]
    reader = [str(tmp_path), ALICE, "-", str(3 * per_sender)]
    results = race(
        SEND_SETUP,
        f"if sys.argv[3] == '-':\n{textwrap.indent(READ_WORK, '    ')}\n"
        f"else:\n{textwrap.indent(SEND_WORK, '    ')}",
        [*argvs, reader],
    )
    assert results == [per_sender] * 3 + [3 * per_sender]
    assert listing(inbox(tmp_path) / "bad") == []
    assert len(mailbox.delivered(str(tmp_path), ALICE)) == 3 * per_sender
    assert listing(inbox(tmp_path) / "tmp") == []


# --- sweeping and forgetting --------------------------------------------------------------------


def test_sweep_tmp_removes_only_old_leftovers_in_tmp(tmp_path: Path) -> None:
    state = str(tmp_path)
    waiting = deliver(tmp_path, 1, NOW)
    deliver(tmp_path, 2, NOW, to=BOB)
    old = [inbox(tmp_path) / "tmp" / "a.1.0", inbox(tmp_path, BOB) / "tmp" / "b.2.0"]
    fresh = inbox(tmp_path) / "tmp" / "c.3.0"
    for path in [*old, fresh]:
        path.write_text("{")
    for path in old:
        os.utime(path, (NOW - 7200, NOW - 7200))
    os.utime(fresh, (NOW - 60, NOW - 60))
    os.utime(inbox(tmp_path) / "new" / waiting, (NOW - 10**6, NOW - 10**6))
    assert mailbox.sweep_tmp(state, NOW, older_than=3600) == 2
    assert listing(inbox(tmp_path) / "tmp") == ["c.3.0"]
    assert listing(inbox(tmp_path, BOB) / "tmp") == []
    assert mailbox.waiting(state, ALICE) == [waiting]  # new/ is never swept
    assert mailbox.sweep_tmp(str(tmp_path / "missing"), NOW, older_than=1) == 0


def test_sweep_tmp_never_follows_a_symlinked_tmp(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    precious = elsewhere / "precious.txt"
    precious.write_text("keep me")
    os.utime(precious, (NOW - 10**6, NOW - 10**6))
    (tmp_path / "state" / "mail" / ALICE).mkdir(parents=True)
    (tmp_path / "state" / "mail" / ALICE / "tmp").symlink_to(elsewhere, target_is_directory=True)
    mailbox.sweep_tmp(str(tmp_path / "state"), NOW, older_than=1)
    assert precious.exists()


def test_forget_removes_the_whole_inbox_of_that_session_only(tmp_path: Path) -> None:
    state = str(tmp_path)
    shown = deliver(tmp_path, 1, NOW)
    mailbox.claim(state, ALICE, shown, NOW)
    deliver(tmp_path, 2, NOW)
    mailbox.mark_interrupted(state, ALICE, NOW)
    kept = deliver(tmp_path, 3, NOW, to=BOB)
    mailbox.forget(state, ALICE)
    mailbox.forget(state, ALICE)  # twice is fine
    assert listing(tmp_path / "mail") == [BOB]
    assert mailbox.waiting(state, BOB) == [kept]


@pytest.mark.parametrize("bad", ["", ".", "..", "../..", f"{ALICE}/new", "../state"])
def test_forget_with_a_hostile_session_id_removes_nothing(tmp_path: Path, bad: str) -> None:
    state = tmp_path / "state"
    deliver(state, 1, NOW)
    mailbox.forget(str(state), bad)
    assert mailbox.waiting(str(state), ALICE) != []
    assert listing(tmp_path) == ["state"]


@pytest.mark.parametrize("use", ["deliver", "mark_interrupted", "claim"])
def test_a_hostile_session_id_never_becomes_a_path(tmp_path: Path, use: str) -> None:
    state = tmp_path / "state"
    (state / "mail").mkdir(parents=True)  # another session's inbox made it
    outside = tmp_path / "outside"
    (outside / "new").mkdir(parents=True)
    (outside / "cur").mkdir()
    stray = outside / "new" / "0000000000000000000.x.json"
    stray.write_text("{}")
    hostile = "../../outside"
    try:
        if use == "deliver":
            mailbox.deliver(str(state), hostile, "0000000000000000000.y.json", b"{}")
        elif use == "mark_interrupted":
            mailbox.mark_interrupted(str(state), hostile, NOW)
        else:
            mailbox.claim(str(state), hostile, stray.name, NOW)
    except ValueError:
        pass  # refusing it is as good as ignoring it
    assert listing(outside) == ["cur", "new"]
    assert listing(outside / "new") == [stray.name]
    assert listing(outside / "cur") == []


# --- urgent interruptions -----------------------------------------------------------------------


def test_recently_interrupted(tmp_path: Path) -> None:
    state = str(tmp_path)
    every = 120.0
    assert not mailbox.recently_interrupted(state, ALICE, NOW, every)
    deliver(tmp_path, 1, NOW, urgent=True)
    assert not mailbox.recently_interrupted(state, ALICE, NOW, every)
    mailbox.mark_interrupted(state, ALICE, NOW)
    assert (inbox(tmp_path) / URGENT_SHOWN).read_bytes() == b""
    assert mailbox.recently_interrupted(state, ALICE, NOW, every)
    assert mailbox.recently_interrupted(state, ALICE, NOW + every - 0.01, every)
    assert not mailbox.recently_interrupted(state, ALICE, NOW + every, every)
    assert not mailbox.recently_interrupted(state, BOB, NOW, every)
    mailbox.mark_interrupted(state, ALICE, NOW + 500)
    assert mailbox.recently_interrupted(state, ALICE, NOW + 600, every)
    assert mailbox.waiting(state, ALICE) != []  # the marker is no message
    assert URGENT_SHOWN not in mailbox.waiting(state, ALICE)
