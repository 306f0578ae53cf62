"""The hooks as Claude Code runs them: real captured events piped into the commands of hooks.json.

Every call goes through `sh hooks/run <Event>` exactly as hooks/hooks.json spells it, with the
sample events of tests/samples re-pointed at a temporary repository. Each call must
exit 0 and print nothing or exactly one JSON object; the effect is read back from the state
directory.
"""

from __future__ import annotations

import json
import os
import re
import socket
import stat
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import (
    HookResult,
    Plugin,
    StandIn,
    add_worktree,
    git,
    make_repo,
    new_session_id,
    sample,
)

# (hook event, sample file): every event hooks.json registers, every captured variant of it.
SAMPLES = [
    ("SessionStart", "SessionStart-startup"),
    ("SessionStart", "SessionStart-resume"),
    ("SessionStart", "SessionStart-compact"),
    ("SessionStart", "SessionStart-fork"),
    ("UserPromptSubmit", "UserPromptSubmit"),
    ("PreToolUse", "PreToolUse-Edit"),
    ("PreToolUse", "PreToolUse-Write"),
    ("PreToolUse", "PreToolUse-Bash"),
    ("PostToolUse", "PostToolUse-Edit"),
    ("PostToolUse", "PostToolUse-Write"),
    ("PostToolUse", "PostToolUse-Bash"),
    ("Stop", "Stop"),
    ("SessionEnd", "SessionEnd-other"),
]
LONG_AGO = 1_000_000_000.0  # 2001: anything the hooks touch now is newer


