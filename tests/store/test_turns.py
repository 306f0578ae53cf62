"""store/turns.py: a session's snapshot of its worktree's changed files, kept between turns."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from huddle.edits.worktree_changes import MAX_ENTRIES
from huddle.store import turns
from tests.helpers import new_session_id

BASE_NS = 1_700_000_000_000_000_000
SID = new_session_id()


def stored(state_dir: Path) -> Path:
    return Path(turns.path_for(str(state_dir), SID))


def test_save_load_round_trip(tmp_path: Path) -> None:
    data = {"a b/c.txt": [BASE_NS, 12], "gone": [0, -1]}
    turns.save(str(tmp_path), SID, data)
    assert turns.load(str(tmp_path), SID) == data
    raw = stored(tmp_path).read_text()
    assert " " not in raw.replace("a b", "")  # compact
    turns.save(str(tmp_path), SID, {})
    assert turns.load(str(tmp_path), SID) == {}
    assert [p.name for p in (tmp_path / "turns").iterdir()] == [f"{SID}.json"]  # no temp file
    assert [p.name for p in tmp_path.iterdir()] == ["turns"]
    assert (tmp_path / "turns").stat().st_mode & 0o777 == 0o700


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{not json",
        b"\xff\xfe",
        b"[1, 2]",
        b'"text"',
        b'{"a": [1]}',
        b'{"a": [1, 2, 3]}',
        b'{"a": "1,2"}',
        b'{"a": [1, "2"]}',
        b'{"a": [1.5, 2]}',
        b'{"a": [true, 2]}',
        b'{"a": null}',
        b'{"a": {"0": 1, "1": 2}}',
    ],
)
def test_load_of_corrupt_or_misshapen_file(tmp_path: Path, content: bytes) -> None:
    path = stored(tmp_path)
    path.parent.mkdir()
    path.write_bytes(content)
    assert turns.load(str(tmp_path), SID) is None


def test_load_of_missing_file(tmp_path: Path) -> None:
    assert turns.load(str(tmp_path), SID) is None
    assert turns.load(str(tmp_path / "no-dir"), SID) is None
    stored(tmp_path).mkdir(parents=True)  # a directory where the file should be
    assert turns.load(str(tmp_path), SID) is None


def test_load_of_a_large_snapshot(tmp_path: Path) -> None:
    data = {f"{'d/' * 100}file{n}.txt": [BASE_NS + n, n] for n in range(MAX_ENTRIES)}
    turns.save(str(tmp_path), SID, data)
    assert os.path.getsize(stored(tmp_path)) > 1 << 20
    assert turns.load(str(tmp_path), SID) == data


def test_forget_removes_only_that_session(tmp_path: Path) -> None:
    other = new_session_id()
    turns.save(str(tmp_path), SID, {"a": [1, 1]})
    turns.save(str(tmp_path), other, {"b": [2, 2]})
    turns.forget(str(tmp_path), SID)
    turns.forget(str(tmp_path), SID)  # twice is fine
    assert turns.load(str(tmp_path), SID) is None
    assert turns.load(str(tmp_path), other) == {"b": [2, 2]}


@pytest.mark.parametrize("bad", ["../x", "x", "", "0" * 36])
def test_a_hostile_session_id_never_becomes_a_path(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError):
        turns.save(str(tmp_path), bad, {})
    assert list(tmp_path.iterdir()) == []
