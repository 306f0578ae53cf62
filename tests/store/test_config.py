"""store/config.py: the settings in the marker file, read with defaults for anything wrong."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from huddle.store import config
from huddle.store.config import MAX_SECONDS, SETTINGS, BadSetting
from huddle.store.layout import MARKER
from tests.test_config import DEFAULTS as DOCUMENTED

DEFAULTS = {name: default for name, (default, _, _) in SETTINGS.items()}


def write_marker(state: Path, value: Any) -> None:
    (state / MARKER).write_text(json.dumps(value))


def test_the_defaults() -> None:
    assert DEFAULTS == DOCUMENTED  # what the CLI tests and the README expect
    for name, (default, kind, help_text) in SETTINGS.items():
        assert help_text, name
        assert config._fits(kind, default), name


def test_load_without_a_marker_gives_the_defaults(tmp_path: Path) -> None:
    assert config.load(str(tmp_path)) == DEFAULTS
    assert config.load(str(tmp_path / "missing")) == DEFAULTS
    assert list(tmp_path.iterdir()) == []  # reading writes nothing


def test_load_takes_what_is_stored_and_defaults_the_rest(tmp_path: Path) -> None:
    write_marker(
        tmp_path,
        {"enabled_at": 1.5, "format": 1, "lease_ttl": 60, "git_guard": "deny", "unknown": 3},
    )
    assert config.load(str(tmp_path)) == {**DEFAULTS, "lease_ttl": 60, "git_guard": "deny"}


def test_load_gives_a_fresh_dict_each_time(tmp_path: Path) -> None:
    first = config.load(str(tmp_path))
    first["lease_ttl"] = 1
    assert config.load(str(tmp_path))["lease_ttl"] == 600


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("lease_ttl", 0),
        ("lease_ttl", -1),
        ("lease_ttl", 1.5),
        ("lease_ttl", 600.0),
        ("lease_ttl", "600"),
        ("lease_ttl", True),
        ("lease_ttl", None),
        ("lease_ttl", [600]),
        ("lock_ttl", MAX_SECONDS + 1),
        ("lock_ttl", 10**400),
        ("warn_every", False),
        ("recent_files", 0),
        ("recent_files", "20"),
        ("recent_files", True),
        ("history_days", -7),
        ("send_rate", 2.0),
        ("git_guard", "WARN"),
        ("git_guard", ""),
        ("git_guard", None),
        ("git_guard", ["warn"]),
        ("git_guard", 1),
    ],
)
def test_load_defaults_a_malformed_value(tmp_path: Path, name: str, value: Any) -> None:
    write_marker(tmp_path, {name: value, "send_rate": 5})
    assert config.load(str(tmp_path)) == {**DEFAULTS, "send_rate": 5}


def test_load_keeps_values_at_the_limits(tmp_path: Path) -> None:
    write_marker(
        tmp_path,
        {"lock_ttl": MAX_SECONDS, "lease_ttl": 1, "recent_files": 10**6, "git_guard": "off"},
    )
    loaded = config.load(str(tmp_path))
    assert loaded["lock_ttl"] == MAX_SECONDS
    assert loaded["lease_ttl"] == 1
    assert loaded["recent_files"] == 10**6  # counts have no upper limit
    assert loaded["git_guard"] == "off"


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{",
        b'{"lease_ttl": 60',  # truncated
        b"[1, 2]",
        b'"lease_ttl"',
        b"null",
        b"\xff\xfe\x00",
        b'{"lease_ttl": NaN}',
        b" " * (1 << 20) + b"{}",  # larger than a marker may be
    ],
)
def test_load_of_a_corrupt_marker_gives_the_defaults(tmp_path: Path, content: bytes) -> None:
    (tmp_path / MARKER).write_bytes(content)
    assert config.load(str(tmp_path)) == DEFAULTS


def test_load_when_the_marker_is_a_folder(tmp_path: Path) -> None:
    (tmp_path / MARKER).mkdir()
    assert config.load(str(tmp_path)) == DEFAULTS


# --- parse --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "value"),
    [
        ("lease_ttl", "600", 600),
        ("lease_ttl", "90s", 90),
        ("lease_ttl", "10m", 600),
        ("lease_ttl", " 2H ", 7200),
        ("lease_ttl", "1.5h", 5400),
        ("lock_ttl", "1d", 86400),
        ("lock_ttl", "366d", MAX_SECONDS),
        ("warn_every", "1", 1),
        ("recent_files", "5", 5),
        ("history_days", " 30 ", 30),
        ("send_rate", "100", 100),
        ("git_guard", "deny", "deny"),
        ("git_guard", "off", "off"),
        ("git_guard", "warn", "warn"),
    ],
)
def test_parse(name: str, text: str, value: Any) -> None:
    parsed = config.parse(name, text)
    assert parsed == value
    assert type(parsed) is type(value)  # durations are whole seconds, never floats


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        ("nope", "1", "no setting is called 'nope'"),
        ("", "1", "no setting is called ''"),
        ("lease_ttl", "", "positive duration"),
        ("lease_ttl", "m", "positive duration"),
        ("lease_ttl", "ten", "positive duration"),
        ("lease_ttl", "10y", "positive duration"),
        ("lease_ttl", "inf", "positive duration"),
        ("lease_ttl", "infm", "positive duration"),
        ("lease_ttl", "nanm", "positive duration"),
        ("lease_ttl", "0", "must be positive"),
        ("lease_ttl", "-10m", "must be positive"),
        ("lease_ttl", "0.5s", "must be positive"),
        ("lock_ttl", "367d", "at most 366d"),
        ("lock_ttl", str(MAX_SECONDS + 1), "at most 366d"),
        ("recent_files", "10m", "positive number"),
        ("recent_files", "1.5", "positive number"),
        ("recent_files", "0", "must be positive"),
        ("git_guard", "Deny", "git_guard is one of warn, deny, off"),
        ("git_guard", " warn", "git_guard is one of warn, deny, off"),
    ],
)
def test_parse_refuses(name: str, text: str, says: str) -> None:
    with pytest.raises(BadSetting) as caught:
        config.parse(name, text)
    assert says in str(caught.value)
    assert "\n" not in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_parse_names_every_setting_when_the_name_is_unknown() -> None:
    with pytest.raises(BadSetting) as caught:
        config.parse("lease-ttl", "1")
    assert all(name in str(caught.value) for name in SETTINGS)


def test_every_parsed_value_loads_back(tmp_path: Path) -> None:
    for name, text in [("lease_ttl", "1d"), ("git_guard", "off"), ("send_rate", "3")]:
        config.store(str(tmp_path), name, config.parse(name, text))
    assert config.load(str(tmp_path)) == {
        **DEFAULTS,
        "lease_ttl": 86400,
        "git_guard": "off",
        "send_rate": 3,
    }


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90", 90),
        ("90s", 90),
        ("10m", 600),
        ("2h", 7200),
        ("1d", 86400),
        ("  7D\n", 7 * 86400),
        ("0", 0),
        ("-1m", -60),
        ("2.5m", 150),
        ("1e3s", 1000),
    ],
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert config.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "s", "1w", "1.5", "ms", "1 h m"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        config.parse_duration(text)


# --- store --------------------------------------------------------------------------------------


def test_store_keeps_everything_else_in_the_marker(tmp_path: Path) -> None:
    write_marker(tmp_path, {"enabled_at": 1.5, "format": 1, "lease_ttl": 60})
    config.store(str(tmp_path), "warn_every", 30)
    config.store(str(tmp_path), "lease_ttl", 120)
    stored = json.loads((tmp_path / MARKER).read_text())
    assert stored == {"enabled_at": 1.5, "format": 1, "lease_ttl": 120, "warn_every": 30}
    assert sorted(p.name for p in tmp_path.iterdir()) == [MARKER]  # no temp file left
    assert os.stat(tmp_path / MARKER).st_mode & 0o777 == 0o600


def test_store_without_a_marker_creates_one(tmp_path: Path) -> None:
    config.store(str(tmp_path), "git_guard", "deny")
    assert json.loads((tmp_path / MARKER).read_text()) == {"git_guard": "deny"}
    assert config.load(str(tmp_path))["git_guard"] == "deny"


def test_store_over_a_corrupt_marker_starts_afresh(tmp_path: Path) -> None:
    (tmp_path / MARKER).write_bytes(b'{"enabled_at": 1')
    config.store(str(tmp_path), "send_rate", 7)
    assert json.loads((tmp_path / MARKER).read_text()) == {"send_rate": 7}


def test_store_into_a_missing_folder_fails_loudly(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        config.store(str(tmp_path / "missing"), "send_rate", 7)
    assert list(tmp_path.iterdir()) == []
