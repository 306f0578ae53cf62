"""Builders shared by the tests: git repositories and worktrees, hook events, hook processes."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "tests" / "samples"
HOOKS_JSON = ROOT / "hooks" / "hooks.json"
HUDDLE = ROOT / "bin" / "huddle"

T = TypeVar("T")


def git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def make_repo(path: Path, *, commit: bool = True, branch: str = "main") -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", branch)
    if commit:
        (path / "README.md").write_text("hello\n")
        git(path, "add", "README.md")
        git(path, "commit", "-q", "-m", "first")
    return path


def commit_files(repo: Path, files: Iterable[str] | Mapping[str, str]) -> None:
    """Write and commit files (`# <path>` as their text unless a mapping gives it)."""
    texts = dict(files) if isinstance(files, Mapping) else {f: f"# {f}\n" for f in files}
    for rel, text in texts.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "files")


def add_worktree(repo: Path, path: Path, branch: str) -> Path:
    git(repo, "worktree", "add", "-q", "-b", branch, str(path))
    return path


def new_session_id() -> str:
    return str(uuid.uuid4())


def event(name: str, session_id: str, cwd: Path | str, **fields: Any) -> dict[str, Any]:
    """A hook event shaped like the real samples."""
    base: dict[str, Any] = {
        "session_id": session_id,
        "transcript_path": f"/nonexistent/{session_id}.jsonl",
        "cwd": str(cwd),
        "hook_event_name": name,
    }
    if name == "SessionStart":
        base["source"] = "startup"
    if name == "SessionEnd":
        base["reason"] = "other"
    base.update(fields)
    return base


def make_record(session_id: str | None = None, **changes: Any) -> Any:
    """A heartbeat record with plausible values; `changes` override any field."""
    import time

    from huddle.peers import procs
    from huddle.store.records import Heartbeat
    from huddle.vocab import IDLE as STATE_IDLE

    now = time.time()
    fields: dict[str, Any] = dict(
        session_id=session_id or new_session_id(),
        name="main",
        pid=None,
        pid_start=None,
        host=procs.host(),
        worktree="/w",
        branch="main",
        cwd="/w",
        started_at=now,
        last_activity=now,
        state=STATE_IDLE,
    )
    fields.update(changes)
    return Heartbeat(**fields)


def edit_event(
    name: str, session_id: str, cwd: Path, file_path: Path, tool: str = "Edit"
) -> dict[str, Any]:
    return event(
        name,
        session_id,
        cwd,
        tool_name=tool,
        tool_input={"file_path": str(file_path), "old_string": "a", "new_string": "b"},
        tool_use_id="toolu_test",
    )


def sample(name: str, session_id: str | None = None, cwd: Path | None = None) -> dict[str, Any]:
    """A real captured event from tests/samples, optionally re-pointed."""
    data: dict[str, Any] = json.loads((SAMPLES / f"{name}.json").read_text())
    if session_id is not None:
        data["session_id"] = session_id
    if cwd is not None:
        old = data["cwd"]
        text = json.dumps(data).replace(old.rstrip("/").rsplit("/sub", 1)[0], str(cwd))
        data = json.loads(text)
        data["cwd"] = str(cwd)
    return data


def hook_command(event_name: str) -> list[str]:
    """The argv hooks.json runs for `event_name`, with ${CLAUDE_PLUGIN_ROOT} filled in."""
    config = json.loads(HOOKS_JSON.read_text())
    handler = config["hooks"][event_name][0]["hooks"][0]
    argv = [handler["command"], *handler.get("args", [])]
    return [part.replace("${CLAUDE_PLUGIN_ROOT}", str(ROOT)) for part in argv]


@dataclass
class HookResult:
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> dict[str, Any] | None:
        return json.loads(self.stdout) if self.stdout.strip() else None

    def context(self) -> str | None:
        out = self.json()
        if not out:
            return None
        return out.get("hookSpecificOutput", {}).get("additionalContext")


@dataclass
class Plugin:
    """How a test runs the plugin's hooks and CLI as Claude Code would."""

    data_dir: Path
    env: dict[str, str] = field(default_factory=dict)

    def environ(self, pid: int | None = None, session_id: str | None = None) -> dict[str, str]:
        env = {
            **os.environ,
            "CLAUDE_PLUGIN_ROOT": str(ROOT),
            "CLAUDE_PLUGIN_DATA": str(self.data_dir),
            # bin/huddle runs on the tests' interpreter, as it would on the plugin's venv.
            "HUDDLE_PYTHON": sys.executable,
        }
        if pid is not None:
            env["CLAUDE_PID"] = str(pid)
        if session_id is not None:
            env["CLAUDE_CODE_SESSION_ID"] = session_id
        env.update(self.env)
        return env

    def hook(
        self,
        event_name: str,
        payload: dict[str, Any] | bytes | str,
        *,
        cwd: Path,
        pid: int | None = None,
        timeout: float = 30,
    ) -> HookResult:
        if isinstance(payload, dict):
            data = json.dumps(payload).encode()
        elif isinstance(payload, str):
            data = payload.encode()
        else:
            data = payload
        sid = payload.get("session_id") if isinstance(payload, dict) else None
        done = subprocess.run(
            hook_command(event_name),
            input=data,
            cwd=cwd,
            env=self.environ(pid, sid if isinstance(sid, str) else None),
            capture_output=True,
            timeout=timeout,
        )
        return HookResult(done.returncode, done.stdout.decode(), done.stderr.decode())

    def cli(
        self,
        *args: str,
        cwd: Path,
        session_id: str | None = None,
        pid: int | None = None,
        timeout: float = 60,
        check: bool = False,
        stdin: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(HUDDLE), *args],
            cwd=cwd,
            env=self.environ(pid, session_id),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"huddle {shlex.join(args)} failed: {done.stderr}")
        return done

    def log_text(self) -> str:
        path = self.data_dir / "huddle.log"
        return path.read_text() if path.exists() else ""


