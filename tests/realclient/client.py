"""Drive the real ``claude`` binary headless and offline against a ``MockAPI``.

``ClaudeSession`` keeps one client process alive across turns the way an interactive session
is: ``claude -p --input-format stream-json --output-format stream-json --verbose``. Observed
with client 2.1.332:

* SessionStart hooks run as soon as the process starts, before any input; the stream then
  carries ``system/hook_started`` and ``system/hook_response`` events (with ``session_id``).
  ``system/init`` is emitted at the start of every turn.
* Each user line written to stdin is one turn; it ends with one ``{"type": "result", ...}``
  event. A line written while a turn still runs is folded into that turn (no second result),
  so ``turn()`` waits for each result before the next line goes out.
* Slash commands work as plain user turns: ``send("/huddle:sessions")`` or
  ``send("/plug:cmd some args")`` expands the command (its ``!`` lines run first) and the model
  gets the expanded body as the prompt. Plain-string and text-block content both work.
* Closing stdin ends the session: SessionEnd hooks run (1.5 s budget, or the hook's own
  ``timeout`` if that is shorter) and the process exits 0, about 1.5 s after they end.
* One turn with a tool call takes well under a second; process start-up about 0.3 s.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import signal
import subprocess
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from .mockapi import MockAPI, Record

__all__ = ["ClaudeSession", "PrintResult", "find_claude", "isolated_env", "repo_root", "run_print"]

CLAUDE_VERSION = "2.1.332"
# Marks the client's environment, and so every process it starts, for cleanup.
_TAG_VAR = "HUDDLE_REALCLIENT_TAG"
# Variables that the client needs from the outer environment; everything else (notably any
# CLAUDE_*/ANTHROPIC_* of a developer's own session) is left out on purpose.
_INHERITED = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "SHELL", "USER", "LOGNAME", "TERM")


def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


def find_claude() -> str | None:
    """The claude binary: $HUDDLE_CLAUDE_BIN, else <repo>/.tools/node_modules/.bin/claude,
    else PATH; None if there is none."""
    explicit = os.environ.get("HUDDLE_CLAUDE_BIN")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    local = repo_root() / ".tools" / "node_modules" / ".bin" / "claude"
    if os.access(local, os.X_OK):
        return str(local)
    return shutil.which("claude")


def _require_claude(claude_bin: str | None) -> str:
    found = claude_bin or find_claude()
    if not found:
        raise FileNotFoundError(
            "claude binary not found: set HUDDLE_CLAUDE_BIN or run "
            f"`npm install --prefix .tools @anthropic-ai/claude-code@{CLAUDE_VERSION}`"
        )
    return found


def isolated_env(
    scratch: Path, base_url: str, home: Path | None = None, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """An environment that keeps the client's files inside ``scratch`` and its traffic local.

    ``home`` defaults to ``scratch/home``; pass the same ``home`` to two sessions to let them
    share ``~/.claude`` (and so the plugin data dir). ``extra`` wins over everything.
    """
    home = home or scratch / "home"
    tmp = scratch / "tmp"
    for directory in (home, tmp):
        directory.mkdir(parents=True, exist_ok=True)
    env = {name: os.environ[name] for name in _INHERITED if name in os.environ}
    env.update(
        HOME=str(home),
        TMPDIR=str(tmp),
        CLAUDE_CODE_TMPDIR=str(tmp),
        XDG_RUNTIME_DIR=str(tmp),
        ANTHROPIC_BASE_URL=base_url,
        ANTHROPIC_API_KEY="test",
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
        DISABLE_TELEMETRY="1",
        DISABLE_AUTOUPDATER="1",
        DISABLE_ERROR_REPORTING="1",
        # Running as root, bypassPermissions refuses to start without it.
        IS_SANDBOX="1",
    )
    env.update(extra or {})
    return env


def _base_args(
    claude: str, plugin_dir: Path | None, session_id: str | None, extra_args: Iterable[str]
) -> list[str]:
    args = [claude, "-p", "--permission-mode", "bypassPermissions"]
    if plugin_dir is not None:  # None: only plugins installed under $HOME/.claude load
        args += ["--plugin-dir", str(Path(plugin_dir).resolve())]
    if session_id:
        args += ["--session-id", session_id]
    return args + list(extra_args)


def _tagged_pids(tag: str) -> list[int]:
    """Processes whose environment carries ``tag``: the client and everything it started.

    The client starts hooks in their own session, so its process group does not reach them;
    the inherited environment does. Linux only (/proc); elsewhere this finds nothing.
    """
    needle = f"{_TAG_VAR}={tag}".encode()
    pids = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue  # gone already, or not ours
        if needle in environ.split(b"\0") and int(entry.name) != os.getpid():
            pids.append(int(entry.name))
    return pids


def _reap(proc: subprocess.Popen[bytes], tag: str) -> None:
    """SIGKILL the client, its process group and every process started under its tag."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    # A second pass catches children forked while the first one ran.
    for _ in range(3):
        pids = _tagged_pids(tag)
        if not pids:
            break
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


