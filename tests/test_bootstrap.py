"""The installed plugin's venv: built in the background at the first SessionStart, once."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from tests.helpers import Plugin, StandIn, event, make_repo, new_session_id

pytestmark = pytest.mark.slow

BUILD_WAIT = 300
LIMIT = 900  # seconds for one test: a venv build downloads packages


def _plugin(tmp_path, **env):
    plugin = Plugin(tmp_path / "data", env={"HUDDLE_NO_BOOTSTRAP": "", **env})
    return plugin


def _wait_for(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.5)
    return False


def _venv_check(plugin, repo):
    out = plugin.cli("doctor", "--json", cwd=repo).stdout
    return {c["what"]: c for c in json.loads(out)}["plugin venv"]


def test_first_session_start_builds_the_venv_once(tmp_path):
    repo = make_repo(tmp_path / "repo")
    plugin = _plugin(tmp_path)
    plugin.cli("enable", cwd=repo, check=True)
    with StandIn() as proc:
        started = time.monotonic()
        result = plugin.hook(
            "SessionStart", event("SessionStart", new_session_id(), repo), cwd=repo, pid=proc.pid
        )
        took = time.monotonic() - started
        assert result.returncode == 0
        # The build runs detached: the hook itself returns long before pip could finish.
        assert took < 5, took
        stamp = plugin.data_dir / "venv" / "huddle-stamp.txt"
        assert _wait_for(stamp.exists, BUILD_WAIT), plugin.log_text()
        python = plugin.data_dir / "venv" / "bin" / "python"
        subprocess.run([str(python), "-c", "import pydantic, filelock, git"], check=True)
        assert _venv_check(plugin, repo)["status"] == "ok"

        built_at = stamp.stat().st_mtime
        again = plugin.hook(
            "SessionStart", event("SessionStart", new_session_id(), repo), cwd=repo, pid=proc.pid
        )
        assert again.returncode == 0
        assert not (plugin.data_dir / "venv.building").exists()
        time.sleep(1)
        assert stamp.stat().st_mtime == built_at

        # Hooks now run on the venv's interpreter, and still work.
        later = plugin.hook(
            "UserPromptSubmit",
            event("UserPromptSubmit", new_session_id(), repo, prompt="hi"),
            cwd=repo,
            pid=proc.pid,
        )
        assert later.returncode == 0 and later.stdout == ""


def test_a_changed_bundle_rebuilds(tmp_path, monkeypatch):
    from huddle.plugin import bootstrap

    monkeypatch.setenv("CLAUDE_PLUGIN_DATA", str(tmp_path / "data"))
    monkeypatch.delenv("HUDDLE_NO_BOOTSTRAP")
    venv = tmp_path / "data" / "venv"
    venv.mkdir(parents=True)
    (venv / "huddle-stamp.txt").write_text(bootstrap.wanted_stamp())
    assert bootstrap.is_current()
    (venv / "huddle-stamp.txt").write_text("huddle 0.0.1\npydantic\n")
    assert not bootstrap.is_current()


def test_offline_build_fails_quietly_and_doctor_says_so(tmp_path):
    repo = make_repo(tmp_path / "repo")
    offline = {
        "PIP_CONFIG_FILE": "/dev/null",
        "PIP_INDEX_URL": "http://127.0.0.1:9/simple",
        "PIP_FIND_LINKS": "",
        "PIP_EXTRA_INDEX_URL": "",
        "PIP_RETRIES": "0",
        "PIP_TIMEOUT": "2",
        "PIP_NO_CACHE_DIR": "1",
    }
    plugin = _plugin(tmp_path, **offline)
    plugin.cli("enable", cwd=repo, check=True)
    with StandIn() as proc:
        sid = new_session_id()
        result = plugin.hook(
            "SessionStart", event("SessionStart", sid, repo), cwd=repo, pid=proc.pid
        )
        assert result.returncode == 0 and result.stdout == ""
        failed = plugin.data_dir / "venv.failed"
        assert _wait_for(failed.exists, BUILD_WAIT), plugin.log_text()
        assert not (plugin.data_dir / "venv").exists()
        assert "could not build" in plugin.log_text()
        # Hooks keep working on the system interpreter.
        assert (repo / ".claude" / "sessions" / f"{sid}.json").exists()
        check = _venv_check(plugin, repo)
        assert check["status"] == "warn"
        assert "could not be built" in check["detail"] and check["fix"]
        # A failed build is not retried on every session start.
        plugin.hook(
            "SessionStart", event("SessionStart", new_session_id(), repo), cwd=repo, pid=proc.pid
        )
        assert not (plugin.data_dir / "venv.building").exists()