# --- plumbing -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def fast_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A PATH whose `python3` is this interpreter itself.

    The launcher runs `python3` from PATH; here that is a pyenv shim costing ~0.3 s a call.
    Pointing it straight at the interpreter the tests run on keeps these files fast and runs
    the hooks on a known Python; nothing else about the launcher changes.
    """
    folder = tmp_path_factory.mktemp("fastbin")
    (folder / "python3").symlink_to(os.path.realpath(sys.executable))
    return f"{folder}{os.pathsep}{os.environ['PATH']}"


@pytest.fixture
def plugin(tmp_path: Path, fast_path: str) -> Plugin:
    return Plugin(tmp_path / "data", env={"PATH": fast_path})


def enable(plugin: Plugin, repo: Path) -> Path:
    plugin.cli("enable", cwd=repo, check=True)
    state = repo / ".claude" / "sessions"
    assert (state / "huddle.json").is_file()
    return state


def checked(result: HookResult) -> dict[str, Any] | None:
    """Exit 0, nothing on stderr, and stdout empty or exactly one JSON object."""
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    if result.stdout == "":
        return None
    value = json.loads(result.stdout)  # also fails on anything after the object
    assert isinstance(value, dict)
    return value


def fire(
    plugin: Plugin, sample_name: str, sid: str, cwd: Path, pid: int | None = None, **overrides: Any
) -> dict[str, Any] | None:
    event_name = sample_name.split("-")[0]
    payload = sample(sample_name, sid, cwd)
    payload.update(overrides)
    return checked(plugin.hook(event_name, payload, cwd=cwd, pid=pid))


def digest(output: dict[str, Any] | None) -> str | None:
    if output is None:
        return None
    specific = output["hookSpecificOutput"]
    assert specific["hookEventName"] == "SessionStart"
    text = specific["additionalContext"]
    assert isinstance(text, str) and text
    return text


def heartbeat(state: Path, sid: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads((state / f"{sid}.json").read_text())
    return value


def age(path: Path) -> None:
    os.utime(path, (LONG_AGO, LONG_AGO))


def proc_start(pid: int) -> str:
    """Field 22 of /proc/<pid>/stat, read here independently of huddle.peers.procs."""
    data = Path(f"/proc/{pid}/stat").read_bytes()
    return data[data.rfind(b")") + 2 :].split()[19].decode()


def snapshot(*roots: Path) -> dict[str, tuple[int, int, int]]:
    """Every path under `roots` with its type, size and mtime (symlinks not followed)."""
    seen = {}
    for root in roots:
        if not root.exists():
            seen[str(root)] = (0, 0, 0)
            continue
        for folder, dirs, files in os.walk(root):
            for name in dirs + files:
                info = os.lstat(os.path.join(folder, name))
                seen[os.path.join(folder, name)] = (
                    stat.S_IFMT(info.st_mode),
                    info.st_size,
                    info.st_mtime_ns,
                )
    return seen


# --- where a session can be -----------------------------------------------------------------


@dataclass
class Place:
    cwd: Path  # where the session runs
    worktree: Path
    branch: str
    name: str  # its default name


def build_place(kind: str, tmp: Path) -> tuple[Path, Place]:
    """A repository and one place in it; returns (main worktree, place)."""
    if kind == "empty-repo":
        repo = make_repo(tmp / "shop", commit=False)
        return repo, Place(repo, repo, "main", "main")
    repo = make_repo(tmp / "shop")
    if kind == "main":
        return repo, Place(repo, repo, "main", "main")
    if kind == "subdir":
        sub = repo / "src" / "deep"
        sub.mkdir(parents=True)
        return repo, Place(sub, repo, "main", "main")
    if kind == "linked":
        wt = add_worktree(repo, tmp / "shop-ui", "ui/fixes")
        return repo, Place(wt, wt, "ui/fixes", "ui-fixes")
    if kind == "claude-w":
        # What `claude -w cart` makes: <repo>/.claude/worktrees/cart on branch worktree-cart.
        wt = add_worktree(repo, repo / ".claude" / "worktrees" / "cart", "worktree-cart")
        return repo, Place(wt, wt, "worktree-cart", "cart")
    raise AssertionError(kind)


PLACES = ["main", "subdir", "linked", "claude-w", "empty-repo"]


# --- the whole life of a session, event by event ----------------------------------------------


@pytest.mark.parametrize("kind", PLACES)
def test_every_event_of_a_session_lifecycle(tmp_path, plugin, kind):
    repo, place = build_place(kind, tmp_path)
    state = enable(plugin, repo)
    sid = new_session_id()
    ran = state / "ran"

    def fire_and_mark(sample_name: str, pid: int) -> dict[str, Any] | None:
        event_name = sample_name.split("-")[0]
        marker = ran / event_name
        if marker.exists():
            age(marker)
        before = time.time()
        out = fire(plugin, sample_name, sid, place.cwd, pid)
        assert marker.stat().st_mtime >= before - 1, f"ran/{event_name} not updated"
        return out

    with StandIn() as claude:
        before = time.time()
        assert fire_and_mark("SessionStart-startup", claude.pid) is None  # alone: no digest
        after = time.time()
        hb = heartbeat(state, sid)
        assert hb["session_id"] == sid
        assert hb["pid"] == claude.pid
        assert hb["pid_start"] == proc_start(claude.pid)
        assert hb["host"] == socket.gethostname()
        assert hb["name"] == place.name
        assert hb["branch"] == place.branch
        assert hb["worktree"] == str(place.worktree)
        assert hb["cwd"] == str(place.cwd)
        assert hb["state"] == "idle"
        assert before - 1 <= hb["started_at"] <= after + 1
        assert hb.get("ended_at") is None
        assert stat.S_IMODE(state.stat().st_mode) == 0o700

        assert fire_and_mark("UserPromptSubmit", claude.pid) is None
        assert heartbeat(state, sid)["state"] == "working"

        own = state / f"{sid}.json"
        for name in (
            "PreToolUse-Edit",
            "PreToolUse-Write",
            "PreToolUse-Bash",
            "PostToolUse-Edit",
            "PostToolUse-Write",
            "PostToolUse-Bash",
        ):
            age(own)
            before = time.time()
            assert fire_and_mark(name, claude.pid) is None
            assert own.stat().st_mtime >= before - 1, f"{name} did not mark activity"
            assert heartbeat(state, sid)["state"] == "working"

        assert fire_and_mark("Stop", claude.pid) is None
        assert heartbeat(state, sid)["state"] == "idle"

        # Compaction continues the same session: same name, same start.
        started = heartbeat(state, sid)["started_at"]
        assert fire_and_mark("SessionStart-compact", claude.pid) is None
        hb = heartbeat(state, sid)
        assert (hb["name"], hb["started_at"], hb["state"]) == (place.name, started, "idle")
        # An automatic compaction inside a turn leaves the session working.
        assert fire_and_mark("UserPromptSubmit", claude.pid) is None
        assert fire_and_mark("SessionStart-compact", claude.pid) is None
        assert heartbeat(state, sid)["state"] == "working"

        before = time.time()
        assert fire_and_mark("SessionEnd-other", claude.pid) is None
        hb = heartbeat(state, sid)
        assert hb["state"] == "ended"
        assert hb["ended_at"] is not None and hb["ended_at"] >= before - 1

    # `claude --resume` is a new process carrying the same session id.
    with StandIn() as resumed:
        assert fire_and_mark("SessionStart-resume", resumed.pid) is None
        hb = heartbeat(state, sid)
        assert (hb["name"], hb["pid"], hb["state"]) == (place.name, resumed.pid, "idle")
        assert hb["pid_start"] == proc_start(resumed.pid)
        assert hb["started_at"] == started
        assert hb.get("ended_at") is None

        # A fork is a new session id next to the live original: it is told about it.
        fork = new_session_id()
        out = fire(plugin, "SessionStart-fork", fork, place.cwd, resumed.pid)
        text = digest(out)
        assert text is not None and f'"{place.name}"' in text
        assert heartbeat(state, fork)["name"] == f"{place.name}-2"

    assert sorted(p.name for p in ran.iterdir()) == sorted(
        ["PostToolUse", "PreToolUse", "SessionEnd", "SessionStart", "Stop", "UserPromptSubmit"]
    )
    # git never sees huddle's files: the state directory is excluded.
    status = git(repo, "status", "--porcelain", "--untracked-files=all").splitlines()
    assert [line for line in status if "worktrees/cart" not in line] == []


@pytest.mark.parametrize(
    "sample_name",
    [
        "PreToolUse-Edit",
        "PreToolUse-Bash",
        "PostToolUse-Write",
        "PostToolUse-Bash",
        "UserPromptSubmit",
        "Stop",
    ],
)
def test_a_session_enabled_mid_way_is_registered_by_its_first_hook(tmp_path, plugin, sample_name):
    repo = make_repo(tmp_path / "shop")
    sid = new_session_id()
    with StandIn() as claude:
        # Before `huddle enable` the session's hooks do nothing at all.
        assert fire(plugin, sample_name, sid, repo, claude.pid) is None
        assert not (repo / ".claude").exists()
        state = enable(plugin, repo)
        assert not (state / f"{sid}.json").exists()
        assert fire(plugin, sample_name, sid, repo, claude.pid) is None
        hb = heartbeat(state, sid)
        assert (hb["name"], hb["branch"], hb["pid"]) == ("main", "main", claude.pid)
        assert hb["pid_start"] == proc_start(claude.pid)
        expected = {"UserPromptSubmit": "working", "Stop": "idle"}.get(sample_name)
        if expected:
            assert hb["state"] == expected
        assert (state / "ran" / sample_name.split("-")[0]).is_file()


def test_post_tool_use_bash_follows_a_branch_switch(tmp_path, plugin):
    repo = make_repo(tmp_path / "shop")
    state = enable(plugin, repo)
    sid = new_session_id()
    with StandIn() as claude:
        fire(plugin, "SessionStart-startup", sid, repo, claude.pid)
        fire(plugin, "UserPromptSubmit", sid, repo, claude.pid)
        git(repo, "checkout", "-q", "-b", "feature/cart")
        assert fire(plugin, "PostToolUse-Bash", sid, repo, claude.pid) is None
        hb = heartbeat(state, sid)
        assert hb["branch"] == "feature/cart"
        assert hb["name"] == "main"  # a name, once given, does not follow the branch
        assert hb["state"] == "working"
        git(repo, "checkout", "-q", "--detach")
        fire(plugin, "PostToolUse-Bash", sid, repo, claude.pid)
        assert re.fullmatch(r"detached@[0-9a-f]{7}", heartbeat(state, sid)["branch"])


# --- where huddle must do nothing ------------------------------------------------------------


FEW = [
    ("SessionStart", "SessionStart-startup"),
    ("PreToolUse", "PreToolUse-Edit"),
    ("PostToolUse", "PostToolUse-Bash"),
    ("SessionEnd", "SessionEnd-other"),
]


def assert_inert(plugin: Plugin, cwd: Path, watched: list[Path], samples=SAMPLES) -> None:
    """Sample events, through the launcher and through entry.run: no output, no writes."""
    from huddle.handlers import entry

    before = snapshot(*watched)
    sid = new_session_id()
    with StandIn() as claude:
        for event_name, sample_name in samples:
            result = plugin.hook(event_name, sample(sample_name, sid, cwd), cwd=cwd, pid=claude.pid)
            assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
            raw = json.dumps(sample(sample_name, sid, cwd)).encode()
            assert entry.run(event_name, raw) is None
    assert snapshot(*watched) == before


@pytest.fixture
def in_process(plugin, monkeypatch):
    """entry.run in this process sees what the launcher's child would."""
    monkeypatch.setenv("CLAUDE_PLUGIN_DATA", str(plugin.data_dir))


