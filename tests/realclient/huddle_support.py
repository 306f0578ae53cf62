"""Shared pieces for the real-client tests of huddle itself (test_peers, test_plugin_install).

These run the project's plugin, not a probe plugin: sessions get an environment in which the
hooks find ``python3`` and the ``huddle`` CLI of slash commands and Bash tool calls runs on the
test interpreter (which has pydantic, as the plugin's own venv would), without building that
venv. Observed with client 2.1.332 (see test_peers for the assertions that pin them down):

* ``CLAUDE_PID`` in hooks, ``!`` lines and Bash tool calls is exactly the pid of the process the
  test started (``ClaudeSession.pid``): the npm package's ``bin/claude`` is the native client
  itself, not a wrapper; a Bash tool call's parent is that process.
* The client appends the plugin's ``bin/`` to the end of PATH for Bash tool calls and ``!``
  lines, so any ``huddle`` earlier on PATH (for example ``.venv/bin/huddle``, the console script
  of an editable install) would shadow the plugin's. ``session_env`` therefore puts only a
  ``python3`` shim in front of a PATH from which every directory holding a ``huddle`` is dropped.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from tests.helpers import wait_for

from .client import ClaudeSession, repo_root
from .mockapi import HookEntry, conversation_prompt, hook_entries

PLUGIN_ROOT = repo_root()
HUDDLE_BIN = PLUGIN_ROOT / "bin" / "huddle"
INLINE_DATA = ("plugins", "data", "huddle-inline")  # under $HOME/.claude, for --plugin-dir

T = TypeVar("T")


def python_shim(folder: Path) -> Path:
    """A folder holding only ``python3``, which runs the test interpreter."""
    folder.mkdir(parents=True, exist_ok=True)
    shim = folder / "python3"
    if not shim.exists():
        shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
        shim.chmod(shim.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return folder


def clean_path(shim_dir: Path) -> str:
    """The shim first, then the inherited PATH without any folder that has a ``huddle``."""
    kept = [
        d
        for d in os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep)
        if d and not os.access(os.path.join(d, "huddle"), os.X_OK)
    ]
    return os.pathsep.join([str(shim_dir), *kept])


def session_env(scratch: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Extra environment for a ClaudeSession (or a CLI call) running the huddle plugin."""
    env = {
        "HUDDLE_NO_BOOTSTRAP": "1",
        "HUDDLE_PYTHON": sys.executable,
        "PATH": clean_path(python_shim(scratch / "pybin")),
    }
    env.update(extra or {})
    return env


def inline_data_dir(home: Path) -> Path:
    return home.joinpath(".claude", *INLINE_DATA)


def cli_env(home: Path, scratch: Path, data_dir: Path | None = None) -> dict[str, str]:
    """The environment of a person running ``huddle`` at a terminal, with the given HOME.

    ``data_dir`` becomes CLAUDE_PLUGIN_DATA; without it bin/huddle finds its data dir itself.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLAUDE_", "HUDDLE_"))}
    env.pop("PYTHONPATH", None)
    env.update(session_env(scratch))
    env["HOME"] = str(home)
    if data_dir is not None:
        env["CLAUDE_PLUGIN_DATA"] = str(data_dir)
    return env


def huddle(
    *args: str,
    cwd: Path,
    home: Path,
    scratch: Path,
    binary: Path = HUDDLE_BIN,
    data_dir: Path | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(binary), *args],
        cwd=cwd,
        env=cli_env(home, scratch, data_dir),
        capture_output=True,
        text=True,
        timeout=60,
    )
    if check and done.returncode != 0:
        raise AssertionError(f"huddle {' '.join(args)} exited {done.returncode}: {done.stderr}")
    return done


def enable(
    repo: Path, home: Path, scratch: Path, binary: Path = HUDDLE_BIN, data_dir: Path | None = None
) -> None:
    out = huddle(
        "enable", cwd=repo, home=home, scratch=scratch, binary=binary, data_dir=data_dir
    ).stdout
    assert "huddle is enabled in" in out, out


def state_dir(repo: Path) -> Path:
    return repo / ".claude" / "sessions"


def heartbeat(repo: Path, session_id: str) -> dict[str, Any] | None:
    """The session's heartbeat record in the repository (main worktree), or None."""
    try:
        record: dict[str, Any] = json.loads((state_dir(repo) / f"{session_id}.json").read_text())
    except FileNotFoundError:
        return None
    return record


def wait_heartbeat(
    repo: Path,
    session_id: str,
    where: Callable[[dict[str, Any]], bool] = lambda r: True,
    what: str = "",
    timeout: float = 10.0,
) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        record = heartbeat(repo, session_id)
        return record if record is not None and where(record) else None

    return wait_for(probe, f"heartbeat of {session_id} {what}".rstrip(), timeout)


