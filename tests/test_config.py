"""`huddle config` and the per-repository settings it keeps in the marker file huddle.json.

A setting changed with `huddle config` takes effect in the next hook; a bad name or value is
refused and changes nothing; a hand-broken huddle.json never stops a hook (they fall back to
the defaults) and never hides the marker the shell launcher looks for.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import Plugin, Session, StandIn, add_worktree, make_repo, warning

DEFAULTS = {
    "lease_ttl": 600,
    "lock_ttl": 7200,
    "warn_every": 300,
    "git_guard": "warn",
    "recent_files": 20,
    "history_days": 7,
    "send_rate": 20,
    "wake": "direct",
}


@pytest.fixture
def plugin(tmp_path: Path, fast_path: str) -> Plugin:
    return Plugin(tmp_path / "data", env={"PATH": fast_path})


@pytest.fixture
def repo(tmp_path: Path, plugin: Plugin) -> Path:
    repo = make_repo(tmp_path / "shop")
    plugin.cli("enable", cwd=repo, check=True)
    return repo


@pytest.fixture
def marker(repo: Path) -> Path:
    return repo / ".claude" / "sessions" / "huddle.json"


@pytest.fixture
def procs() -> Iterator[list[StandIn]]:
    made: list[StandIn] = []
    yield made
    for proc in made:
        proc.kill()


def config(plugin: Plugin, repo: Path, *args: str) -> Any:
    return plugin.cli("config", *args, cwd=repo)


def shown(plugin: Plugin, repo: Path) -> dict[str, Any]:
    done = config(plugin, repo, "--json")
    assert done.returncode == 0, done.stderr
    value: dict[str, Any] = json.loads(done.stdout)
    return value


def test_config_lists_every_setting_with_its_default(plugin, repo):
    done = config(plugin, repo)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split(" = ")[0] for line in lines] == list(DEFAULTS)
    assert lines[0].startswith("lease_ttl = 600 s  # ")
    assert lines[1].startswith("lock_ttl = 7200 s  # ")
    assert lines[2].startswith("warn_every = 300 s  # ")
    assert lines[3].startswith("git_guard = warn  # ")
    assert lines[4].startswith("recent_files = 20  # ")
    assert lines[5].startswith("history_days = 7  # ")
    assert lines[6].startswith("send_rate = 20  # ")
    assert "(default" not in done.stdout  # nothing differs from its default
    assert shown(plugin, repo) == DEFAULTS
    one = config(plugin, repo, "lock_ttl")
    assert (one.returncode, one.stdout) == (0, "7200\n")


STORED = [
    ("lease_ttl", "15m", 900),
    ("lease_ttl", "10m", 600),
    ("lease_ttl", "90", 90),
    ("lease_ttl", "45s", 45),
    ("lock_ttl", "1.5h", 5400),
    ("lock_ttl", "1d", 86400),
    ("warn_every", " 5M ", 300),
    ("warn_every", "2m", 120),
    ("git_guard", "deny", "deny"),
    ("git_guard", "off", "off"),
    ("recent_files", "5", 5),
]


def test_config_stores_a_setting_in_the_marker(plugin, repo, marker):
    enabled = json.loads(marker.read_text())
    changed: dict[str, Any] = {}
    for name, given, stored in STORED:
        done = config(plugin, repo, name, given)
        assert done.returncode == 0, done.stderr
        assert done.stdout == f"{name} = {stored}\n"
        changed[name] = stored
        assert json.loads(marker.read_text()) == {**enabled, **changed}  # the rest is kept
    assert shown(plugin, repo) == {**DEFAULTS, **changed}
    listed = config(plugin, repo).stdout
    assert "lease_ttl = 45 s (default 600)" in listed
    assert "lock_ttl = 86400 s (default 7200)" in listed
    assert "warn_every = 120 s (default 300)" in listed
    assert "git_guard = off (default warn)" in listed
    assert "recent_files = 5 (default 20)" in listed
    assert config(plugin, repo, "lease_ttl", "10m").stdout == "lease_ttl = 600\n"
    assert "lease_ttl = 600 s  #" in config(plugin, repo).stdout  # back at its default


BAD = [
    (("lease_tll", "10m"), "no setting is called 'lease_tll' (settings: lease_ttl, lock_ttl"),
    (("nope",), "no setting is called 'nope'"),
    (("lease_ttl", "soon"), "lease_ttl takes a positive duration"),
    (("lease_ttl", "0"), "lease_ttl must be positive"),
    (("lease_ttl", "--", "-5m"), "lease_ttl must be positive"),
    (("lease_ttl", "0.1s"), "lease_ttl must be positive"),
    (("lease_ttl", "infm"), "lease_ttl takes a positive duration"),
    (("lease_ttl", "nan"), "lease_ttl takes a positive duration"),
    (("lease_ttl", ""), "lease_ttl takes a positive duration"),
    (("lock_ttl", "100000000d"), "lock_ttl is at most"),
    (("git_guard", "maybe"), "git_guard is one of warn, deny, off"),
    (("git_guard", "WARN"), "git_guard is one of warn, deny, off"),
    (("recent_files", "2.5"), "recent_files takes a positive number"),
    (("recent_files", "10m"), "recent_files takes a positive number"),
    (("recent_files", "0"), "recent_files must be positive"),
]


def test_a_bad_name_or_value_is_a_clear_error_and_changes_nothing(plugin, repo, marker):
    assert config(plugin, repo, "lease_ttl", "5m").returncode == 0
    before = marker.read_bytes()
    for args, words in BAD:
        done = config(plugin, repo, *args)
        assert done.returncode == 1, (args, done.returncode, done.stderr)
        assert done.stdout == "", args
        assert done.stderr.startswith("huddle: ") and words in done.stderr, (args, done.stderr)
        assert done.stderr.count("\n") == 1, args
        assert marker.read_bytes() == before, args
    assert shown(plugin, repo) == {**DEFAULTS, "lease_ttl": 300}


BROKEN = {
    "not json": b'{"lease_ttl": 60, ',
    "not an object": b"[600, 7200]",
    "empty": b"",
    "binary": b"\xff\xfe\x00garbage",
    "wrong types": json.dumps(
        {
            "lease_ttl": "600",
            "lock_ttl": 1.5,
            "warn_every": -1,
            "git_guard": ["deny"],
            "recent_files": True,
        }
    ).encode(),
    "out of range": json.dumps(
        {"lease_ttl": 0, "lock_ttl": 10**30, "warn_every": None, "recent_files": 10}
    ).encode(),
}


@pytest.mark.parametrize("how", list(BROKEN))
def test_a_hand_broken_marker_falls_back_to_the_defaults(
    tmp_path, plugin, repo, marker, procs, how
):
    linked = add_worktree(repo, tmp_path / "shop-ui", "ui/fixes")
    state = marker.parent
    marker.write_bytes(BROKEN[how])

    listed = config(plugin, repo)
    assert listed.returncode == 0, listed.stderr
    expected = dict(DEFAULTS)
    if how == "out of range":
        expected["recent_files"] = 10  # the one value there that is good
    assert shown(plugin, repo) == expected

    # The hooks still run (the launcher finds the marker) and use the defaults.
    procs.extend([StandIn(), StandIn()])
    a = Session(plugin, state, repo, procs[0]).start()
    b = Session(plugin, state, linked, procs[1]).start()
    for name in ("one.py", "two.py", "three.py"):
        a.edited(repo / name)
    assert a.files() == ["three.py", "two.py", "one.py"]  # recent_files is not True (1)
    text = warning(b.before_edit(linked / "one.py"))  # a lease still counts: lease_ttl 600
    assert '"main"' in text
    assert b.before_edit(linked / "one.py") is None  # warn_every still holds
    out = b.hook("PreToolUse", tool_name="Bash", tool_input={"command": "git stash"})
    assert out is None  # git_guard: warn (the peer is in another worktree)
    assert "failed" not in plugin.log_text(), plugin.log_text()

    # Changing a setting makes the marker whole again; it stays a plain file.
    done = config(plugin, repo, "lease_ttl", "5m")
    assert done.returncode == 0, done.stderr
    assert marker.is_file() and not marker.is_symlink()
    stored = json.loads(marker.read_text())
    assert stored["lease_ttl"] == 300
    assert shown(plugin, repo)["lease_ttl"] == 300
    assert b.hook("UserPromptSubmit") is None  # hooks still find the marker
    assert json.loads((state / f"{b.sid}.json").read_text())["state"] == "working"


def test_settings_are_shared_by_every_worktree(tmp_path, plugin, repo, marker):
    linked = add_worktree(repo, tmp_path / "shop-ui", "ui/fixes")
    assert config(plugin, linked, "git_guard", "deny").returncode == 0
    assert shown(plugin, repo)["git_guard"] == "deny"
    assert json.loads(marker.read_text())["git_guard"] == "deny"
    assert not (linked / ".claude").exists()


def test_config_outside_an_enabled_repository_says_so(tmp_path, plugin):
    other = make_repo(tmp_path / "other")
    done = config(plugin, other)
    assert done.returncode == 1 and "huddle enable" in done.stderr
    done = config(plugin, other, "lease_ttl", "5m")
    assert done.returncode == 1
    assert not (other / ".claude").exists()
