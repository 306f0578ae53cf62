"""The `huddle` command from a terminal and from inside a session."""

from __future__ import annotations

import json
import os
import stat

import pytest

from tests.helpers import Plugin, StandIn, add_worktree, event, make_repo, new_session_id


def _setup(tmp_path):
    repo = make_repo(tmp_path / "shop")
    plugin = Plugin(tmp_path / "data")
    return repo, plugin


def test_enable_creates_private_state_and_excludes_it_once(tmp_path):
    repo, plugin = _setup(tmp_path)
    out = plugin.cli("enable", cwd=repo, check=True).stdout
    assert "huddle is enabled in" in out
    state = repo / ".claude" / "sessions"
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    plugin.cli("enable", cwd=repo, check=True)
    exclude = (repo / ".git" / "info" / "exclude").read_text().splitlines()
    assert exclude.count("/.claude/sessions/") == 1
    # git itself no longer sees the state directory.
    from tests.helpers import git

    assert ".claude" not in git(repo, "status", "--porcelain", "--untracked-files=all")


def test_enable_from_a_linked_worktree_enables_the_main_one(tmp_path):
    repo, plugin = _setup(tmp_path)
    worktree = add_worktree(repo, tmp_path / "shop-ui", "ui/fixes")
    plugin.cli("enable", cwd=worktree / ".", check=True)
    assert (repo / ".claude" / "sessions" / "huddle.json").is_file()
    assert not (worktree / ".claude").exists()


def test_enable_refuses_home_and_non_repositories(tmp_path):
    _, plugin = _setup(tmp_path)
    plain = tmp_path / "plain"
    plain.mkdir()
    done = plugin.cli("enable", cwd=plain)
    assert done.returncode == 1 and "inside a git repository" in done.stderr
    home = make_repo(tmp_path / "home")
    plugin.env["HOME"] = str(home)
    done = plugin.cli("enable", cwd=home)
    assert done.returncode == 1 and "home directory" in done.stderr
    assert not (home / ".claude" / "sessions" / "huddle.json").exists()


def test_disable_says_what_goes_and_needs_consent(tmp_path):
    repo, plugin = _setup(tmp_path)
    plugin.cli("enable", cwd=repo, check=True)
    with StandIn() as proc:
        plugin.hook(
            "SessionStart", event("SessionStart", new_session_id(), repo), cwd=repo, pid=proc.pid
        )
        refused = plugin.cli("disable", cwd=repo)
        assert refused.returncode == 1 and "--yes" in refused.stderr
        assert "1 session record(s)" in refused.stdout
        assert "live sessions lose their shared state: main" in refused.stdout
        assert (repo / ".claude" / "sessions").is_dir()
        done = plugin.cli("disable", "--yes", cwd=repo, check=True)
        assert "disabled" in done.stdout
    assert not (repo / ".claude" / "sessions").exists()
    assert "/.claude/sessions/" not in (repo / ".git" / "info" / "exclude").read_text()
    # Hooks in a disabled repository do nothing.
    result = plugin.hook("SessionStart", event("SessionStart", new_session_id(), repo), cwd=repo)
    assert result.returncode == 0 and result.stdout == ""
    assert not (repo / ".claude" / "sessions").exists()


def test_name_and_doing_from_inside_a_session(tmp_path):
    repo, plugin = _setup(tmp_path)
    plugin.cli("enable", cwd=repo, check=True)
    a, b = new_session_id(), new_session_id()
    with StandIn() as pa, StandIn() as pb:
        for sid, proc in ((a, pa), (b, pb)):
            plugin.hook("SessionStart", event("SessionStart", sid, repo), cwd=repo, pid=proc.pid)
        renamed = plugin.cli(
            "name", "Checkout Totals!", cwd=repo, session_id=a, pid=pa.pid, check=True
        )
        assert 'now called "checkout-totals"' in renamed.stdout
        taken = plugin.cli("name", "checkout-totals", cwd=repo, session_id=b, pid=pb.pid)
        assert taken.returncode == 1 and "already called" in taken.stderr
        plugin.cli("doing", "refactor", "totals", cwd=repo, session_id=a, check=True)
        listed = {
            s["name"]: s
            for s in json.loads(
                plugin.cli("sessions", "--json", cwd=repo, session_id=a, check=True).stdout
            )
        }
        assert listed["checkout-totals"]["task"] == "refactor totals"
        typed = 'fix the "cart" totals\n  $HOME `date` & (soon)\n'
        plugin.cli("doing", "--stdin", cwd=repo, session_id=a, stdin=typed, check=True)
        shared = plugin.cli("sessions", "--json", cwd=repo, session_id=a, check=True).stdout
        mine = [s for s in json.loads(shared) if s["current"]]
        assert mine[0]["task"] == 'fix the "cart" totals $HOME `date` & (soon)'
        plugin.cli("doing", "refactor", "totals", cwd=repo, session_id=a, check=True)
        assert listed["checkout-totals"]["current"] is True
        assert listed["main-2"]["current"] is False
        # The old name is free again.
        plugin.cli("name", "main", cwd=repo, session_id=b, check=True)
        plugin.cli("doing", "--clear", cwd=repo, session_id=a, check=True)
        listed = {
            s["name"]: s
            for s in json.loads(plugin.cli("sessions", "--json", cwd=repo, check=True).stdout)
        }
        assert set(listed) == {"checkout-totals", "main"}
        assert listed["checkout-totals"]["task"] == ""


