"""What every part of the benchmark stands on: a case and how it is timed, the interleaved rounds,
and the bench (one plugin root's temporary repositories, stand-in processes and plugin data).

Everything it sets up goes through the product as Claude Code would drive it: sessions register
with real SessionStart hook runs, files are leased by real PostToolUse runs, and locks, tasks and
messages go through `bin/huddle`.
"""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from tests.helpers import add_worktree, git, hook_command, make_repo, new_session_id, sample

ROOT = Path(__file__).resolve().parents[1]
FLOOR_CODE = 'import json,sys; json.load(sys.stdin); print("{}")'
SETUP_WORKERS = min(8, 2 * (os.cpu_count() or 1))  # peers set up in parallel, as live sessions

# Variables that would make the runs depend on whoever started the benchmark.
_DROP = (
    "CLAUDE_PLUGIN_DATA",
    "CLAUDE_PLUGIN_ROOT",
    "CLAUDE_CODE_SESSION_ID",
    "CLAUDE_PID",
    "CLAUDE_PROJECT_DIR",
    "CLAUDE_ENV_FILE",
    "HUDDLE_PLUGIN_DATA",
    "PYTHONPATH",
)


@dataclass
class Case:
    name: str
    group: str  # floor, hot, info, end, off; or a scenario's name
    argv: list[str]
    payload: bytes
    cwd: Path
    env: dict[str, str]
    times: list[float] = field(default_factory=list)  # wall ms
    cpu: list[float] = field(default_factory=list)  # user+sys ms of the process tree
    failures: int = 0
    outputs: int = 0  # runs that printed something
    plugin: int = 0  # which --plugin-root, counted from 1 (0: the floor)
    # Lease scenario only: events used in turn instead of `payload` (one per run, so that a
    # warning shown at most once per file and peer is shown on every run), how many live peers
    # the case's repository has, and whether the hook is meant to print on every run.
    payloads: list[bytes] = field(default_factory=list)
    peers: int | None = None
    expect_output: bool = False
    calls: int = 0
    # Message scenario: what to do before every run (warm-up included), outside the timing, and
    # text each run's output must hold (runs whose output lacks it are counted in `wrong`).
    before: Callable[[], None] | None = None
    expect_text: bytes = b""
    wrong: int = 0

    def prepare(self) -> None:
        if self.before is not None:
            self.before()

    def run(self) -> subprocess.CompletedProcess[bytes]:
        payload = self.payloads[self.calls % len(self.payloads)] if self.payloads else self.payload
        self.calls += 1
        return subprocess.run(
            self.argv,
            input=payload,
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            timeout=60,
        )

    def measure(self) -> None:
        self.prepare()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = self.run()
        self.times.append((time.perf_counter() - start) * 1000.0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.cpu.append(
            (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1000.0
        )
        if done.returncode != 0:
            self.failures += 1
        if done.stdout.strip() and self.group != "floor":
            self.outputs += 1
        if self.expect_text and self.expect_text not in done.stdout:
            self.wrong += 1

    def output_notes(self, label: str, rounds: int) -> list[str]:
        """Notes on runs that printed where the case should not, or not where it should."""
        if self.expect_output and self.outputs < rounds:
            return [f"{label}: printed in only {self.outputs} of {rounds} runs"]
        if not self.expect_output and self.outputs:
            return [f"{label}: printed in {self.outputs} of {rounds} runs"]
        return []


def percentile(values: list[float], fraction: float) -> float:
    """Linear interpolation between closest ranks (the same as numpy's default)."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def measure(cases: list[Case], rounds: int, warmup: int, seed: int = 1) -> None:
    """Every case once per round, in a shuffled order, so that no case always follows another."""
    order = random.Random(seed)
    for round_number in range(warmup + rounds):
        batch = list(cases)
        order.shuffle(batch)
        for case in batch:
            if round_number < warmup:
                case.prepare()
                case.run()
            else:
                case.measure()


class Part:
    """One part of the benchmark on one plugin root: it sets up its repositories and sessions and
    makes its cases, which run interleaved with every other part's, then checks what they did."""

    name: ClassVar[str] = ""  # as --only calls it

    def __init__(self, bench: Bench) -> None:
        self.bench = bench
        self.cases: list[Case] = []

    def set_up(self) -> list[Case]:
        raise NotImplementedError

    def ready(self) -> None:
        """Wait for what the set-up left running, once every part has been set up."""

    def check(self, rounds: int, warmup: int) -> None:
        """Notes on runs that did not do what their case is about (a fast hook may have failed)."""

    def close(self) -> None:
        """Stop what the part started beside the bench's stand-in processes."""


class Bench:
    """The repositories, the peers and the parts; `close()` ends them and removes it all."""

    def __init__(
        self,
        *,
        python: str | None = None,
        root: Path = ROOT,
        unset: tuple[str, ...] = (),
        venv: bool = False,
    ) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="huddle-bench-"))
        self.processes: list[subprocess.Popen[bytes]] = []
        self.data = self.tmp / "plugin-data"
        self.data.mkdir()  # Claude Code creates it the first time it is referenced
        self.root = root
        self.venv = venv
        self.base_env = {
            k: v
            for k, v in os.environ.items()
            if k not in _DROP and k not in unset and not k.startswith("GIT_")
        }
        self.base_env["GIT_CONFIG_NOSYSTEM"] = "1"
        if python:
            # Both the floor and the launcher find `python3` on PATH: put the chosen one first.
            shim = self.tmp / "python-bin"
            shim.mkdir()
            (shim / "python3").symlink_to(Path(python).resolve())
            self.base_env["PATH"] = f"{shim}{os.pathsep}{self.base_env.get('PATH', '')}"
        self.notes: list[str] = []
        self.parts: list[Part] = []

    # -- setup -------------------------------------------------------------------------------

    def stand_in(self) -> int:
        """A real process to stand for a Claude Code process (a session's CLAUDE_PID)."""
        proc = subprocess.Popen(["sleep", "3600"], stdin=subprocess.DEVNULL)
        self.processes.append(proc)
        return proc.pid

    def hook_env(self, session_id: str, pid: int) -> dict[str, str]:
        return {
            **self.base_env,
            "CLAUDE_PLUGIN_ROOT": str(self.root),
            "CLAUDE_PLUGIN_DATA": str(self.data),
            "CLAUDE_PID": str(pid),
            "CLAUDE_CODE_SESSION_ID": session_id,
            "HUDDLE_NO_BOOTSTRAP": "1",
        }

    def hook_argv(self, event: str) -> list[str]:
        """What hooks.json runs for `event`: tests.helpers.hook_command, for any plugin root."""
        if self.root == ROOT:
            return hook_command(event)
        config = json.loads((self.root / "hooks" / "hooks.json").read_text())
        handler = config["hooks"][event][0]["hooks"][0]
        argv = [handler["command"], *handler.get("args", [])]
        return [part.replace("${CLAUDE_PLUGIN_ROOT}", str(self.root)) for part in argv]

    def start_session(self, cwd: Path) -> tuple[str, int, str]:
        """A new session in `cwd`, registered by its SessionStart hook: its id, its stand-in's
        pid and what the hook printed."""
        session_id, pid = new_session_id(), self.stand_in()
        data = sample("SessionStart-startup", session_id, cwd)
        return session_id, pid, self.hook("SessionStart", data, session_id, pid)

    def check_digest(self, where: str, digest: str, peers: int) -> None:
        """A note unless the SessionStart run that printed `digest` told of `peers` live peers."""
        text = digest_text(digest)
        if peers and not text.startswith(f"huddle: {peers} other"):
            self.notes.append(
                f"{where}: the measured session was not told of {peers} live peers; its digest "
                f"began {text[:60]!r}"
            )

    def cli_env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """The environment `bin/huddle` runs in during set-up."""
        env = {
            **self.base_env,
            "CLAUDE_PLUGIN_DATA": str(self.data),
            # The CLI would otherwise write bytecode into the plugin's src/ (this checkout).
            "PYTHONPYCACHEPREFIX": str(self.tmp / "cli-pycache"),
            **(extra or {}),
        }
        # With a prefix and no bytecode written, every call would compile huddle's modules and
        # the standard library's afresh (some 0.3 s of CPU each).
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        python = cli_python()
        if python:
            # `huddle lock` needs filelock, which python3 may lack and a --venv's bare
            # interpreter does.
            env["HUDDLE_PYTHON"] = python
        return env

    def huddle(self, args: list[str], cwd: Path, extra: dict[str, str] | None = None) -> str:
        """Run `bin/huddle ARGS` as set-up; its output, or RuntimeError if it fails."""
        done = subprocess.run(
            [str(self.root / "bin" / "huddle"), *args],
            cwd=cwd,
            env=self.cli_env(extra),
            capture_output=True,
            text=True,
            timeout=60,
        )
        if done.returncode != 0:
            raise RuntimeError(f"huddle {' '.join(args)} failed in {cwd}: {done.stderr.strip()}")
        return done.stdout

    def build_repo(self, name: str, branch: str, keys: Sequence[str] = ()) -> tuple[Path, Path]:
        """An enabled repository with a linked worktree on `branch`, whose files `keys` are
        committed, so that both worktrees have them."""
        main = make_repo(self.tmp / name)
        for key in keys:
            path = main / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"# {key}\n")
        if keys:
            git(main, "add", "-A")
            git(main, "commit", "-q", "-m", "files")
        worktree = add_worktree(main, self.tmp / f"{name}-wt", branch)
        self.huddle(["enable"], main)
        return main, worktree

    def hook(self, event: str, data: dict[str, Any], session_id: str, pid: int) -> str:
        """Run one hook as set-up; its output, or RuntimeError if it fails."""
        done = subprocess.run(
            self.hook_argv(event),
            input=json.dumps(data).encode(),
            cwd=data["cwd"],
            env=self.hook_env(session_id, pid),
            capture_output=True,
            timeout=60,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{event} failed in {data['cwd']}: {done.stderr.decode()}")
        return done.stdout.decode()

    def write(self, session_id: str, pid: int, worktree: Path, key: str) -> None:
        """What the Write tool does to `key`, then its PostToolUse hook (which takes the lease)."""
        path = worktree / key
        before = path.read_text()
        content = f"# {key}, rewritten by session {session_id[:8]}\n"
        path.write_text(content)
        data = sample("PostToolUse-Write", session_id, worktree)
        data["tool_input"] = {"file_path": str(path), "content": content}
        data["tool_response"].update(
            type="update", filePath=str(path), content=content, originalFile=before
        )
        self.hook("PostToolUse", data, session_id, pid)

    def lock(self, session_id: str, pid: int, cwd: Path, pattern: str, number: int) -> None:
        self.huddle(
            ["lock", pattern, "--reason", f"benchmark lock {number}"],
            cwd,
            as_session(session_id, pid),
        )

    def ensure_venv(self) -> None:
        if self.venv and not (self.data / "venv").exists():
            # What the launcher runs once the first SessionStart has built the plugin's venv;
            # the hot path needs none of its packages, so a bare one starts up the same way.
            subprocess.run(
                ["python3", "-m", "venv", "--without-pip", str(self.data / "venv")],
                env=self.cli_env(),
                check=True,
                capture_output=True,
                timeout=120,
            )

    def floor_case(self, payload: bytes, cwd: Path, env: dict[str, str]) -> Case:
        return Case(
            "floor: python3 -c json", "floor", ["python3", "-c", FLOOR_CODE], payload, cwd, env
        )

    # -- teardown ----------------------------------------------------------------------------

    def log_lines(self) -> list[str]:
        try:
            text = (self.data / "huddle.log").read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return []
        return text.splitlines()

    def pyc_count(self) -> int:
        cache = self.data / "pycache"
        return sum(1 for _ in cache.rglob("*.pyc")) if cache.is_dir() else 0

    def close(self) -> None:
        for part in self.parts:
            part.close()
        for proc in self.processes:
            proc.kill()
        for proc in self.processes:
            proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)