def prompt_of(body: dict[str, Any]) -> str:
    """The newest user-written text of a request: for a slash command, its expanded body
    (which holds the output of its ``!`` lines); never earlier turns."""
    return conversation_prompt(body)[0]


def tool_results(body: dict[str, Any]) -> list[str]:
    """Text of every tool_result in the request, oldest first."""
    found = []
    for message in body.get("messages") or []:
        content = message.get("content")
        if not isinstance(content, list):
            continue
        for block in content:
            if isinstance(block, dict) and block.get("type") == "tool_result":
                inner = block.get("content")
                if isinstance(inner, str):
                    found.append(inner)
                elif isinstance(inner, list):
                    found.append("\n".join(b.get("text", "") for b in inner if isinstance(b, dict)))
    return found


def last_tool_result(session: ClaudeSession) -> str:
    """The newest tool result the session's model was shown."""
    results = tool_results(session.api.last_conversation_request())
    assert results, "the last request holds no tool result"
    return results[-1]


def session_start_contexts(body: dict[str, Any]) -> list[HookEntry]:
    entries = hook_entries(body)
    return [e for e in entries if e.event == "SessionStart" and e.kind == "additional context"]


def table_rows(text: str) -> dict[str, list[str]]:
    """Rows of a ``huddle sessions`` table by session name: ``{name: [mark, name, branch,
    worktree, state, ...]}`` split on whitespace; ``mark`` is ``*`` for the calling session,
    else empty."""
    rows: dict[str, list[str]] = {}
    lines = text.splitlines()
    for index, line in enumerate(lines):
        cells = line.split()
        if cells[:2] == ["NAME", "BRANCH"]:
            for row in lines[index + 1 :]:
                parts = row.split()
                if not parts or row.startswith("* this session") or row.startswith("Not live"):
                    break
                if parts[0] != "*":
                    parts.insert(0, "")
                rows[parts[1]] = parts
            break
    return rows


def tree_snapshot(root: Path) -> dict[str, tuple[str, bytes | str, int]]:
    """Every path under ``root`` (``.git`` included): kind, content or link target, mode."""
    snap: dict[str, tuple[str, bytes | str, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            path = Path(dirpath, name)
            info = path.lstat()
            rel = str(path.relative_to(root))
            if stat.S_ISLNK(info.st_mode):
                snap[rel] = ("link", os.readlink(path), info.st_mode)
            elif stat.S_ISDIR(info.st_mode):
                snap[rel] = ("dir", "", info.st_mode)
            else:
                snap[rel] = ("file", path.read_bytes(), info.st_mode)
    return snap


def working_tree_export(source: Path, target: Path) -> Path:
    """Copy the files git would put in a clone of ``source``'s working tree (tracked and
    untracked-but-not-ignored, as they are now) to ``target``."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=source,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for rel in filter(None, listed.split("\0")):
        src = source / rel
        if not src.is_file():
            continue  # deleted in the working tree
        dst = target / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
    return target


def since_last_tool_call(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The messages after the newest assistant tool_use of a request: the tool results and the
    system entries hooks added to them. Empty when the request follows no tool call."""
    messages = body.get("messages") or []
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        content = message.get("content")
        if (
            message.get("role") == "assistant"
            and isinstance(content, list)
            and any(isinstance(b, dict) and b.get("type") == "tool_use" for b in content)
        ):
            return messages[index + 1 :]
    return []


def new_hook_entries(body: dict[str, Any]) -> list[HookEntry]:
    """Hook output the model is shown for its newest tool call only (not earlier turns)."""
    return hook_entries({"messages": since_last_tool_call(body)})


def tool_result_blocks(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The tool_result blocks among ``messages``, oldest first."""
    return [
        block
        for message in messages
        if isinstance(message.get("content"), list)
        for block in message["content"]
        if isinstance(block, dict) and block.get("type") == "tool_result"
    ]


class Lab:
    """One test's scratch space: a shared HOME, per-session scratch folders, and sessions."""

    def __init__(self, root: Path, claude_bin: str) -> None:
        self.root = root
        self.home = root / "home"
        self.claude_bin = claude_bin

    def env(self) -> dict[str, str]:
        return session_env(self.root)

    def session(self, cwd: Path, label: str, *extra_args: str) -> ClaudeSession:
        return ClaudeSession(
            PLUGIN_ROOT,
            cwd,
            self.root / label,
            home=self.home,
            env=self.env(),
            claude_bin=self.claude_bin,
            extra_args=extra_args,
        )

    def enable(self, repo: Path) -> None:
        enable(repo, self.home, self.root, data_dir=self.data_dir)

    @property
    def data_dir(self) -> Path:
        return inline_data_dir(self.home)