def test_name_from_a_plain_terminal_needs_a_session(tmp_path):
    repo, plugin = _setup(tmp_path)
    plugin.cli("enable", cwd=repo, check=True)
    done = plugin.cli("name", "x", cwd=repo)
    assert done.returncode == 1 and "--session" in done.stderr


def test_sessions_table_marks_the_caller_and_json_has_the_fields(tmp_path):
    repo, plugin = _setup(tmp_path)
    worktree = add_worktree(repo, tmp_path / "shop-ui", "ui/fixes")
    plugin.cli("enable", cwd=repo, check=True)
    a, b = new_session_id(), new_session_id()
    with StandIn() as pa, StandIn() as pb:
        plugin.hook("SessionStart", event("SessionStart", a, repo), cwd=repo, pid=pa.pid)
        plugin.hook("SessionStart", event("SessionStart", b, worktree), cwd=worktree, pid=pb.pid)
        table = plugin.cli("sessions", cwd=worktree, session_id=b, check=True).stdout
        rows = {
            line.split()[1] if line.startswith("*") else line.split()[0]: line
            for line in table.splitlines()[1:]
            if line.strip() and "this session" not in line
        }
        assert rows["ui-fixes"].startswith("*") and "../shop-ui" in rows["ui-fixes"]
        assert "main checkout" in rows["main"] and not rows["main"].startswith("*")
        entries = json.loads(plugin.cli("sessions", "--json", cwd=repo, check=True).stdout)
        required = {
            "session_id",
            "name",
            "branch",
            "worktree",
            "state",
            "live",
            "last_activity",
            "task",
            "files",
        }
        assert all(required <= set(e) for e in entries)
        pb.kill()
        live = json.loads(plugin.cli("sessions", "--json", cwd=repo, check=True).stdout)
        assert [e["name"] for e in live] == ["main"]
        every = json.loads(plugin.cli("sessions", "--json", "--all", cwd=repo, check=True).stdout)
        assert {e["name"]: (e["state"], e["live"]) for e in every}["ui-fixes"] == ("gone", False)


def test_sessions_all_lists_every_worktree_git_knows_with_its_live_sessions(tmp_path):
    repo, plugin = _setup(tmp_path)
    worktree = add_worktree(repo, tmp_path / "shop-ui", "ui/fixes")
    add_worktree(repo, tmp_path / "shop-docs", "docs")
    plugin.cli("enable", cwd=repo, check=True)
    a = new_session_id()
    with StandIn() as pa:
        plugin.hook("SessionStart", event("SessionStart", a, worktree), cwd=worktree, pid=pa.pid)
        out = plugin.cli("sessions", "--all", cwd=repo, check=True).stdout
    listed = out.split("Worktrees of this repository:\n", 1)[1].splitlines()
    assert [line.split() for line in listed] == [
        ["main", "checkout", "main", "no", "live", "session"],
        ["../shop-docs", "docs", "no", "live", "session"],
        ["../shop-ui", "ui/fixes", "ui-fixes"],
    ]
    plain = plugin.cli("sessions", cwd=repo, check=True).stdout
    assert "Worktrees" not in plain


def test_not_enabled_is_a_clear_error(tmp_path):
    repo, plugin = _setup(tmp_path)
    done = plugin.cli("sessions", cwd=repo)
    assert done.returncode == 1 and "huddle enable" in done.stderr
    assert not (repo / ".claude").exists()


def test_unexpected_errors_are_logged_not_dumped(tmp_path):
    repo, plugin = _setup(tmp_path)
    plugin.cli("enable", cwd=repo, check=True)
    os.chmod(repo / ".claude" / "sessions", 0o700)
    # A heartbeat directory where a file should be: listing must survive it.
    (repo / ".claude" / "sessions" / f"{new_session_id()}.json").mkdir()
    done = plugin.cli("sessions", cwd=repo)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr


def test_cli_reads_records_without_pydantic(monkeypatch):
    import sys

    from huddle.store import records

    assert records.strict_or_cheap() is records.validate
    monkeypatch.setitem(sys.modules, "pydantic", None)
    assert records.strict_or_cheap() is records.load


def test_options_may_come_between_a_messages_name_and_its_text():
    from huddle.cli.main import parse

    args = parse(["send", "bob", "--kind", "answer", "--reply-to", "1a2b3c4d", "yes, done"])
    assert (args.to, args.text, args.kind, args.reply_to) == (
        "bob",
        ["yes, done"],
        "answer",
        "1a2b3c4d",
    )
    args = parse(["send", "--urgent", "bob", "stop", "the", "build"])
    assert (args.to, args.text, args.urgent) == ("bob", ["stop", "the", "build"], True)
    with pytest.raises(SystemExit):
        parse(["sessions", "stray"])
    with pytest.raises(SystemExit):
        parse(["send", "bob", "--kind", "answer", "text", "--bogus"])


def test_args_from_stdin_are_split_like_a_shell_but_never_expanded(monkeypatch):
    import io

    from huddle.cli.main import parse

    def parsed(verb: str, typed: str):
        monkeypatch.setattr("sys.stdin", io.StringIO(typed))
        return parse([verb, "--args-stdin"])

    args = parsed("lock", 'src/app.py --reason "a big $HOME refactor" --ttl 2h\n')
    assert (args.pattern, args.reason, args.ttl) == ("src/app.py", "a big $HOME refactor", "2h")
    args = parsed("task", "add fix the user's `date` cart\n")
    assert (args.step, args.title) == ("add", ["fix", "the", "user's", "`date`", "cart"])
    args = parsed("task", "\n")
    assert args.verb == "task" and args.step is None
    with pytest.raises(SystemExit):
        parsed("sessions", "--bogus")