def cli_python() -> str | None:
    """An interpreter for `bin/huddle` during set-up: this one, when it has the CLI's filelock."""
    return sys.executable if importlib.util.find_spec("filelock") else None


def as_session(session_id: str, pid: int) -> dict[str, str]:
    """What `bin/huddle` needs in its environment to speak as a session."""
    return {"CLAUDE_CODE_SESSION_ID": session_id, "CLAUDE_PID": str(pid)}


def lease_keys(count: int) -> list[str]:
    """`count` distinct files, spread over ten folders."""
    return [f"src/pkg{j % 10:02d}/mod_{j:03d}.py" for j in range(count)]


def digest_text(output: str) -> str:
    """What a SessionStart hook run told the session (nothing, if it printed nothing)."""
    return json.loads(output)["hookSpecificOutput"]["additionalContext"] if output.strip() else ""


def python_facts(env: dict[str, str], venv: bool) -> dict[str, Any]:
    """Which interpreter the floor and the launcher start, and what decides their start-up."""
    found = shutil.which("python3", path=env.get("PATH"))
    facts: dict[str, Any] = {"python3": found, "real": None, "is_script": False, "version": None}
    if found:
        facts["real"] = os.path.realpath(found)
        try:
            with open(facts["real"], "rb") as handle:
                facts["is_script"] = handle.read(2) == b"#!"
        except OSError:
            pass
        done = subprocess.run(
            ["python3", "-c", "import sys; print(sys.version.split()[0])"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        facts["version"] = done.stdout.strip()
    facts["hooks_run"] = "<plugin data>/venv/bin/python" if venv else "python3"
    facts["PYTHONDONTWRITEBYTECODE"] = env.get("PYTHONDONTWRITEBYTECODE", "")
    return facts


def plugin_facts(bench: Bench) -> dict[str, Any]:
    described = subprocess.run(
        ["git", "-C", str(bench.root), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return {
        "root": str(bench.root),
        "commit": described.stdout.strip() or None,
        "pyc_files_in_plugin_data": bench.pyc_count(),
        "notes": bench.notes,
        "log": bench.log_lines()[-10:],
    }


def machine_facts() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
