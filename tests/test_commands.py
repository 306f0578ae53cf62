"""`huddle commands`: the short names /sessions, /note and /message, as the user's own commands,
copies of the plugin's marked as huddle's; a command of the user's is never touched."""

from __future__ import annotations

import os
from pathlib import Path

from tests.helpers import ROOT, Plugin, make_repo

SHORT = ("sessions", "note", "message")


def user_commands() -> Path:
    return Path(os.environ["HOME"]) / ".claude" / "commands"


def test_install_copies_the_plugins_commands_under_their_short_names(tmp_path: Path) -> None:
    plugin = Plugin(tmp_path / "data")
    done = plugin.cli("commands", "install", cwd=tmp_path, check=True)
    assert "installed /sessions, /note, /message" in done.stdout
    for name in SHORT:
        ours = (user_commands() / f"{name}.md").read_text()
        theirs = (ROOT / "commands" / f"{name}.md").read_text()
        assert "huddle commands remove" in ours  # the mark that makes it huddle's
        # The same command as the plugin's, the mark aside: the same `huddle` line, so the same
        # code, and no path of this plugin copy (an update keeps it working).
        assert [line for line in ours.splitlines() if "huddle commands remove" not in line] == (
            theirs.splitlines()
        )
        assert str(ROOT) not in ours
    shown = plugin.cli("commands", cwd=tmp_path, check=True).stdout
    assert shown.splitlines()[:3] == [
        "/sessions: installed",
        "/note: installed",
        "/message: installed",
    ]


def test_a_command_of_the_users_is_left_alone_and_said(tmp_path: Path) -> None:
    plugin = Plugin(tmp_path / "data")
    user_commands().mkdir(parents=True)
    mine = user_commands() / "note.md"
    mine.write_text("---\ndescription: my own notes\n---\nWrite $ARGUMENTS in my diary.\n")
    before = mine.stat()
    done = plugin.cli("commands", "install", cwd=tmp_path, check=True)
    assert "installed /sessions, /message" in done.stdout
    assert f"left your own /note alone ({mine})" in done.stdout
    assert mine.read_text().startswith("---\ndescription: my own notes")
    assert mine.stat().st_mtime_ns == before.st_mtime_ns
    removed = plugin.cli("commands", "remove", cwd=tmp_path, check=True)
    assert (
        "removed /sessions, /message" in removed.stdout and "left your own /note" in removed.stdout
    )
    assert mine.exists() and not (user_commands() / "sessions.md").exists()
    assert not (user_commands() / "message.md").exists()


def test_install_again_updates_only_huddles_files(tmp_path: Path) -> None:
    plugin = Plugin(tmp_path / "data")
    plugin.cli("commands", "install", cwd=tmp_path, check=True)
    stale = user_commands() / "sessions.md"
    stale.write_text(stale.read_text().replace("Show it to the user", "OLD TEXT"))
    shown = plugin.cli("commands", cwd=tmp_path, check=True).stdout
    assert "/sessions: installed, from an older huddle" in shown
    plugin.cli("commands", "install", cwd=tmp_path, check=True)
    assert "OLD TEXT" not in stale.read_text()
    assert plugin.cli("commands", "remove", cwd=tmp_path, check=True).stdout.startswith("removed")
    assert plugin.cli("commands", "remove", cwd=tmp_path, check=True).stdout.startswith("no short")


def test_claude_config_dir_is_where_the_user_commands_are(tmp_path: Path) -> None:
    config = tmp_path / "config"
    plugin = Plugin(tmp_path / "data", env={"CLAUDE_CONFIG_DIR": str(config)})
    plugin.cli("commands", "install", cwd=tmp_path, check=True)
    assert sorted(p.name for p in (config / "commands").iterdir()) == [
        "message.md",
        "note.md",
        "sessions.md",
    ]
    assert not user_commands().exists()


def test_enable_offers_them_doctor_reports_them_disable_says_how_to_remove(
    tmp_path: Path,
) -> None:
    import json

    repo = make_repo(tmp_path / "shop")
    plugin = Plugin(tmp_path / "data")
    offered = plugin.cli("enable", cwd=repo, check=True).stdout
    assert "huddle commands install" in offered
    found = {c["what"]: c for c in json.loads(plugin.cli("doctor", "--json", cwd=repo).stdout)}
    assert found["short commands"]["status"] == "warn"
    assert found["short commands"]["fix"] == "huddle commands install"
    plugin.cli("commands", "install", cwd=repo, check=True)
    found = {c["what"]: c for c in json.loads(plugin.cli("doctor", "--json", cwd=repo).stdout)}
    assert found["short commands"]["status"] == "ok"
    again = plugin.cli("enable", cwd=repo, check=True).stdout
    assert "huddle commands install" not in again
    gone = plugin.cli("disable", "--yes", cwd=repo, check=True).stdout
    assert "huddle commands remove" in gone


def test_a_short_command_in_a_repository_without_huddle_says_so_in_one_line(
    tmp_path: Path,
) -> None:
    """What the command's shell line runs, where huddle is not enabled: one line, nothing
    written."""
    repo = make_repo(tmp_path / "plain")
    plugin = Plugin(tmp_path / "data")
    done = plugin.cli("note", "--stdin", cwd=repo, stdin="hello\n")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"huddle: huddle is not enabled in {repo}: run `huddle enable` there first"
    ]
    assert not (repo / ".claude").exists()
