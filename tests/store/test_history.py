"""store/history.py: every note and message, `history/<YYYY-MM-DD>/<name>`, kept by the day."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from huddle.store import history, mailbox

DAY = 86400
MIDNIGHT = 1_699_920_000.0  # 2023-11-14T00:00:00Z
NOW = MIDNIGHT + 12 * 3600


def post(state: Path, n: int, at: float, *, mark: str = "") -> str:
    """Record item `n` at time `at` under a name like the mailbox gives it."""
    name = mailbox.name_for(f"{n:08x}", at, mark == "urgent", note=mark == "note")
    history.record(str(state), name, {"id": n, "at": at, "text": f"item {n}"})
    return name


def ids(found: list[dict[str, Any]]) -> list[int]:
    return [item["id"] for item in found]


def test_day_is_the_utc_date() -> None:
    assert history.day(MIDNIGHT) == "2023-11-14"
    assert history.day(MIDNIGHT - 0.001) == "2023-11-13"
    assert history.day(MIDNIGHT + DAY - 1) == "2023-11-14"
    assert history.day(0) == "1970-01-01"


def test_record_writes_one_file_per_item_in_its_days_folder(tmp_path: Path) -> None:
    name = post(tmp_path, 1, NOW)
    post(tmp_path, 2, NOW - DAY)
    path = tmp_path / "history" / "2023-11-14" / name
    assert json.loads(path.read_text()) == {"id": 1, "at": NOW, "text": "item 1"}
    assert sorted(p.name for p in (tmp_path / "history").iterdir()) == ["2023-11-13", "2023-11-14"]
    assert [p.name for p in path.parent.iterdir()] == [name]  # no temp file left
    assert path.parent.stat().st_mode & 0o777 == 0o700


def test_record_keeps_text_readable(tmp_path: Path) -> None:
    name = mailbox.name_for("1", NOW, False)
    history.record(str(tmp_path), name, {"at": NOW, "text": "ünïcode ✓"})
    raw = (tmp_path / "history" / history.day(NOW) / name).read_text(encoding="utf-8")
    assert "ünïcode ✓" in raw


def test_days_lists_day_folders_only_in_order(tmp_path: Path) -> None:
    for at in [NOW, NOW - 3 * DAY, NOW - DAY]:
        post(tmp_path, 1, at)
    (tmp_path / "history" / "notes.txt").write_text("x")
    (tmp_path / "history" / "2023-1-1").mkdir()
    assert history.days(str(tmp_path)) == ["2023-11-11", "2023-11-13", "2023-11-14"]
    assert history.days(str(tmp_path / "missing")) == []


def test_items_are_oldest_first_from_since_on(tmp_path: Path) -> None:
    for n, at in enumerate([NOW, NOW - 2 * DAY, NOW + 10, NOW - DAY, NOW - 5]):
        post(tmp_path, n, at)
    assert [item["id"] for _, item in history.items(str(tmp_path))] == [1, 3, 4, 0, 2]
    assert [item["id"] for _, item in history.items(str(tmp_path), since=NOW - 5)] == [4, 0, 2]
    assert [item["id"] for _, item in history.items(str(tmp_path), since=NOW - 4)] == [0, 2]
    assert list(history.items(str(tmp_path), since=NOW + 11)) == []
    names = [name for name, _ in history.items(str(tmp_path))]
    assert all(name.endswith(".json") for name in names)
    assert list(history.items(str(tmp_path / "missing"))) == []


def test_items_skip_what_cannot_be_read(tmp_path: Path) -> None:
    good = post(tmp_path, 1, NOW)
    folder = tmp_path / "history" / history.day(NOW)
    (folder / "0001.truncated.json").write_text('{"at": 1699')
    (folder / "0002.list.json").write_text("[1]")
    (folder / "0003.no-time.json").write_text('{"id": 9}')
    (folder / "0004.text-time.json").write_text('{"id": 9, "at": "noon"}')
    (folder / "0005.folder.json").mkdir()
    (folder / "0006.large.json").write_text(json.dumps({"at": NOW, "pad": "x" * (1 << 20)}))
    (folder / "0007.other.txt").write_text(json.dumps({"id": 9, "at": NOW}))
    assert [(name, item["id"]) for name, item in history.items(str(tmp_path))] == [(good, 1)]


def test_newest_is_newest_first_marked_and_counted(tmp_path: Path) -> None:
    state = str(tmp_path)
    post(tmp_path, 1, NOW - 2 * DAY, mark="note")
    post(tmp_path, 2, NOW - DAY, mark="note")
    post(tmp_path, 3, NOW - DAY + 5)
    post(tmp_path, 4, NOW, mark="note")
    post(tmp_path, 5, NOW + 1, mark="urgent")
    post(tmp_path, 6, NOW + 2, mark="note")
    assert ids(history.newest(state, 0.0, ".note.", 10)) == [6, 4, 2, 1]
    assert ids(history.newest(state, 0.0, ".note.", 2)) == [6, 4]
    assert ids(history.newest(state, NOW - DAY, ".note.", 10)) == [6, 4, 2]
    assert ids(history.newest(state, NOW - DAY + 1, ".note.", 10)) == [6, 4]
    assert ids(history.newest(state, 0.0, ".urgent.", 10)) == [5]
    assert ids(history.newest(state, 0.0, ".json", 3)) == [6, 5, 4]
    assert history.newest(state, NOW + 3, ".note.", 10) == []
    assert history.newest(str(tmp_path / "missing"), 0.0, ".note.", 10) == []


def test_newest_reads_only_what_it_returns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state = str(tmp_path)
    for d in range(30):  # a month of history, two notes and a message a day
        for k in range(3):
            post(tmp_path, d * 10 + k, NOW - d * DAY - k, mark="" if k == 1 else "note")
    read: list[str] = []
    listed: list[str] = []
    real_read, real_listdir = history.atomic.read_json_object, os.listdir

    def reading(path: str, limit: int = 1 << 20) -> dict[str, Any]:
        read.append(os.path.basename(path))
        return real_read(path, limit)

    def listing(path: str) -> list[str]:
        listed.append(os.path.basename(path))
        return real_listdir(path)

    monkeypatch.setattr(history.atomic, "read_json_object", reading)
    monkeypatch.setattr(history.os, "listdir", listing)
    found = history.newest(state, 0.0, ".note.", 3)
    assert ids(found) == [0, 2, 10]
    expected = [mailbox.name_for(f"{i['id']:08x}", i["at"], False, note=True) for i in found]
    assert read == expected  # never an item it does not return, nor an unmarked one
    assert listed == ["history", history.day(NOW), history.day(NOW - DAY)]


def test_sweep_removes_whole_days_older_than_kept(tmp_path: Path) -> None:
    state = str(tmp_path)
    for d in range(10):
        post(tmp_path, d, NOW - d * DAY)
    (tmp_path / "history" / "keep-me").mkdir()
    assert history.sweep(state, NOW, keep_days=7) == 2  # 2023-11-06 and -05
    assert history.days(state)[0] == history.day(NOW - 7 * DAY)
    assert len(history.days(state)) == 8
    assert (tmp_path / "history" / "keep-me").is_dir()
    assert history.sweep(state, NOW, keep_days=7) == 0
    assert history.sweep(state, NOW, keep_days=0) == 7
    assert history.days(state) == [history.day(NOW)]
    assert history.sweep(str(tmp_path / "missing"), NOW, keep_days=1) == 0


def test_sweep_never_follows_a_symlinked_day(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "precious.txt").write_text("keep me")
    (tmp_path / "state" / "history").mkdir(parents=True)
    (tmp_path / "state" / "history" / "2000-01-01").symlink_to(elsewhere)
    history.sweep(str(tmp_path / "state"), NOW, keep_days=7)
    assert (elsewhere / "precious.txt").read_text() == "keep me"


@pytest.mark.usefixtures("usual_umask")
def test_the_history_folder_is_private(tmp_path: Path) -> None:
    post(tmp_path, 1, NOW)
    assert (tmp_path / "history").stat().st_mode & 0o777 == 0o700
