"""The plugin as Claude Code itself judges and installs it (real client, isolated HOME).

Observed with client 2.1.332:

* ``claude plugin install`` copies the marketplace's plugin folder verbatim (everything but
  ``.git``, ignored files included) to ``$HOME/.claude/plugins/cache/<marketplace>/<plugin>/
  <version>/`` and records that path in ``installed_plugins.json``, whatever the source.
* Which copy a session then runs depends on the marketplace's source. From a git URL (how users
  install, e.g. from GitHub) sessions run the cache copy: its hooks, and its ``bin/`` on the
  Bash tool's PATH. From a local directory sessions run the plugin *in that directory*: the
  cache copy is made but unused, and with the directory gone the plugin does not load at all.
* The marketplace lists huddle at ``./``, the repository root, so installing straight from a
  developer checkout copies its ``.venv`` and ``.tools`` too (about 0.8 GB, seconds of copying).
  The tests therefore install from a copy of the working tree holding what a clone would hold
  (tracked and untracked-but-not-ignored files, as they are now). The git source is that copy
  committed to a local repository, reached through an ``https://`` URL that the isolated
  HOME's git config rewrites (``url.<file URL>.insteadOf``): no network is used.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.helpers import git, make_repo

from .client import ClaudeSession, isolated_env
from .huddle_support import (
    PLUGIN_ROOT,
    enable,
    huddle,
    last_tool_result,
    session_env,
    wait_heartbeat,
    working_tree_export,
)

pytestmark = pytest.mark.realclient

VERSION = json.loads((PLUGIN_ROOT / ".claude-plugin" / "plugin.json").read_text())["version"]


def claude(
    claude_bin: str, scratch: Path, home: Path, *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``claude <args>`` offline with its files kept in ``scratch``/``home``."""
    # No model is asked: the base URL names a port nothing listens on.
    env = isolated_env(scratch, "http://127.0.0.1:9", home, session_env(scratch))
    return subprocess.run(
        [claude_bin, *args],
        cwd=cwd or scratch,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_validate_strict_passes(tmp_path: Path, claude_bin: str) -> None:
    done = claude(
        claude_bin, tmp_path, tmp_path / "home", "plugin", "validate", "--strict", str(PLUGIN_ROOT)
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Validation passed" in done.stdout
    for part in (
        "SessionStart",
        "SessionEnd",
        "commands: huddle:sessions",
        "bin: huddle",
        "monitors: huddle",  # one bad entry would drop the whole file without a word
        'mcpServers: huddle stdio sh ["${CLAUDE_PLUGIN_ROOT}/hooks/mcp"]',
        'hooks: Stop command sh ["${CLAUDE_PLUGIN_ROOT}/hooks/wait"]',
    ):
        assert part in done.stdout, done.stdout


GIT_URL = "https://git.example.invalid/huddle.git"


def marketplace_source(kind: str, tmp_path: Path, home: Path) -> tuple[str, Path]:
    """What to pass to ``marketplace add``, and the folder sessions will run the plugin from
    (relative to the install path when that is where they run it)."""
    checkout = working_tree_export(PLUGIN_ROOT, tmp_path / "huddle-checkout")
    if kind == "directory":
        return str(checkout), checkout
    git(checkout, "init", "-q", "-b", "main")
    git(checkout, "add", "-A")
    git(checkout, "commit", "-q", "-m", "huddle")
    home.mkdir(parents=True, exist_ok=True)
    (home / ".gitconfig").write_text(f'[url "{checkout.as_uri()}"]\n\tinsteadOf = {GIT_URL}\n')
    return GIT_URL, Path()


@pytest.mark.parametrize("kind", ["git", "directory"])
def test_installed_plugin_runs_without_plugin_dir(
    kind: str, tmp_path: Path, claude_bin: str
) -> None:
    home = tmp_path / "home"
    source, runs_from = marketplace_source(kind, tmp_path, home)

    added = claude(claude_bin, tmp_path, home, "plugin", "marketplace", "add", source)
    assert added.returncode == 0, added.stdout + added.stderr
    installed = claude(claude_bin, tmp_path, home, "plugin", "install", "huddle@huddle")
    assert installed.returncode == 0, installed.stdout + installed.stderr

    plugins = home / ".claude" / "plugins"
    registry = json.loads((plugins / "installed_plugins.json").read_text())
    [entry] = registry["plugins"]["huddle@huddle"]
    assert entry["version"] == VERSION
    install_path = Path(entry["installPath"])
    assert install_path == plugins / "cache" / "huddle" / "huddle" / VERSION
    for part in (
        "hooks/hooks.json",
        "hooks/run",
        "hooks/repo.sh",
        "hooks/companion",
        "monitors/monitors.json",
        "hooks/mcp",
        ".mcp.json",
        "bin/huddle",
        "src/huddle/handlers/entry.py",
        "commands/sessions.md",
        "skills/huddle/SKILL.md",
        ".claude-plugin/plugin.json",
    ):
        assert (install_path / part).is_file(), part
    assert not (install_path / ".venv").exists() and not (install_path / ".tools").exists()
    plugin_root = install_path / runs_from  # runs_from is absolute for a directory source
    cli = plugin_root / "bin" / "huddle"

    # Enabled from a terminal with the installed copy's CLI, as a user would.
    repo = make_repo(tmp_path / "shop")
    enable(repo, home, tmp_path, binary=install_path / "bin" / "huddle")

    with ClaudeSession(
        None, repo, tmp_path / "s", home=home, env=session_env(tmp_path), claude_bin=claude_bin
    ) as session:
        assert "--plugin-dir" not in list(session.proc.args)  # type: ignore[arg-type]
        record = wait_heartbeat(repo, session.session_id, what="from the installed hooks")
        assert record["pid"] == session.pid and record["name"] == "main"
        reply = session.turn('TOOL Bash {"command": "command -v huddle"}\nREPLY done')
        assert reply["result"] == "done"
        assert last_tool_result(session).strip() == str(cli)
        # The installed plugin's MCP server runs: its tool answers for this session.
        tool = "mcp__plugin_huddle_huddle__list_sessions"
        load = json.dumps({"query": f"select:{tool}"})
        reply = session.turn(f"TOOL ToolSearch {load}\nTOOL2 {tool} {{}}\nREPLY listed")
        assert reply["result"] == "listed"
        rows = json.loads(last_tool_result(session))
        assert [r["name"] for r in rows if r["current"]] == ["main"]
    assert wait_heartbeat(repo, session.session_id, lambda r: r["state"] == "ended")
    # Which copy the hooks ran from: their bytecode went to the plugin data dir under the
    # source's own path (PYTHONPYCACHEPREFIX).
    data = plugins / "data" / "huddle-huddle"
    compiled = data / "pycache" / str(plugin_root).lstrip("/") / "src" / "huddle" / "handlers"
    assert list(compiled.glob("entry.*.pyc")), sorted(data.rglob("entry*"))

    doctor = huddle(
        "doctor", "--json", cwd=repo, home=home, scratch=tmp_path, binary=cli, check=False
    )
    checks = {c["what"]: c for c in json.loads(doctor.stdout)}
    assert checks["plugin installed"]["status"] == "ok", checks
    assert checks["plugin installed"]["detail"] == f"huddle@huddle {VERSION}"
    assert checks["huddle"]["detail"] == f"version {VERSION} running from {plugin_root}"
    assert checks["hooks last ran here"]["status"] == "ok", checks
    assert [c for c in checks.values() if c["status"] == "fail"] == []
    assert doctor.returncode == 0, doctor.stderr
