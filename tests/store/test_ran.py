"""store/ran.py: when each hook event last ran here, `ran/<event>`, an empty file's mtime."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from huddle.store import ran
from huddle.vocab import EVENTS, PRE_TOOL_USE, SESSION_START

NOW = 1_700_000_000.0


@pytest.mark.parametrize("event_name", EVENTS)
def test_mark_then_last(tmp_path: Path, event_name: str) -> None:
    assert ran.last(str(tmp_path), event_name) is None
    ran.mark(str(tmp_path), event_name, NOW)
    assert ran.last(str(tmp_path), event_name) == NOW
    path = tmp_path / "ran" / event_name
    assert path.read_bytes() == b""
    assert path.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "ran").stat().st_mode & 0o777 == 0o700


def test_mark_again_moves_the_time_either_way(tmp_path: Path) -> None:
    ran.mark(str(tmp_path), PRE_TOOL_USE, NOW)
    ran.mark(str(tmp_path), PRE_TOOL_USE, NOW + 90.5)
    assert ran.last(str(tmp_path), PRE_TOOL_USE) == NOW + 90.5
    ran.mark(str(tmp_path), PRE_TOOL_USE, NOW - 10)  # the time given is what is stored
    assert ran.last(str(tmp_path), PRE_TOOL_USE) == NOW - 10


def test_events_are_kept_apart(tmp_path: Path) -> None:
    ran.mark(str(tmp_path), SESSION_START, NOW)
    ran.mark(str(tmp_path), PRE_TOOL_USE, NOW + 5)
    assert ran.last(str(tmp_path), SESSION_START) == NOW
    assert ran.last(str(tmp_path), PRE_TOOL_USE) == NOW + 5
    assert sorted(os.listdir(tmp_path / "ran")) == sorted([SESSION_START, PRE_TOOL_USE])


@pytest.mark.parametrize(
    "event_name", ["", "Notification", "sessionstart", "../x", "../../huddle.json", "ran/x"]
)
def test_mark_refuses_what_is_not_a_hook_event(tmp_path: Path, event_name: str) -> None:
    with pytest.raises(ValueError):
        ran.mark(str(tmp_path), event_name, NOW)
    assert list(tmp_path.iterdir()) == []


def test_last_when_nothing_ran(tmp_path: Path) -> None:
    assert ran.last(str(tmp_path / "missing"), SESSION_START) is None
    (tmp_path / "ran").write_text("a file where the folder should be")
    assert ran.last(str(tmp_path), SESSION_START) is None


def test_mark_into_a_missing_state_folder(tmp_path: Path) -> None:
    ran.mark(str(tmp_path / "new-state"), SESSION_START, NOW)
    assert ran.last(str(tmp_path / "new-state"), SESSION_START) == NOW
