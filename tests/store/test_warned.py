"""store/warned.py: when a session was last warned about a peer's hold on a file,
`warned/<session>/<encoded file>.<peer>`, an empty file whose mtime is the time."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from huddle.store import warned
from huddle.store.layout import encode
from tests.helpers import new_session_id

NOW = 1_700_000_000.0
EVERY = 300.0
ME, PEER, OTHER = new_session_id(), new_session_id(), new_session_id()


def marker(state: Path, key: str, peer: str = PEER, session_id: str = ME) -> Path:
    return state / "warned" / session_id / f"{encode(key)}.{peer}"


def first(state: Path, key: str, now: float, peer: str = PEER, session_id: str = ME) -> bool:
    return warned.first_in_a_while(str(state), session_id, key, peer, now, EVERY)


def test_the_first_warning_is_remembered(tmp_path: Path) -> None:
    assert first(tmp_path, "src/app.py", NOW)
    path = marker(tmp_path, "src/app.py")
    assert path.read_bytes() == b""
    assert path.stat().st_mtime == NOW
    assert [p.name for p in path.parent.iterdir()] == [f"src%2Fapp.py.{PEER}"]  # no temp file
    assert path.parent.stat().st_mode & 0o777 == 0o700


def test_the_same_warning_waits_every_seconds(tmp_path: Path) -> None:
    assert first(tmp_path, "a.py", NOW)
    assert not first(tmp_path, "a.py", NOW + 1)
    assert not first(tmp_path, "a.py", NOW + EVERY - 0.01)
    assert marker(tmp_path, "a.py").stat().st_mtime == NOW  # a warning not shown is no warning
    assert first(tmp_path, "a.py", NOW + EVERY)
    assert marker(tmp_path, "a.py").stat().st_mtime == NOW + EVERY
    assert not first(tmp_path, "a.py", NOW + EVERY + 10)
    assert first(tmp_path, "a.py", NOW + 10 * EVERY)


def test_warnings_about_other_files_peers_or_sessions_are_separate(tmp_path: Path) -> None:
    assert first(tmp_path, "a.py", NOW)
    assert first(tmp_path, "b.py", NOW)
    assert first(tmp_path, "a.py", NOW, peer=OTHER)
    assert first(tmp_path, "a.py", NOW, session_id=OTHER)
    assert not first(tmp_path, "a.py", NOW + 1)
    assert not first(tmp_path, "b.py", NOW + 1)
    assert not first(tmp_path, "a.py", NOW + 1, peer=OTHER)
    assert sorted(p.name for p in (tmp_path / "warned").iterdir()) == sorted([ME, OTHER])


def test_the_window_counts_from_the_stored_time(tmp_path: Path) -> None:
    assert first(tmp_path, "a.py", NOW)
    os.utime(marker(tmp_path, "a.py"), (NOW - EVERY, NOW - EVERY))
    assert first(tmp_path, "a.py", NOW)
    assert not first(tmp_path, "a.py", NOW - 50)  # a clock set back stays quiet, never noisy


def test_a_long_or_odd_file_name_gets_one_marker(tmp_path: Path) -> None:
    for key in ["deep/" * 100 + "x.py", ".env", "../../outside", "a%2Fb"]:
        assert first(tmp_path, key, NOW)
        assert not first(tmp_path, key, NOW + 1)
        assert marker(tmp_path, key).is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["warned"]
    assert len(list((tmp_path / "warned" / ME).iterdir())) == 4


@pytest.mark.parametrize(
    ("session_id", "peer"),
    [("../x", PEER), (ME, "../x"), ("", PEER), (ME, ""), (ME, f"{PEER}/../.."), ("x" * 36, PEER)],
)
def test_a_hostile_session_id_never_becomes_a_path(
    tmp_path: Path, session_id: str, peer: str
) -> None:
    with pytest.raises(ValueError):
        warned.first_in_a_while(str(tmp_path), session_id, "a.py", peer, NOW, EVERY)
    assert list(tmp_path.iterdir()) == []


def test_forget_removes_only_that_sessions_markers(tmp_path: Path) -> None:
    first(tmp_path, "a.py", NOW)
    first(tmp_path, "b.py", NOW)
    first(tmp_path, "a.py", NOW, session_id=OTHER)
    warned.forget(str(tmp_path), ME)
    warned.forget(str(tmp_path), ME)  # twice is fine
    assert [p.name for p in (tmp_path / "warned").iterdir()] == [OTHER]
    assert first(tmp_path, "a.py", NOW + 1)  # warned again: the memory is gone
    assert not first(tmp_path, "a.py", NOW + 1, session_id=OTHER)


@pytest.mark.parametrize("bad", ["", ".", "..", "../..", f"{ME}/.."])
def test_forget_with_a_hostile_session_id_removes_nothing(tmp_path: Path, bad: str) -> None:
    state = tmp_path / "state"
    first(state, "a.py", NOW)
    warned.forget(str(state), bad)
    assert marker(state, "a.py").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["state"]


@pytest.mark.usefixtures("usual_umask")
def test_the_warned_folder_is_private(tmp_path: Path) -> None:
    first(tmp_path, "a.py", NOW)
    assert (tmp_path / "warned").stat().st_mode & 0o777 == 0o700