def test_a_repository_without_huddle_is_left_alone(tmp_path, plugin, in_process):
    repo = make_repo(tmp_path / "shop")
    worktree = add_worktree(repo, tmp_path / "shop-ui", "ui/fixes")
    (repo / "src").mkdir()
    assert_inert(plugin, repo, [tmp_path, Path(os.environ["HOME"])])
    for cwd in (repo / "src", worktree):
        assert_inert(plugin, cwd, [tmp_path, Path(os.environ["HOME"])], FEW)
    assert not plugin.data_dir.exists()


def test_a_repository_with_an_empty_claude_folder_is_left_alone(tmp_path, plugin, in_process):
    # Claude Code itself makes .claude/ (settings); only huddle's marker turns huddle on.
    repo = make_repo(tmp_path / "shop")
    (repo / ".claude" / "sessions").mkdir(parents=True)
    (repo / ".claude" / "settings.json").write_text("{}")
    assert_inert(plugin, repo, [tmp_path, Path(os.environ["HOME"])])


def test_outside_any_repository_nothing_happens(tmp_path, plugin, in_process):
    plain = tmp_path / "plain" / "sub"
    plain.mkdir(parents=True)
    assert not any((p / ".git").exists() for p in (plain, *plain.parents))
    assert_inert(plugin, plain, [tmp_path, Path(os.environ["HOME"])])
    assert not plugin.data_dir.exists()