class StandIn:
    """A real process standing in for a Claude Code process (CLAUDE_PID) in tests; `args` are
    added to its command line, as `claude --resume ID --fork-session` has them."""

    def __init__(self, args: Sequence[str] = ()) -> None:
        argv = [sys.executable, "-c", "import time; time.sleep(3600)", *args]
        self.proc = subprocess.Popen(argv)
        self.pid = self.proc.pid

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()

    def __enter__(self) -> StandIn:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()


# --- sessions driven through the hooks, and what their hooks answer --------------------------


def checked(result: HookResult) -> dict[str, Any] | None:
    """Exit 0, nothing on stderr, stdout empty or exactly one JSON object."""
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    if not result.stdout:
        return None
    value = json.loads(result.stdout)
    assert isinstance(value, dict)
    return value


class Session:
    """One Claude Code session: its id, where it runs, and its stand-in process."""

    def __init__(self, plugin: Plugin, state: Path, cwd: Path, proc: StandIn) -> None:
        self.plugin = plugin
        self.state = state
        self.cwd = cwd
        self.proc = proc
        self.sid = new_session_id()

    def hook(self, name: str, **fields: Any) -> dict[str, Any] | None:
        payload = event(name, self.sid, self.cwd, **fields)
        return checked(self.plugin.hook(name, payload, cwd=self.cwd, pid=self.proc.pid))

    def start(self) -> Session:
        self.hook("SessionStart")
        return self

    def tool(self, when: str, tool: str, path: Path | str, key: str = "file_path") -> Any:
        tool_input = {key: str(path), "old_string": "a", "new_string": "b"}
        return self.hook(when, tool_name=tool, tool_input=tool_input, tool_use_id="toolu_x")

    def before_edit(self, path: Path, tool: str = "Edit") -> dict[str, Any] | None:
        return self.tool("PreToolUse", tool, path)

    def edited(self, path: Path | str, tool: str = "Edit") -> None:
        assert self.tool("PostToolUse", tool, path) is None

    def before_bash(self, command: str) -> dict[str, Any] | None:
        return self.hook(
            "PreToolUse", tool_name="Bash", tool_input={"command": command}, tool_use_id="toolu_b"
        )

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.plugin.cli(*args, cwd=self.cwd, session_id=self.sid, pid=self.proc.pid)

    def record(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads((self.state / f"{self.sid}.json").read_text())
        return value

    def files(self) -> list[str]:
        return [f["path"] for f in self.record()["files"]]

    def lease(self, key: str) -> Path:
        return lease_folder(self.state, key) / f"{self.sid}.json"


def lease_folder(state: Path, key: str) -> Path:
    from huddle.store.layout import encode

    return state / "leases" / encode(key)


def warning(output: dict[str, Any] | None) -> str:
    """The text a PreToolUse output shows the model next to the tool result; never a deny."""
    assert output is not None, "expected a warning, got nothing"
    specific = output["hookSpecificOutput"]
    assert specific["hookEventName"] == "PreToolUse"
    assert "permissionDecision" not in specific, "a lease or warning must never deny"
    text: str = specific["additionalContext"]
    return text


def denial(output: dict[str, Any] | None) -> str:
    assert output is not None, "expected a deny, got nothing"
    specific = output["hookSpecificOutput"]
    assert specific["permissionDecision"] == "deny"
    text: str = specific["permissionDecisionReason"]
    return text


def race_cli(
    plugin: Plugin, cwd: Path, racers: list[tuple[str, int, list[str]]]
) -> list[subprocess.CompletedProcess[str]]:
    """Run `huddle ARGS` once per (session id, pid, args), all released at one moment: each
    racer blocks reading a pipe that is closed once every racer has been started."""
    gate_read, gate_write = os.pipe()
    children = []
    try:
        for sid, pid, args in racers:
            children.append(
                subprocess.Popen(
                    ["sh", "-c", 'read go; exec "$0" "$@"', str(HUDDLE), *args],
                    stdin=gate_read,
                    cwd=cwd,
                    env=plugin.environ(pid, sid),
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
    finally:
        os.close(gate_read)
        os.close(gate_write)  # every racer's `read` returns now
    done = []
    for child in children:
        out, err = child.communicate(timeout=60)
        done.append(subprocess.CompletedProcess(child.args, child.returncode, out, err))
    return done


def wait_for(probe: Callable[[], T | None], what: str, timeout: float = 10.0) -> T:
    """Poll ``probe`` until it returns something truthy (hooks write files on their own time)."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)
