"""store/posting.py: an item is built in one shape and posted into each recipient's inbox and
once into the repository's history."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from huddle.store import history, mailbox, posting, senders
from huddle.store.posting import STORE_LIMIT, Sender
from huddle.vocab import NOTE, NOTICE
from tests.helpers import new_session_id

NOW = 1_700_000_000.0
ALICE, BOB, CAROL = new_session_id(), new_session_id(), new_session_id()
SENDER = Sender(ALICE, "alice", "feature/login")


def history_items(state: Path) -> list[tuple[str, dict[str, Any]]]:
    return list(history.items(str(state)))


def test_sender_key() -> None:
    assert SENDER.key == ALICE
    assert Sender(None, "Bob Smith", "").key == "user-BobSmith"
    assert Sender(None, "r00t!@#$%", "").key == "user-r00t"
    assert Sender(None, "", "").key == "user-"
    assert Sender(None, "x" * 100, "").key == "user-" + "x" * 40
    assert Sender(None, "../../etc", "").key == "user-etc"


@pytest.mark.parametrize("name", ["bob", "Bob Smith", "", "x" * 100, "../a", "a.b-c_d"])
def test_every_sender_key_is_one_the_senders_record_takes(tmp_path: Path, name: str) -> None:
    senders.check(str(tmp_path), Sender(None, name, "").key, "f", NOW, limit=1, window=60)
    senders.check(str(tmp_path), Sender(ALICE, name, "").key, "f", NOW, limit=1, window=60)
    assert len(list((tmp_path / "senders").glob("*.json"))) == 2


@pytest.mark.parametrize("name", ["josé", "Zoë", "ユーザー", "x²"])
def test_a_person_with_a_non_ascii_name_can_send(tmp_path: Path, name: str) -> None:
    key = Sender(None, name, "").key
    senders.check(str(tmp_path), key, "f", NOW, limit=1, window=60)
    assert (tmp_path / "senders" / f"{key}.json").is_file()


def test_new_id_is_eight_hex_digits_and_new_each_time() -> None:
    made = {posting.new_id() for _ in range(1000)}
    assert len(made) == 1000
    assert all(re.fullmatch(r"[0-9a-f]{8}", i) for i in made)


def test_item_has_one_shape() -> None:
    made = posting.item(SENDER, "fyi", "hello\nthere", NOW, urgent=False, to_sessions=[BOB])
    assert re.fullmatch(r"[0-9a-f]{8}", made.pop("id"))
    assert made == {
        "kind": "fyi",
        "from_session": ALICE,
        "from_name": "alice",
        "from_branch": "feature/login",
        "text": "hello there",  # one line
        "at": NOW,
        "urgent": False,
        "to_sessions": [BOB],
    }


def test_item_text_is_cut_to_the_store_limit() -> None:
    made = posting.item(SENDER, "fyi", "y" * (STORE_LIMIT * 2), NOW)
    assert len(made["text"]) == STORE_LIMIT
    assert made["text"].endswith("…")
    assert posting.item(SENDER, "fyi", "z" * STORE_LIMIT, NOW)["text"] == "z" * STORE_LIMIT
    assert posting.item(SENDER, "fyi", "a\x00\x1b[31mb", NOW)["text"] == "a [31mb"


def test_post_delivers_to_every_recipient_and_records_once(tmp_path: Path) -> None:
    state = str(tmp_path)
    message = posting.item(SENDER, "question", "ready?", NOW, urgent=False, to_sessions=[BOB])
    posting.post(state, message, [BOB, CAROL])
    name = mailbox.name_for(message["id"], NOW, False)
    for recipient in (BOB, CAROL):
        assert mailbox.waiting(state, recipient) == [name]
        assert mailbox.read_new(state, recipient, name) == message
    assert mailbox.waiting(state, ALICE) == []
    assert history_items(tmp_path) == [(name, message)]


def test_post_marks_urgent_messages_and_notes_in_their_names(tmp_path: Path) -> None:
    state = str(tmp_path)
    urgent = posting.item(SENDER, "request", "stop", NOW, urgent=True)
    note = posting.item(SENDER, NOTE, "fyi all", NOW + 1, urgent=False)
    urgent_note = posting.item(SENDER, NOTE, "all stop", NOW + 2, urgent=True)
    for message in (urgent, note, urgent_note):
        posting.post(state, message, [BOB])
    names = mailbox.waiting(state, BOB)
    assert [mailbox.is_urgent(n) for n in names] == [True, False, True]
    assert names[1].endswith(f".{note['id']}.note.json")
    assert [item for _, item in history_items(tmp_path)] == [urgent, note, urgent_note]
    assert [i["id"] for i in history.newest(state, 0.0, ".note.", 10)] == [note["id"]]


def test_only_true_is_urgent(tmp_path: Path) -> None:
    message = posting.item(SENDER, "fyi", "x", NOW, urgent="yes")
    posting.post(str(tmp_path), message, [BOB])
    assert not mailbox.is_urgent(mailbox.waiting(str(tmp_path), BOB)[0])


def test_post_to_nobody_still_records_the_item(tmp_path: Path) -> None:
    message = posting.item(SENDER, NOTE, "alone", NOW, urgent=False)
    posting.post(str(tmp_path), message, [])
    assert not (tmp_path / "mail").exists()
    assert [item for _, item in history_items(tmp_path)] == [message]


def test_post_keeps_text_whole_and_readable(tmp_path: Path) -> None:
    message = posting.item(SENDER, "fyi", "ünïcode ✓ " * 100, NOW, urgent=False)
    posting.post(str(tmp_path), message, [BOB])
    name = mailbox.waiting(str(tmp_path), BOB)[0]
    raw = (tmp_path / "mail" / BOB / "new" / name).read_text(encoding="utf-8")
    assert json.loads(raw) == message
    assert "ünïcode ✓" in raw


def test_notice_posts_to_one_session_now(tmp_path: Path) -> None:
    before = time.time()
    sent = posting.notice(str(tmp_path), Sender(None, "huddle", ""), BOB, "bob", "lock broken")
    after = time.time()
    assert before <= sent["at"] <= after
    assert {k: v for k, v in sent.items() if k not in ("id", "at")} == {
        "kind": NOTICE,
        "from_session": None,
        "from_name": "huddle",
        "from_branch": "",
        "text": "lock broken",
        "urgent": False,
        "reply_to": None,
        "to_sessions": [BOB],
        "to_name": "bob",
    }
    name = mailbox.waiting(str(tmp_path), BOB)[0]
    assert name == mailbox.name_for(sent["id"], sent["at"], False)
    assert mailbox.read_new(str(tmp_path), BOB, name) == sent
    assert [item for _, item in history_items(tmp_path)] == [sent]


def test_notice_of_another_kind_and_urgent(tmp_path: Path) -> None:
    sent = posting.notice(str(tmp_path), SENDER, BOB, "bob", "gone", kind="ended", urgent=True)
    assert (sent["kind"], sent["urgent"]) == ("ended", True)
    assert mailbox.is_urgent(mailbox.waiting(str(tmp_path), BOB)[0])