def test_a_repository_whose_main_worktree_is_home_is_refused(tmp_path, plugin, in_process):
    # ~/.claude/sessions/ is Claude Code's own folder: huddle must never write there, even when
    # someone put huddle's marker in it by hand.
    home = Path(os.environ["HOME"])
    make_repo(home)
    claude_sessions = home / ".claude" / "sessions"
    claude_sessions.mkdir(parents=True)
    (claude_sessions / "huddle.json").write_text('{"enabled_at": 1, "format": 1}')
    (claude_sessions / "4242.json").write_text('{"pid": 4242}')  # one of Claude Code's own
    (home / ".git" / "huddle-enabled").write_text("{}")
    (home / "projects").mkdir()
    linked = add_worktree(home, tmp_path / "home-wt", "side")
    assert_inert(plugin, home, [home, tmp_path])
    for cwd in (home / "projects", linked):
        assert_inert(plugin, cwd, [home, tmp_path], FEW)
    assert sorted(p.name for p in claude_sessions.iterdir()) == ["4242.json", "huddle.json"]


# --- names --------------------------------------------------------------------------------------


def test_two_sessions_on_one_branch_get_distinct_names(tmp_path, plugin):
    repo = make_repo(tmp_path / "shop")
    state = enable(plugin, repo)
    a, b, c = new_session_id(), new_session_id(), new_session_id()
    with StandIn() as pa, StandIn() as pb, StandIn() as pc:
        fire(plugin, "SessionStart-startup", a, repo, pa.pid)
        fire(plugin, "SessionStart-startup", b, repo, pb.pid)
        (repo / "sub").mkdir()
        fire(plugin, "SessionStart-startup", c, repo / "sub", pc.pid)
        names = [heartbeat(state, s)["name"] for s in (a, b, c)]
        assert names == ["main", "main-2", "main-3"]
        # Each keeps its own name across its own later events.
        fire(plugin, "UserPromptSubmit", b, repo, pb.pid)
        fire(plugin, "SessionStart-compact", b, repo, pb.pid)
        assert heartbeat(state, b)["name"] == "main-2"


