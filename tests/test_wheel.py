"""A huddle installed with pip, without the plugin folder around it, works: the wheel is built
from this checkout, installed with its dependencies into a new virtual environment, and there
`huddle demo` plays its sessions and every verb either works or says in one line what it needs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from huddle.cli.main import parser
from tests.helpers import ROOT, make_repo

pytestmark = pytest.mark.slow

LIMIT = 900  # seconds for one test: installing the dependencies downloads packages


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin/ folder of a new venv holding the wheel of this checkout and its dependencies."""
    where = tmp_path_factory.mktemp("wheel")
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(where)]
    subprocess.run([*build, str(ROOT)], check=True, capture_output=True, timeout=600)
    wheels = list(where.glob("claude_huddle-*.whl"))
    assert len(wheels) == 1, wheels
    venv = where / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheels[0])],
        check=True,
        capture_output=True,
        timeout=900,
    )
    return venv / "bin"


def clean_env(home: Path) -> dict[str, str]:
    """A plain terminal: none of the test run's own settings, nothing of the checkout."""
    keep = ("PATH", "LANG", "LC_ALL", "TMPDIR")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(HOME=str(home), GIT_CONFIG_NOSYSTEM="1", XDG_STATE_HOME=str(home / "state"))
    return env


def run(bin_dir: Path, *args: str, cwd: Path, env: dict[str, str], stdin: str = "") -> tuple:
    done = subprocess.run(
        [str(bin_dir / "huddle"), *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout, done.stderr


def test_the_installed_package_has_no_plugin_folder_and_imports_from_the_venv(
    installed: Path, tmp_path: Path
) -> None:
    done = subprocess.run(
        [
            str(installed / "python"),
            "-c",
            "import huddle, json; from huddle.plugin import files;"
            "print(json.dumps([huddle.__file__, files.root()]))",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    where, root = json.loads(done.stdout)
    assert where.startswith(str(installed.parent)), where
    assert root is None


def test_huddle_demo_plays_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    code, out, err = run(installed, "demo", cwd=tmp_path, env=clean_env(tmp_path))
    assert code == 0, err
    assert "installed with pip" in out
    assert "Traceback" not in out + err
    # What the demo exists to show happened: a peer digest, an edit refused by a lock, a message.
    assert "other Claude Code session" in out
    assert "is locked by" in out
    assert "new item" in out


# Each verb as a person would type it in a terminal of an enabled repository, in an order where
# what one needs (a lock, a task) was made by an earlier one.
VERBS = [
    ("enable",),
    ("sessions",),
    ("status", "--all"),
    ("doctor",),
    ("config",),
    ("config", "lease_ttl", "15m"),
    ("doing", "fixing the cart"),
    ("name", "alice"),
    ("note", "renamed getLabel to t()"),
    ("send", "nobody", "hello"),
    ("inbox",),
    ("sent",),
    ("log",),
    ("lock", "README.md"),
    ("locks",),
    ("unlock", "README.md"),
    ("task", "add", "write the docs"),
    ("task", "list"),
    ("task", "claim", "000000"),
    ("task", "done", "000000"),
    ("task", "release", "000000"),
    ("run", "--", "true"),
    ("hook", "UserPromptSubmit"),
    ("commands", "install"),
    ("disable", "--yes"),
]


def test_every_verb_works_or_says_in_one_line_what_it_needs(
    installed: Path, tmp_path: Path
) -> None:
    covered = {words[0] for words in VERBS} | {"demo"}
    choices = next(a for a in parser()._actions if a.dest == "verb").choices
    assert covered == set(choices), set(choices) ^ covered

    repo = make_repo(tmp_path / "repo")
    env = clean_env(tmp_path)
    for words in VERBS:
        stdin = json.dumps({"session_id": "x", "cwd": str(repo)}) if words[0] == "hook" else ""
        code, out, err = run(installed, *words, cwd=repo, env=env, stdin=stdin)
        said = f"huddle {' '.join(words)} -> {code}: {out!r} {err!r}"
        assert "Traceback" not in out + err, said
        assert code in (0, 1), said
        if code == 1:
            lines = err.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("huddle: "), said
    code, out, _ = run(installed, "--version", cwd=repo, env=env)
    assert code == 0 and out.startswith("huddle "), out


def test_the_installed_mcp_server_serves(installed: Path, tmp_path: Path) -> None:
    import anyio
    from mcp import ClientSession, StdioServerParameters, stdio_client

    repo = make_repo(tmp_path / "repo")
    env = clean_env(tmp_path)
    assert run(installed, "enable", cwd=repo, env=env)[0] == 0

    async def call() -> str:
        params = StdioServerParameters(
            command=str(installed / "huddle-mcp"), cwd=str(repo), env=env
        )
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            result = await session.call_tool("post_note", {"text": "from the wheel"})
            assert not result.is_error, result
            return "".join(getattr(c, "text", "") for c in result.content)

    assert anyio.run(call).startswith("note sent to 0 session(s)")
    code, out, _ = run(installed, "log", cwd=repo, env=env)
    assert code == 0 and "from the wheel" in out