# Safety net for processes a crashed test left behind (normally __exit__ handles them).
_LIVE: weakref.WeakSet[ClaudeSession] = weakref.WeakSet()


@atexit.register
def _kill_leftovers() -> None:
    for session in list(_LIVE):
        session.kill_all()


def _tail(path: Path, limit: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-limit:]
    except OSError:
        return ""


class ClaudeSession:
    """One long-lived real client process with its own MockAPI. Use as a context manager."""

    def __init__(
        self,
        plugin_dir: str | Path | None,
        cwd: str | Path,
        scratch: str | Path,
        *,
        home: str | Path | None = None,
        session_id: str | None = None,
        env: Mapping[str, str] | None = None,
        extra_args: Iterable[str] = (),
        claude_bin: str | None = None,
    ) -> None:
        # None starts the client without --plugin-dir (for a plugin installed in ``home``).
        self.plugin_dir = Path(plugin_dir) if plugin_dir is not None else None
        self.cwd = Path(cwd)
        self.scratch = Path(scratch)
        self.home = Path(home) if home else self.scratch / "home"
        self._session_id = session_id
        self._extra_env = dict(env or {})
        self._extra_args = list(extra_args)
        self._claude = _require_claude(claude_bin)
        self.scratch.mkdir(parents=True, exist_ok=True)
        self.stderr_path = self.scratch / "claude-stderr.log"
        self.stdout_path = self.scratch / "claude-stdout.jsonl"
        self.api = MockAPI(log_file=self.scratch / "api-requests.jsonl")
        self._proc: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None
        self._events: list[dict[str, Any]] = []
        self._eof = False
        self._results_taken = 0
        self._changed = threading.Condition()
        self._tag = uuid.uuid4().hex

    # -- lifecycle

    def start(self) -> ClaudeSession:
        if self._proc is not None:
            return self
        self.api.start()
        args = _base_args(self._claude, self.plugin_dir, self._session_id, self._extra_args)
        args += ["--input-format", "stream-json", "--output-format", "stream-json", "--verbose"]
        extra = {**self._extra_env, _TAG_VAR: self._tag}
        env = isolated_env(self.scratch, self.api.base_url, self.home, extra)
        with self.stderr_path.open("wb") as stderr:
            self._proc = subprocess.Popen(
                args,
                cwd=self.cwd,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                # Own process group: Ctrl-C on the test run does not reach it first, and
                # killpg reaches children that stay in the group.
                start_new_session=True,
            )
        _LIVE.add(self)
        self._reader = threading.Thread(
            target=self._read_stdout, name=f"claude-{self._proc.pid}", daemon=True
        )
        self._reader.start()
        return self

    def __enter__(self) -> ClaudeSession:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            # After a failure the state of the turn is unknown: do not wait for a graceful end.
            if self.alive and exc_type is None:
                self.close(timeout=10, check=False)
        finally:
            self.kill_all()
            self.api.stop()

    @property
    def proc(self) -> subprocess.Popen[bytes]:
        if self._proc is None:
            raise RuntimeError("session not started")
        return self._proc

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def returncode(self) -> int | None:
        return None if self._proc is None else self._proc.poll()

    def close(self, timeout: float = 30, check: bool = True) -> int:
        """Close stdin (the session ends and SessionEnd hooks run) and wait for the exit code."""
        proc = self.proc
        try:
            if proc.stdin and not proc.stdin.closed:
                proc.stdin.close()
        except BrokenPipeError:
            pass
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            self.kill_all()
            raise TimeoutError(
                f"claude did not exit within {timeout}s of stdin closing\n{self.debug_info()}"
            ) from exc
        if self._reader:
            self._reader.join(timeout=5)
        if check and code != 0:
            raise RuntimeError(f"claude exited with {code}\n{self.debug_info()}")
        return code

    def kill(self) -> None:
        """SIGKILL the client process only, as a crash would (no SessionEnd)."""
        if self.alive:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def kill_all(self) -> None:
        """SIGKILL the client and every process it started (hooks, tool calls, helpers they
        spawned), even after the client exited."""
        if self._proc is not None:
            _reap(self._proc, self._tag)
            self._release_pipes()
        _LIVE.discard(self)

    def _release_pipes(self) -> None:
        assert self._proc is not None
        if self._reader is not None:
            self._reader.join(timeout=5)
        for pipe in (self._proc.stdin, self._proc.stdout):
            try:
                if pipe is not None:
                    pipe.close()
            except OSError:
                pass  # stdin of a dead process: nothing left to flush

    # -- stdout stream

    def _read_stdout(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        with self.stdout_path.open("wb") as copy:
            for raw in self._proc.stdout:
                copy.write(raw)
                copy.flush()
                try:
                    event = json.loads(raw)
                except json.JSONDecodeError:
                    event = {"type": "_raw", "line": raw.decode("utf-8", "replace")}
                if not isinstance(event, dict):
                    event = {"type": "_raw", "line": raw.decode("utf-8", "replace")}
                with self._changed:
                    self._events.append(event)
                    self._changed.notify_all()
        with self._changed:
            self._eof = True
            self._changed.notify_all()

    def events(self) -> list[dict[str, Any]]:
        """Every stdout event so far, oldest first."""
        with self._changed:
            return list(self._events)

    def results(self) -> list[dict[str, Any]]:
        return [e for e in self.events() if e.get("type") == "result"]

    def _wait(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate():
                if self._eof:
                    raise RuntimeError(
                        f"claude exited while waiting for {what}\n{self.debug_info()}"
                    )
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no {what} within {timeout}s\n{self.debug_info()}")
                self._changed.wait(min(remaining, 0.5))

    @property
    def session_id(self) -> str:
        """The id given to the constructor, else the one the stream reports (waits up to 30 s)."""
        if self._session_id:
            return self._session_id

        def found() -> bool:
            return any(e.get("session_id") for e in self._events)

        self._wait(found, 30, "session id")
        with self._changed:
            self._session_id = next(e["session_id"] for e in self._events if e.get("session_id"))
        return self._session_id

    # -- turns

    def send(self, text: str) -> None:
        """Write one user turn (plain text or a slash command such as ``/plug:cmd args``)."""
        self.send_message({"role": "user", "content": [{"type": "text", "text": text}]})

    def send_message(self, message: dict[str, Any]) -> None:
        line = json.dumps({"type": "user", "message": message}) + "\n"
        stdin = self.proc.stdin
        assert stdin is not None
        stdin.write(line.encode())
        stdin.flush()

    def wait_turn(self, timeout: float = 60) -> dict[str, Any]:
        """The ``result`` event of the next turn not yet waited for (turns are counted in order;
        every event stays available through ``events()``)."""
        wanted = self._results_taken + 1

        def done() -> bool:
            return sum(1 for e in self._events if e.get("type") == "result") >= wanted

        self._wait(done, timeout, f"result of turn {wanted}")
        self._results_taken = wanted
        return self.results()[wanted - 1]

    def turn(self, text: str, timeout: float = 60) -> dict[str, Any]:
        """Send one user turn and return its ``result`` event."""
        self.send(text)
        return self.wait_turn(timeout)

    def debug_info(self) -> str:
        return (
            f"--- claude stderr ({self.stderr_path}):\n{_tail(self.stderr_path)}\n"
            f"--- claude stdout ({self.stdout_path}):\n{_tail(self.stdout_path)}"
        )


@dataclass
class PrintResult:
    """Outcome of a one-shot ``claude -p`` run."""

    returncode: int
    stdout: str
    stderr: str
    records: list[Record] = field(default_factory=list)

    @property
    def result(self) -> dict[str, Any]:
        """The final JSON object (with ``--output-format json``, the default of run_print)."""
        return json.loads(self.stdout)

    def requests(self) -> list[dict[str, Any]]:
        return [r.body for r in self.records]

    def conversation_requests(self) -> list[dict[str, Any]]:
        return [r.body for r in self.records if r.is_conversation]


def run_print(
    prompt: str,
    cwd: str | Path,
    plugin_dir: str | Path,
    scratch: str | Path,
    *,
    home: str | Path | None = None,
    session_id: str | None = None,
    env: Mapping[str, str] | None = None,
    extra_args: Iterable[str] = (),
    output_format: str = "json",
    timeout: float = 60,
    claude_bin: str | None = None,
) -> PrintResult:
    """Run ``claude -p <prompt>`` once against a fresh MockAPI: SessionStart, one turn,
    SessionEnd."""
    scratch = Path(scratch)
    scratch.mkdir(parents=True, exist_ok=True)
    args = _base_args(_require_claude(claude_bin), Path(plugin_dir), session_id, extra_args)
    args += ["--output-format", output_format, "--", prompt]
    tag = uuid.uuid4().hex
    extra = {**(env or {}), _TAG_VAR: tag}
    with MockAPI(log_file=scratch / "api-requests.jsonl") as api:
        proc = subprocess.Popen(
            args,
            cwd=cwd,
            env=isolated_env(scratch, api.base_url, Path(home) if home else None, extra),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            _reap(proc, tag)
            out, err = proc.communicate()
            raise TimeoutError(
                f"claude -p timed out after {timeout}s\n{err.decode(errors='replace')[-3000:]}"
            ) from exc
        finally:
            # Also ends hooks still running in the background (async, or detached helpers).
            _reap(proc, tag)
        return PrintResult(
            proc.returncode,
            out.decode(errors="replace"),
            err.decode(errors="replace"),
            api.records(),
        )