def test_a_resumed_session_keeps_its_name_and_task(tmp_path, plugin):
    repo = make_repo(tmp_path / "shop")
    state = enable(plugin, repo)
    sid = new_session_id()
    with StandIn() as first:
        fire(plugin, "SessionStart-startup", sid, repo, first.pid)
        plugin.cli("name", "cart", cwd=repo, session_id=sid, pid=first.pid, check=True)
        plugin.cli(
            "doing", "fixing the cart totals", cwd=repo, session_id=sid, pid=first.pid, check=True
        )
        git(repo, "checkout", "-q", "-b", "elsewhere")  # its default name would now differ
        fire(plugin, "SessionEnd-other", sid, repo, first.pid)
    assert heartbeat(state, sid)["state"] == "ended"
    with StandIn() as other:
        # Another session comes and goes meanwhile, and takes the free default name.
        peer = new_session_id()
        fire(plugin, "SessionStart-startup", peer, repo, other.pid)
        assert heartbeat(state, peer)["name"] == "elsewhere"
    with StandIn() as second:
        fire(plugin, "SessionStart-resume", sid, repo, second.pid)
        hb = heartbeat(state, sid)
        assert hb["name"] == "cart"
        assert hb["task"] == "fixing the cart totals"
        assert (hb["pid"], hb["state"], hb["branch"]) == (second.pid, "idle", "elsewhere")
        assert hb.get("ended_at") is None


# --- SessionEnd -----------------------------------------------------------------------------


def test_session_end_is_fast_and_final(tmp_path, plugin, monkeypatch):
    repo = make_repo(tmp_path / "shop")
    state = enable(plugin, repo)
    register_peers(monkeypatch, plugin, repo, 40)
    sid = new_session_id()
    with StandIn() as claude:
        fire(plugin, "SessionStart-startup", sid, repo, claude.pid)
        payload = sample("SessionEnd-other", sid, repo)
        started = time.perf_counter()
        result = plugin.hook("SessionEnd", payload, cwd=repo, pid=claude.pid)
        took = time.perf_counter() - started
        assert checked(result) is None
        # Claude Code gives all SessionEnd hooks 1.5 s together: a product limit, not a benchmark.
        assert took < 1.0, f"SessionEnd took {took:.3f} s"
        hb = heartbeat(state, sid)
        assert hb["state"] == "ended" and hb["ended_at"] is not None
        # A second SessionEnd (or one for a session never seen) changes nothing and says nothing.
        assert fire(plugin, "SessionEnd-other", new_session_id(), repo, claude.pid) is None
        assert not any(p.name.endswith(".tmp") for p in state.iterdir())


# --- the SessionStart digest ----------------------------------------------------------------


def register_peers(monkeypatch, plugin: Plugin, repo: Path, count: int) -> list[str]:
    """`count` live peers, each with a long task, started through entry.run in this process
    (so their Claude Code process is this one, alive for the whole test)."""
    from huddle.handlers.entry import run

    monkeypatch.setenv("CLAUDE_PID", str(os.getpid()))
    monkeypatch.setenv("CLAUDE_PLUGIN_DATA", str(plugin.data_dir))
    state = repo / ".claude" / "sessions"
    made = []
    for index in range(count):
        sid = new_session_id()
        run("SessionStart", json.dumps(sample("SessionStart-startup", sid, repo)).encode())
        record = heartbeat(state, sid)
        record["task"] = f"task {index}: reworking the checkout flow and its tests, slowly"
        (state / f"{sid}.json").write_text(json.dumps(record))
        made.append(sid)
    return made


