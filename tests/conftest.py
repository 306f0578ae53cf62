"""Every test gets its own HOME and plugin data directory: none may touch the real ones."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from tests.helpers import (  # noqa: E402 - needs src on the path first
    Plugin,
    Session,
    StandIn,
    add_worktree,
    commit_files,
    make_repo,
)

# A hook that failed prints nothing, as one with nothing to say does: tests that use the shared
# `plugin` fixture fail if its log says something went wrong.
TROUBLE = ("failed", "Traceback", "unexpected", "could not")


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("HUDDLE_FORBID_DEFAULT_DATA", "1")
    monkeypatch.setenv("HUDDLE_NO_BOOTSTRAP", "1")
    for name in (
        "CLAUDE_PLUGIN_DATA",
        "CLAUDE_CODE_SESSION_ID",
        "CLAUDE_PID",
        "HUDDLE_PLUGIN_DATA",
        "CLAUDE_PROJECT_DIR",
        "CLAUDE_PLUGIN_ROOT",
        "CLAUDE_ENV_FILE",
        "PYTHONPATH",
    ):
        monkeypatch.delenv(name, raising=False)
    for name in list(os.environ):
        if name.startswith("GIT_"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    yield


@pytest.fixture(scope="session")
def fast_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A PATH whose `python3` (what the hook launcher runs) is this interpreter, not a
    version-manager shim, and whose `huddle` is the plugin's bin/huddle."""
    folder = tmp_path_factory.mktemp("fastbin")
    (folder / "python3").symlink_to(os.path.realpath(sys.executable))
    (folder / "huddle").symlink_to(ROOT / "bin" / "huddle")
    return f"{folder}{os.pathsep}{os.environ['PATH']}"


@pytest.fixture
def spawn() -> Iterator[Callable[[], StandIn]]:
    """Make stand-ins for Claude Code processes; all are killed after the test."""
    made: list[StandIn] = []

    def make() -> StandIn:
        made.append(StandIn())
        return made[-1]

    yield make
    for proc in made:
        proc.kill()


@pytest.fixture
def plugin(tmp_path: Path, fast_path: str) -> Iterator[Plugin]:
    """The plugin with a data directory of the test's own; its log must stay free of trouble."""
    plugin = Plugin(tmp_path / "data", env={"PATH": fast_path})
    yield plugin
    log = plugin.log_text()
    for trouble in TROUBLE:
        assert trouble not in log, log


@pytest.fixture
def repo(tmp_path: Path, plugin: Plugin, request: pytest.FixtureRequest) -> Path:
    """An enabled repository `shop` on branch main, with the module's REPO_FILES committed."""
    repo = make_repo(tmp_path / "shop")
    files = getattr(request.module, "REPO_FILES", ())
    if files:
        commit_files(repo, files)
    plugin.cli("enable", cwd=repo, check=True)
    return repo


@pytest.fixture
def session(
    plugin: Plugin, state: Path, repo: Path, spawn: Callable[[], StandIn]
) -> Callable[..., Session]:
    """make(name): a session started in the main checkout of `repo` and named `name`, with a
    stand-in process of its own (or the one given)."""

    def make(name: str, proc: StandIn | None = None) -> Session:
        s = Session(plugin, state, repo, proc or spawn()).start()
        named = s.cli("name", name)
        assert named.returncode == 0, (named.stdout, named.stderr)
        return s

    return make


@pytest.fixture
def state(repo: Path) -> Path:
    """The state directory of the test's `repo` fixture."""
    return repo / ".claude" / "sessions"


@pytest.fixture
def linked(repo: Path, tmp_path: Path) -> Path:
    """A linked worktree of the test's `repo` fixture, on branch ui/fixes."""
    return add_worktree(repo, tmp_path / "shop-ui", "ui/fixes")


@pytest.fixture(autouse=True)
def _deadline(request: pytest.FixtureRequest) -> Iterator[None]:
    """A timeout on every test (pytest-timeout is not a dependency): SIGALRM fails it, and
    context managers still clean up (kill client processes). A test module may set LIMIT
    (seconds); real-client tests get HUDDLE_REALCLIENT_TEST_TIMEOUT, 90 by default."""
    if request.node.get_closest_marker("realclient") is not None:
        limit = int(os.environ.get("HUDDLE_REALCLIENT_TEST_TIMEOUT", "90"))
    else:
        limit = int(getattr(request.module, "LIMIT", 300))

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"the test took more than {limit} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(limit)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
