"""Two sessions through the real hook commands: the second is told about the first."""

from __future__ import annotations

import json

import pytest

from tests.helpers import Plugin, StandIn, add_worktree, event, make_repo, new_session_id


@pytest.fixture
def plugin(tmp_path):
    return Plugin(tmp_path / "data")


def test_second_session_is_told_about_the_first(tmp_path, plugin):
    repo = make_repo(tmp_path / "shop")
    worktree = add_worktree(repo, tmp_path / "shop-ui", "ui/fixes")
    plugin.cli("enable", cwd=repo, check=True)
    a, b = new_session_id(), new_session_id()
    with StandIn() as pa, StandIn() as pb:
        first = plugin.hook("SessionStart", event("SessionStart", a, repo), cwd=repo, pid=pa.pid)
        assert first.returncode == 0 and first.stdout == ""
        second = plugin.hook(
            "SessionStart", event("SessionStart", b, worktree), cwd=worktree, pid=pb.pid
        )
        assert second.returncode == 0
        text = second.context()
        assert text is not None and '"main"' in text and "branch main" in text
        listed = json.loads(plugin.cli("sessions", "--json", cwd=repo, check=True).stdout)
        by_name = {s["name"]: s for s in listed}
        assert by_name["ui-fixes"]["branch"] == "ui/fixes"
        assert by_name["ui-fixes"]["live"] is True
        pb.kill()
        listed = json.loads(plugin.cli("sessions", "--json", "--all", cwd=repo, check=True).stdout)
        assert {s["name"]: s["state"] for s in listed}["ui-fixes"] == "gone"