def test_digest_alone_says_nothing(tmp_path, plugin):
    repo = make_repo(tmp_path / "shop")
    enable(plugin, repo)
    sid = new_session_id()
    with StandIn() as claude:
        for source in ("SessionStart-startup", "SessionStart-resume", "SessionStart-compact"):
            assert fire(plugin, source, sid, repo, claude.pid) is None


def test_digest_names_a_live_peer_with_branch_worktree_and_state(tmp_path, plugin):
    repo = make_repo(tmp_path / "shop")
    worktree = add_worktree(repo, tmp_path / "shop-ui", "ui/fixes")
    claude_w = add_worktree(repo, repo / ".claude" / "worktrees" / "cart", "worktree-cart")
    enable(plugin, repo)
    a, b, c = new_session_id(), new_session_id(), new_session_id()
    with StandIn() as pa, StandIn() as pb, StandIn() as pc:
        assert fire(plugin, "SessionStart-startup", b, worktree, pb.pid) is None
        fire(plugin, "UserPromptSubmit", b, worktree, pb.pid)

        text = digest(fire(plugin, "SessionStart-startup", a, repo, pa.pid))
        assert text is not None
        assert "1 other Claude Code session is live" in text
        (line,) = [x for x in text.splitlines() if x.startswith("- ")]
        assert line.startswith('- "ui-fixes": branch ui/fixes, worktree ../shop-ui, working')
        assert 'You are "main" on branch main' in text

        text = digest(fire(plugin, "SessionStart-startup", c, claude_w, pc.pid))
        assert text is not None and "2 other Claude Code sessions are live" in text
        assert '"main": branch main, worktree main checkout, idle' in text
        assert '"ui-fixes": branch ui/fixes' in text
        assert 'You are "cart" on branch worktree-cart' in text

        # Seen from the linked worktree, the claude -w worktree is labelled by its path.
        text = digest(fire(plugin, "SessionStart-compact", b, worktree, pb.pid))
        assert text is not None
        assert '"cart": branch worktree-cart, worktree .claude/worktrees/cart, idle' in text


def test_digest_leaves_out_dead_and_ended_peers(tmp_path, plugin):
    repo = make_repo(tmp_path / "shop")
    enable(plugin, repo)
    me, dead, ended, live = (new_session_id() for _ in range(4))
    with StandIn() as p_dead, StandIn() as p_ended, StandIn() as p_live, StandIn() as p_me:
        fire(plugin, "SessionStart-startup", dead, repo, p_dead.pid)
        fire(plugin, "SessionStart-startup", ended, repo, p_ended.pid)
        fire(plugin, "SessionStart-startup", live, repo, p_live.pid)
        fire(plugin, "SessionEnd-other", ended, repo, p_ended.pid)
        p_dead.kill()  # died without SessionEnd; its record still says idle

        text = digest(fire(plugin, "SessionStart-startup", me, repo, p_me.pid))
        assert text is not None
        peers = [x for x in text.splitlines() if x.startswith("- ")]
        assert len(peers) == 1 and peers[0].startswith('- "main-3": '), text
        assert "1 other Claude Code session is live" in text

        p_live.kill()
        # Only dead and ended peers left. The session is told once that "main-3" died (it saw
        # that one live), and then, alone again, nothing.
        text = digest(fire(plugin, "SessionStart-resume", me, repo, p_me.pid))
        assert text is not None and "other Claude Code session" not in text
        [item] = [x for x in text.splitlines() if x.startswith("- ")]
        assert 'session \\"main-3\\" (branch main) ended unexpectedly' in item, item
        assert fire(plugin, "SessionStart-resume", me, repo, p_me.pid) is None


def test_digest_of_forty_peers_stays_under_budget(tmp_path, plugin, monkeypatch):
    repo = make_repo(tmp_path / "shop")
    enable(plugin, repo)
    register_peers(monkeypatch, plugin, repo, 40)
    sid = new_session_id()
    with StandIn() as claude:
        out = fire(plugin, "SessionStart-startup", sid, repo, claude.pid)
    text = digest(out)
    assert text is not None
    assert len(text) < 1500, len(text)
    assert "40 other Claude Code sessions are live" in text
    listed = [x for x in text.splitlines() if x.startswith('- "')]
    more = re.findall(r"^- and (\d+) more \(run `huddle sessions`\)$", text, re.MULTILINE)
    assert len(more) == 1 and listed, text
    assert len(listed) + int(more[0]) == 40
    assert len(set(listed)) == len(listed)
    assert text.splitlines()[-1].startswith('You are "main-41" on branch main')


# --- the launcher itself --------------------------------------------------------------------


@pytest.mark.parametrize("no_bytecode", ["", "1"])
def test_launcher_starts_the_plugins_own_package(tmp_path, plugin, no_bytecode):
    """A stand-in `python3` records how the launcher starts Python."""
    repo = make_repo(tmp_path / "shop")
    enable(plugin, repo)
    plugin.data_dir.mkdir(exist_ok=True)
    fake = tmp_path / "fakebin"
    fake.mkdir()
    seen = tmp_path / "seen.txt"
    (fake / "python3").write_text(
        "#!/bin/sh\n"
        f'{{ printf "%s\\n" "$@"; echo "prefix=${{PYTHONPYCACHEPREFIX-unset}}"; '
        f'echo "nobytecode=${{PYTHONDONTWRITEBYTECODE-unset}}"; }} > "{seen}"\n'
    )
    (fake / "python3").chmod(0o755)
    runner = Plugin(
        plugin.data_dir,
        env={
            "PATH": f"{fake}{os.pathsep}{os.environ['PATH']}",
            "PYTHONDONTWRITEBYTECODE": no_bytecode,
        },
    )
    sid = new_session_id()
    assert checked(runner.hook("Stop", sample("Stop", sid, repo), cwd=repo)) is None
    args = seen.read_text().splitlines()
    # No site: hooks need the standard library only; and sys.path[0] (the working directory,
    # the user's repository) is replaced by the plugin's src, never kept in front of stdlib.
    assert args[0] == "-S" and args[1] == "-c"
    assert "sys.path[0] = sys.argv[1]" in args[2]
    assert os.path.realpath(args[-4]) == os.path.realpath(Path(__file__).parents[1] / "src")
    assert args[-3] == "Stop"
    # Bytecode always goes to the plugin's data dir, even where the user turned writing it
    # off: the cache is the plugin's own, and without it every call compiles from source.
    assert args[-2] == f"prefix={plugin.data_dir}/pycache"
    assert args[-1] == "nobytecode=unset"


def test_a_repository_file_never_shadows_a_module(tmp_path, plugin):
    """A json.py (or os.py) at the root of an enabled repository is never imported by a hook."""
    repo = make_repo(tmp_path / "shop")
    enable(plugin, repo)
    trap = "raise SystemExit('imported from the repository')\n"
    for name in ("json.py", "os.py", "huddle.py"):
        (repo / name).write_text(trap)
    sid = new_session_id()
    result = plugin.hook("SessionStart", sample("SessionStart-startup", sid, repo), cwd=repo)
    assert result.returncode == 0 and result.stderr == ""
    assert (repo / ".claude" / "sessions" / f"{sid}.json").exists()
    listed = plugin.cli("sessions", "--json", cwd=repo)
    assert listed.returncode == 0, listed.stderr
    assert [s["session_id"] for s in json.loads(listed.stdout)] == [sid]


def test_session_start_remembers_the_real_interpreter(tmp_path, plugin):
    """Version-manager shims cost more than a hook: later hooks start the real binary."""
    repo = make_repo(tmp_path / "shop")
    enable(plugin, repo)
    plugin.hook("SessionStart", sample("SessionStart-startup", new_session_id(), repo), cwd=repo)
    remembered = (plugin.data_dir / "python").read_text().strip()
    assert os.path.isabs(remembered) and os.access(remembered, os.X_OK)
    assert os.path.realpath(remembered) == remembered
