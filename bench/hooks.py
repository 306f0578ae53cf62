"""How much a huddle hook costs, against the cost of starting Python and reading the event.

Runs the hooks exactly as Claude Code does (the argv from hooks/hooks.json: `sh <root>/hooks/run
<Event>`, the event JSON on stdin, the session's directory as cwd, CLAUDE_PLUGIN_ROOT,
CLAUDE_PLUGIN_DATA, CLAUDE_PID and CLAUDE_CODE_SESSION_ID added to this process's environment) in
a temporary git repository with a linked worktree, huddle enabled, and live peers whose
CLAUDE_PID are real processes. The floor is `python3 -c` reading the same event as JSON and
printing "{}". All cases run interleaved, in a shuffled order each round, so that machine noise
hits them alike. Wall time decides PASS/FAIL; CPU time (user+sys of the process tree) is shown
beside it because it is much less disturbed by other load on the machine.

The lease scenario (issue 3) adds a repository where 64 live peers hold 200 leases and 5 locks,
all made by real hook runs and `huddle lock`, and one where a single peer holds a single lease:
PreToolUse in the first must cost no more than 1.2x the same in the second (bench/README.md).

The message scenario (issue 4) adds a repository whose history holds 10,000 notes and messages,
all delivered to the measured session: UserPromptSubmit with nothing new must stay within 2.0x
the floor, and with 5 new messages waiting (sent afresh before each run, outside the timing)
within 8x.

The restore scenario adds a repository where a session holding 50 locks, 10 file leases and 20
of the 100 tasks on the board, with 16 live peers and 5 messages received since its previous
compaction, is compacted: SessionStart (source "compact"), which restores all that, must stay
within 8x the floor.

    python bench/hooks.py            # 40 rounds, prints a table
    python bench/hooks.py --quick    # 8 rounds, a lease scenario of 16 peers and 50 leases,
                                     # a history of 2,000 notes and messages
    python bench/hooks.py --json     # the figures as one JSON object instead of the table
    python bench/hooks.py --help     # variants: --python, --venv, --unset, --plugin-root, --only

It is a measurement, not a test: the exit code is 0 whatever the figures (2 on a usage error).
Standard library only (bench/mailer.py, which writes the notes and messages, runs the plugin's
own code in a process of its own).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers import (  # noqa: E402 - needs ROOT on sys.path
    add_worktree,
    git,
    hook_command,
    make_repo,
    new_session_id,
    sample,
)

FLOOR_CODE = 'import json,sys; json.load(sys.stdin); print("{}")'
HOT_PATH_LIMIT = 2.0  # x floor, with the peers live
NOT_ENABLED_LIMIT = 0.5  # x floor
SESSION_END_BUDGET_MS = 1500.0  # Claude Code gives all SessionEnd hooks 1.5 s together
DEFAULT_ROUNDS = 40
QUICK_ROUNDS = 8
DEFAULT_PEERS = 8

# The lease scenario (issue 3): many live peers holding many soft leases, plus a few locks.
LEASE_PEERS = 64
LEASE_COUNT = 200
# --quick (which the tests run) sets up a smaller crowd: registering 64 peers and taking 200
# leases through real hook runs costs some 10 s of CPU.
QUICK_LEASE_PEERS = 16
QUICK_LEASE_COUNT = 50
SCALE_LIMIT = 1.2  # x the same hook in a repository with 1 live peer holding 1 lease
EXACT_LOCKS = 4  # files locked by name, by as many peers; plus one glob:
GLOB_LOCK = "docs/*.md"
DOC_FILES = ("docs/guide.md", "docs/api.md")
FREE_FILE = "src/pkg00/free.py"  # the measured edit's file: nobody leases or locks it
EDIT_FREE = "PreToolUse Edit, no conflict"
EDIT_LEASED = "PreToolUse Edit, peer's lease"
EDIT_LOCKED = "PreToolUse Edit, peer's lock"
BASH_PLAIN = "PreToolUse Bash `ls -la`"
BASH_STATUS = "PreToolUse Bash `git status`"
BASH_STASH = "PreToolUse Bash `git stash`"
PROMPT_PEERS = "UserPromptSubmit, nothing new"  # also looks for peers that died

# The message scenario (issue 4): a long history of notes and messages, all delivered.
HISTORY_ITEMS = 10_000
QUICK_HISTORY_ITEMS = 2_000  # --quick: writing 10,000 takes some 10 s of disk time
HISTORY_DAYS = 6  # spread over; the default history_days (7) keeps them all
NOTES_EVERY = 5  # one item in five is a note, the others messages to the measured session
MESSAGE_PEERS = 4
NEW_MESSAGES = 5
NOTHING_NEW_LIMIT = 2.0  # x floor
NEW_MESSAGES_LIMIT = 8.0  # x floor
PROMPT_NOTHING_NEW = "UserPromptSubmit, nothing new"
PROMPT_NEW = f"UserPromptSubmit, {NEW_MESSAGES} new messages"
START_WITH_HISTORY = "SessionStart (startup)"

# The restore scenario: SessionStart after compaction, for a session that holds much.
RESTORE_PEERS = 16
RESTORE_LOCKS = 50
RESTORE_LEASES = 10  # files it edited, besides the ones it locked
RESTORE_TASKS = 100  # on the board
RESTORE_CLAIMED = 20  # of them claimed by the measured session
RESTORE_RECEIVED = 5  # messages shown to it since its previous compaction
RESTORE_LIMIT = 8.0  # x floor
RESTORE_BUDGET = 2500  # characters of its own state and its peers together (restore.BUDGET)
RESTORE_HOLDING = "SessionStart (compact), holding"
RESTORE_NOTHING = "SessionStart (compact), nothing"

SCENARIOS = ("leases", "messages", "restore")  # groups whose rows are reported apart
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
    group: str  # floor, hot, info, end, off; or a scenario's (SCENARIOS)
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


class Bench:
    """The repositories, the peers and the cases; `close()` ends the peers and removes it all."""

    def __init__(
        self,
        peers: int,
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
        self.peer_count = peers
        self.notes: list[str] = []
        self.scenario: LeaseScenario | None = None
        self.mail: MessageScenario | None = None
        self.restore: RestoreScenario | None = None

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
        session_id, pid = new_session_id(), self.stand_in()
        payload = json.dumps(sample("SessionStart-startup", session_id, cwd)).encode()
        done = subprocess.run(
            self.hook_argv("SessionStart"),
            input=payload,
            cwd=cwd,
            env=self.hook_env(session_id, pid),
            capture_output=True,
            timeout=60,
        )
        if done.returncode != 0:
            raise RuntimeError(f"SessionStart failed in {cwd}: {done.stderr.decode()}")
        return session_id, pid, done.stdout.decode()

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

    def build_repo(self, name: str, branch: str, keys: list[str]) -> tuple[Path, Path]:
        """An enabled repository with a linked worktree on `branch`, whose files `keys` are
        committed, so that both worktrees have them."""
        main = make_repo(self.tmp / name)
        for key in keys:
            path = main / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"# {key}\n")
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

    def set_up(self) -> list[Case]:
        main = make_repo(self.tmp / "shop")
        worktree = add_worktree(main, self.tmp / "shop-ui", "ui/fixes")
        self.huddle(["enable"], main)
        self.ensure_venv()
        for index in range(self.peer_count):
            self.start_session(main if index % 2 == 0 else worktree)
        me, my_pid, digest = self.start_session(worktree)
        self._check_digest(digest)

        off = make_repo(self.tmp / "plain")
        off_worktree = add_worktree(off, self.tmp / "plain-wt", "feature")

        on_env = self.hook_env(me, my_pid)
        off_env = self.hook_env(new_session_id(), my_pid)
        off_id = off_env["CLAUDE_CODE_SESSION_ID"]

        def case(
            name: str,
            group: str,
            event: str,
            sample_name: str,
            cwd: Path,
            session_id: str,
            env: dict[str, str],
        ) -> Case:
            payload = json.dumps(sample(sample_name, session_id, cwd)).encode()
            return Case(name, group, self.hook_argv(event), payload, cwd, env)

        pre_edit = json.dumps(sample("PreToolUse-Edit", me, worktree)).encode()
        cases = [self.floor_case(pre_edit, worktree, on_env)]
        # For comparison: the least any Python hook can cost, on the interpreter the launcher
        # actually starts (SessionStart recorded it) and without `site`, as the launcher runs.
        remembered = self.data / "python"
        if remembered.exists() and not self.venv:
            bare = remembered.read_text(encoding="utf-8").strip()
            cases.append(
                Case(
                    "bare: real python -S -c json",
                    "info",
                    [bare, "-S", "-c", FLOOR_CODE],
                    pre_edit,
                    worktree,
                    on_env,
                )
            )
        for name, group, event, sample_name in (
            ("PreToolUse Edit", "hot", "PreToolUse", "PreToolUse-Edit"),
            ("PostToolUse Edit", "hot", "PostToolUse", "PostToolUse-Edit"),
            ("UserPromptSubmit", "hot", "UserPromptSubmit", "UserPromptSubmit"),
            ("PreToolUse Bash", "info", "PreToolUse", "PreToolUse-Bash"),
            ("Stop", "info", "Stop", "Stop"),
            ("SessionStart (startup)", "info", "SessionStart", "SessionStart-startup"),
            ("SessionEnd", "end", "SessionEnd", "SessionEnd-other"),
        ):
            cases.append(case(name, group, event, sample_name, worktree, me, on_env))
        for name, event, sample_name in (
            ("PreToolUse Edit", "PreToolUse", "PreToolUse-Edit"),
            ("PostToolUse Edit", "PostToolUse", "PostToolUse-Edit"),
            ("UserPromptSubmit", "UserPromptSubmit", "UserPromptSubmit"),
        ):
            cases.append(case(name, "off", event, sample_name, off_worktree, off_id, off_env))
        return cases

    def _check_digest(self, digest: str) -> None:
        wanted = f"huddle: {self.peer_count} other"
        text = ""
        if digest.strip():
            text = json.loads(digest)["hookSpecificOutput"]["additionalContext"]
        if self.peer_count and not text.startswith(wanted):
            self.notes.append(
                f"setup: the measured session was not told of {self.peer_count} "
                f"live peers; its digest began {text[:60]!r}"
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
        if self.mail is not None:
            self.mail.close()
        for proc in self.processes:
            proc.kill()
        for proc in self.processes:
            proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)


def cli_python() -> str | None:
    """An interpreter for `bin/huddle` during set-up: this one, when it has the CLI's filelock."""
    import importlib.util

    return sys.executable if importlib.util.find_spec("filelock") else None


def as_session(session_id: str, pid: int) -> dict[str, str]:
    """What `bin/huddle` needs in its environment to speak as a session."""
    return {"CLAUDE_CODE_SESSION_ID": session_id, "CLAUDE_PID": str(pid)}


def lease_keys(count: int) -> list[str]:
    """`count` distinct files, spread over ten folders."""
    return [f"src/pkg{j % 10:02d}/mod_{j:03d}.py" for j in range(count)]


class LeaseScenario:
    """Issue 3's benchmark: a repository with many live peers holding many leases and a few locks,
    and one with a single live peer holding a single lease, each with a session to measure.

    Everything on disk is made by the product: peers register with real SessionStart hook runs
    (real stand-in processes as CLAUDE_PID), take their leases with real PostToolUse Write hook
    runs on distinct files of their own worktree (the main checkout or a linked one), and lock
    with `bin/huddle lock`. Peers set up in parallel, as live sessions would.
    """

    def __init__(self, bench: Bench, peers: int, leases: int) -> None:
        self.bench = bench
        self.peer_count = peers
        self.lease_count = leases
        self.layout: dict[str, Any] = {}
        self.leases_taken = 0.0  # time.time() when the last lease was taken

    # -- building blocks ---------------------------------------------------------------------

    def build_repo(self, name: str, branch: str) -> tuple[Path, Path]:
        return self.bench.build_repo(
            name, branch, [*lease_keys(self.lease_count), FREE_FILE, *DOC_FILES]
        )

    def lonely(self, first_key: str) -> tuple[Path, Path]:
        """The repository with a single live peer, in the linked worktree, holding one lease."""
        main, worktree = self.build_repo("one", "feature/one")
        self.peer(worktree, [first_key])
        return main, worktree

    def peer(self, cwd: Path, keys: list[str]) -> tuple[str, int]:
        session_id, pid, _ = self.bench.start_session(cwd)
        for key in keys:
            self.bench.write(session_id, pid, cwd, key)
        return session_id, pid

    def survey(self, main: Path, cwd: Path, me: str, my_pid: int) -> dict[str, Any]:
        """What the product now holds: live sessions and their locks (as `huddle sessions`
        says), and lease files."""
        listed = json.loads(self.bench.huddle(["sessions", "--json"], cwd, as_session(me, my_pid)))
        locks = [lock for s in listed if s["live"] for lock in s["locks"]]
        worktrees: dict[str, int] = {}
        files = sorted((main / ".claude" / "sessions" / "leases").glob("*/*.json"))
        for path in files:
            where = json.loads(path.read_text())["worktree"]
            label = "main checkout" if Path(where) == main else "linked worktree"
            worktrees[label] = worktrees.get(label, 0) + 1
        return {
            "live_peers": sum(1 for s in listed if s["live"] and not s["current"]),
            "leases": len(files),
            "leased_files": len({path.parent.name for path in files}),
            "leases_by_worktree": worktrees,
            "locks": len(locks),
            "glob_locks": sum(1 for lock in locks if "*" in lock["pattern"]),
        }

    # -- the scenario ------------------------------------------------------------------------

    def set_up(self) -> list[Case]:
        started = time.perf_counter()
        bench = self.bench
        keys = lease_keys(self.lease_count)
        many, many_wt = self.build_repo("many", "feature/many")
        bench.ensure_venv()
        homes = [many if i % 2 == 0 else many_wt for i in range(self.peer_count)]
        shares = [keys[i :: self.peer_count] for i in range(self.peer_count)]
        # A few peers lock one of the files they edit, and one locks a glob of other files.
        lockers = [i for i in range(self.peer_count) if shares[i]][-EXACT_LOCKS:]
        jobs = [(i, shares[i][0]) for i in lockers] + [(0, GLOB_LOCK)]
        locked = [key for _, key in jobs if key != GLOB_LOCK]

        def lock(number: int, job: tuple[int, str]) -> None:
            index, pattern = job
            session_id, pid = peers[index]
            bench.lock(session_id, pid, homes[index], pattern, number)

        with ThreadPoolExecutor(SETUP_WORKERS) as pool:
            alone = pool.submit(self.lonely, keys[0])
            peers = list(pool.map(self.peer, homes, shares))
            list(pool.map(lock, range(1, len(jobs) + 1), jobs))
            one, one_wt = alone.result()
        self.leases_taken = time.time()

        # The measured sessions start last, so that the first one is told of every peer.
        with ThreadPoolExecutor(2) as pool:
            starts = pool.map(bench.start_session, (many_wt, one_wt))
            (me, my_pid, digest), (solo, solo_pid, _) = starts
            surveys = pool.map(
                self.survey, (many, one), (many_wt, one_wt), (me, solo), (my_pid, solo_pid)
            )
            self.layout = dict(zip(("many", "one"), surveys))
        self.layout["setup_s"] = round(time.perf_counter() - started, 1)
        text = json.loads(digest)["hookSpecificOutput"]["additionalContext"] if digest else ""
        if not text.startswith(f"huddle: {self.peer_count} other"):
            bench.notes.append(
                f"lease scenario: the measured session was not told of {self.peer_count} live "
                f"peers; its digest began {text[:60]!r}"
            )
        expected = {"live_peers": self.peer_count, "leases": self.lease_count, "locks": len(jobs)}
        for label, want in (("many", expected), ("one", {"live_peers": 1, "leases": 1})):
            for what, count in want.items():
                if self.layout[label][what] != count:
                    bench.notes.append(
                        f"lease scenario: {self.layout[label][what]} {what} in the "
                        f"{label}-peer repository, not {count}"
                    )

        def edit(session_id: str, cwd: Path, key: str) -> bytes:
            data = sample("PreToolUse-Edit", session_id, cwd)
            data["tool_input"]["file_path"] = str(cwd / key)
            return json.dumps(data).encode()

        def bash(session_id: str, cwd: Path, command: str) -> bytes:
            data = sample("PreToolUse-Bash", session_id, cwd)
            data["tool_input"] = {"command": command, "description": "benchmark"}
            return json.dumps(data).encode()

        argv = bench.hook_argv("PreToolUse")
        cases = []
        for name, expect, make in (
            (EDIT_FREE, False, lambda sid, cwd: edit(sid, cwd, FREE_FILE)),
            (BASH_PLAIN, False, lambda sid, cwd: bash(sid, cwd, "ls -la")),
            (BASH_STATUS, False, lambda sid, cwd: bash(sid, cwd, "git status")),
            (BASH_STASH, True, lambda sid, cwd: bash(sid, cwd, "git stash")),
        ):
            for session_id, pid, cwd, count in (
                (me, my_pid, many_wt, self.peer_count),
                (solo, solo_pid, one_wt, 1),
            ):
                cases.append(
                    Case(
                        name,
                        "leases",
                        argv,
                        make(session_id, cwd),
                        cwd,
                        bench.hook_env(session_id, pid),
                        peers=count,
                        expect_output=expect,
                    )
                )
        prompt_argv = bench.hook_argv("UserPromptSubmit")
        for session_id, pid, cwd, count in (
            (me, my_pid, many_wt, self.peer_count),
            (solo, solo_pid, one_wt, 1),
        ):
            cases.append(
                Case(
                    PROMPT_PEERS,
                    "leases",
                    prompt_argv,
                    json.dumps(sample("UserPromptSubmit", session_id, cwd)).encode(),
                    cwd,
                    bench.hook_env(session_id, pid),
                    peers=count,
                    expect_output=False,
                )
            )
        # The warning is shown at most once per file and peer in a while: a different leased
        # file on each run, so that every run takes the warning path.
        held = [key for key in keys if key not in locked]
        random.Random(2).shuffle(held)
        env = bench.hook_env(me, my_pid)
        cases.append(
            Case(
                EDIT_LEASED,
                "leases",
                argv,
                b"",
                many_wt,
                env,
                peers=self.peer_count,
                expect_output=True,
                payloads=[edit(me, many_wt, key) for key in held],
            )
        )
        cases.append(
            Case(
                EDIT_LOCKED,
                "leases",
                argv,
                edit(me, many_wt, locked[0]),
                many_wt,
                env,
                peers=self.peer_count,
                expect_output=True,
            )
        )
        return cases

    def check(self, cases: list[Case], rounds: int, warmup: int) -> None:
        """Notes on runs that did not do what the case is about (a fast hook may have failed)."""
        notes = self.bench.notes
        for case in cases:
            label = f"lease scenario, {case.name} with {case.peers} peer(s)"
            notes += case.output_notes(label, rounds)
            if case.payloads and warmup + rounds > len(case.payloads):
                notes.append(
                    f"{label}: {warmup + rounds} runs over {len(case.payloads)} files;"
                    " repeated warnings are not shown again, so some runs did not warn"
                )
        elapsed = time.time() - self.leases_taken
        if elapsed > 600:
            notes.append(
                f"lease scenario: measuring ended {elapsed:.0f} s after the leases were "
                "taken; with the default lease_ttl (600 s) they had expired"
            )


class MessageScenario:
    """Issue 4's benchmark: UserPromptSubmit of a session whose repository's history holds
    10,000 notes and messages, every one of them delivered to it, with nothing new and with
    5 new messages waiting.

    A repository with a linked worktree, MESSAGE_PEERS live peers registered by real SessionStart
    hook runs, and the measured session started last, in the linked worktree. bench/mailer.py
    (the plugin's own `huddle.messages.send`/`note`, in a process of its own) then sends the
    history from the peers and a person at a terminal in turn, spread over HISTORY_DAYS days,
    and claims each item for the measured session as its hooks would: they sit in its inbox's
    `cur/` as delivered, and in the repository's `history/` folders. Before each run of the
    "new messages" case the mailer sends NEW_MESSAGES fresh ones (outside the timing), which the
    hook then shows and claims.
    """

    def __init__(self, bench: Bench, items: int) -> None:
        self.bench = bench
        self.items = items
        self.layout: dict[str, Any] = {}
        self.state = Path()
        self.me = ""
        self.mailer: subprocess.Popen[str] | None = None
        self.unclaimed = 0  # runs after which some of the fresh messages were still waiting
        self.started = 0.0

    def ask(self, command: dict[str, Any]) -> dict[str, Any]:
        """One command to the mailer, and its answer; RuntimeError if it failed."""
        self.tell(command)
        return self.answer()

    def tell(self, command: dict[str, Any]) -> None:
        assert self.mailer is not None and self.mailer.stdin
        self.mailer.stdin.write(json.dumps(command) + "\n")
        self.mailer.stdin.flush()

    def answer(self) -> dict[str, Any]:
        assert self.mailer is not None and self.mailer.stdout
        line = self.mailer.stdout.readline()
        if not line:
            raise RuntimeError(f"bench/mailer.py stopped (exit code {self.mailer.wait()})")
        answer: dict[str, Any] = json.loads(line)
        if not answer.get("ok"):
            raise RuntimeError(f"bench/mailer.py: {answer.get('error')}")
        return answer

    def fresh(self) -> None:
        answer = self.ask({"op": "fresh", "to": self.me, "count": NEW_MESSAGES})
        if answer["waiting"] != NEW_MESSAGES:
            self.unclaimed += 1

    def survey(self) -> dict[str, Any]:
        """What is on disk: the measured session's inbox and the history, file by file."""
        inbox = self.state / "mail" / self.me

        def count(folder: Path) -> int:
            return sum(1 for p in folder.glob("*.json")) if folder.is_dir() else 0

        folder = self.state / "history"
        days = sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
        return {
            "delivered": count(inbox / "cur"),
            "waiting": count(inbox / "new"),
            "history": sum(count(day) for day in days),
            "history_days": len(days),
        }

    def set_up(self) -> list[Case]:
        """Register the sessions and start writing the history; `ready()` waits for it, so the
        other scenarios can set up meanwhile (writing is disk-bound, they are CPU-bound)."""
        self.started = time.perf_counter()
        bench = self.bench
        main = make_repo(bench.tmp / "inbox")
        worktree = add_worktree(main, bench.tmp / "inbox-wt", "feature/inbox")
        bench.huddle(["enable"], main)
        # The fresh messages come faster than the default send_rate (20 a minute) allows.
        bench.huddle(["config", "send_rate", "100000"], main)
        bench.ensure_venv()
        with ThreadPoolExecutor(MESSAGE_PEERS) as pool:
            homes = [main if i % 2 == 0 else worktree for i in range(MESSAGE_PEERS)]
            list(pool.map(bench.start_session, homes))
        self.me, my_pid, _ = bench.start_session(worktree)
        self.state = main / ".claude" / "sessions"
        self.mailer = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "mailer.py"), str(bench.root), str(self.state)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=bench.cli_env(),
            text=True,
        )
        self.tell(
            {
                "op": "history",
                "to": self.me,
                "count": self.items,
                "days": HISTORY_DAYS,
                "notes_every": NOTES_EVERY,
            }
        )
        env = bench.hook_env(self.me, my_pid)
        prompt = json.dumps(sample("UserPromptSubmit", self.me, worktree)).encode()
        start = json.dumps(sample("SessionStart-startup", self.me, worktree)).encode()
        return [
            Case(
                PROMPT_NOTHING_NEW,
                "messages",
                bench.hook_argv("UserPromptSubmit"),
                prompt,
                worktree,
                env,
            ),
            Case(
                PROMPT_NEW,
                "messages",
                bench.hook_argv("UserPromptSubmit"),
                prompt,
                worktree,
                env,
                expect_output=True,
                before=self.fresh,
                expect_text=f"huddle: {NEW_MESSAGES} new items".encode(),
            ),
            Case(
                START_WITH_HISTORY,
                "messages",
                bench.hook_argv("SessionStart"),
                start,
                worktree,
                env,
                expect_output=True,
            ),
        ]

    def ready(self) -> None:
        """Wait until the history is written, and check it on disk."""
        self.answer()
        self.layout = self.survey()
        self.layout["peers"] = MESSAGE_PEERS
        self.layout["days"] = HISTORY_DAYS
        self.layout["notes"] = self.items // NOTES_EVERY
        self.layout["setup_s"] = round(time.perf_counter() - self.started, 1)
        want = {"delivered": self.items, "waiting": 0, "history": self.items}
        for what, number in want.items():
            if self.layout[what] != number:
                self.bench.notes.append(
                    f"message scenario: {self.layout[what]} {what} on disk, not {number}"
                )

    def check(self, cases: list[Case], rounds: int) -> None:
        """Notes on runs that did not do what the case is about (a fast hook may have failed)."""
        notes = self.bench.notes
        for case in cases:
            label = f"message scenario, {case.name}"
            notes += case.output_notes(label, rounds)
            if case.wrong:
                notes.append(f"{label}: {case.wrong} runs did not show all {NEW_MESSAGES}")
        if self.unclaimed:
            notes.append(
                f"message scenario: {self.unclaimed} times, fresh messages sent before a run "
                "were still waiting afterwards"
            )
        waiting = self.survey()["waiting"]
        if waiting:
            notes.append(f"message scenario: {waiting} messages were left waiting at the end")

    def close(self) -> None:
        if self.mailer is not None:
            if self.mailer.stdin:
                self.mailer.stdin.close()
            try:
                self.mailer.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.mailer.kill()
                self.mailer.wait()
            if self.mailer.stdout:
                self.mailer.stdout.close()
            self.mailer = None


class RestoreScenario:
    """SessionStart after compaction (source "compact") of a session that holds much: its
    coordination state is read back and restored, with its live peers, within one budget.

    A repository with a linked worktree and RESTORE_PEERS live peers, half in each, registered
    by real SessionStart hook runs. The measured session, in the linked worktree, locks
    RESTORE_LOCKS files with `bin/huddle lock`, edits RESTORE_LEASES others (real PostToolUse
    Write hook runs: soft leases) and claims RESTORE_CLAIMED of the RESTORE_TASKS tasks the
    peers put on the board (`huddle task add`, `huddle task claim`); RESTORE_RECEIVED messages
    from peers (`huddle send`) are shown to it by a real UserPromptSubmit hook run. A second
    session in the main checkout holds nothing and received nothing: its compaction is the
    same hook with nothing to restore.

    Every compaction marks the time it happened, and the next one repeats only what was
    received after it; before each run (outside the timing) the measured session's record is
    set back to its state before the messages were shown, so every run restores all of them.
    """

    def __init__(self, bench: Bench) -> None:
        self.bench = bench
        self.layout: dict[str, Any] = {}
        self.record = Path()
        self.since = 0.0  # before the messages were shown
        self.leased = 0.0  # when the last lease was taken

    def set_up(self) -> list[Case]:
        started = time.perf_counter()
        bench = self.bench
        keys = lease_keys(RESTORE_LOCKS + RESTORE_LEASES)
        main, worktree = bench.build_repo("restore", "feature/restore", keys)
        bench.ensure_venv()
        homes = [main if i % 2 == 0 else worktree for i in range(RESTORE_PEERS)]
        with ThreadPoolExecutor(SETUP_WORKERS) as pool:
            peers = list(pool.map(bench.start_session, homes))
            me, my_pid, _ = bench.start_session(worktree)
            idle, idle_pid, _ = bench.start_session(main)
            mine = as_session(me, my_pid)

            def lock(number: int, key: str) -> None:
                bench.lock(me, my_pid, worktree, key, number)

            def add(number: int) -> str:
                session_id, pid, _ = peers[number % RESTORE_PEERS]
                title = f"benchmark task {number}: move step {number} into the state machine"
                where = homes[number % RESTORE_PEERS]
                return bench.huddle(["task", "add", title], where, as_session(session_id, pid))

            list(pool.map(lock, range(1, RESTORE_LOCKS + 1), keys[:RESTORE_LOCKS]))
            for key in keys[RESTORE_LOCKS:]:
                bench.write(me, my_pid, worktree, key)
            self.leased = time.time()
            tasks = [out.strip() for out in pool.map(add, range(RESTORE_TASKS))]
            claim = tasks[:: RESTORE_TASKS // RESTORE_CLAIMED][:RESTORE_CLAIMED]
            list(pool.map(lambda t: bench.huddle(["task", "claim", t], worktree, mine), claim))
        for number, (session_id, pid, _) in enumerate(peers[:RESTORE_RECEIVED], 1):
            text = f"benchmark message {number}: the totals are rounded in money.py now"
            bench.huddle(["send", me[:8], text], main, as_session(session_id, pid))
        self.record = main / ".claude" / "sessions" / f"{me}.json"
        self.since = time.time()
        shown = bench.hook("UserPromptSubmit", sample("UserPromptSubmit", me, worktree), me, my_pid)
        probe = bench.hook("SessionStart", sample("SessionStart-compact", me, worktree), me, my_pid)
        self.rewind()
        self.layout = self.survey(main, worktree, mine, shown, probe)
        self.layout["setup_s"] = round(time.perf_counter() - started, 1)

        argv = bench.hook_argv("SessionStart")
        return [
            Case(
                RESTORE_HOLDING,
                "restore",
                argv,
                json.dumps(sample("SessionStart-compact", me, worktree)).encode(),
                worktree,
                bench.hook_env(me, my_pid),
                expect_output=True,
                before=self.rewind,
                expect_text=b"received since",
            ),
            Case(
                RESTORE_NOTHING,
                "restore",
                argv,
                json.dumps(sample("SessionStart-compact", idle, main)).encode(),
                main,
                bench.hook_env(idle, idle_pid),
                expect_output=True,
            ),
        ]

    def rewind(self) -> None:
        """Set the session's last compaction back to before it was shown the messages."""
        record = json.loads(self.record.read_text(encoding="utf-8"))
        record["context_since"] = self.since
        scratch = self.record.with_name(self.record.name + ".bench")
        scratch.write_text(json.dumps(record), encoding="utf-8")
        os.replace(scratch, self.record)

    def survey(
        self, main: Path, cwd: Path, mine: dict[str, str], shown: str, probe: str
    ) -> dict[str, Any]:
        """What the product now holds (as `huddle sessions` and `huddle task list` say), and
        what one compaction restored; a mismatch is a note."""
        bench = self.bench
        listed = json.loads(bench.huddle(["sessions", "--json"], cwd, mine))
        (me,) = [s for s in listed if s["current"]]
        tasks = json.loads(bench.huddle(["task", "list", "--json"], cwd, mine))
        leases = main / ".claude" / "sessions" / "leases"
        text = json.loads(probe)["hookSpecificOutput"]["additionalContext"] if probe else ""
        restored = text.split("\n\nhuddle: ", 2)
        inbox = main / ".claude" / "sessions" / "mail" / me["session_id"] / "cur"
        counted = re.search(
            r"^(?:  - and (\d+) earlier|- (\d+) messages or notes received)", text, re.M
        )
        layout = {
            "live_peers": sum(1 for s in listed if s["live"] and not s["current"]) - 1,
            "locks": len(me["locks"]),
            "leases": sum(1 for _ in leases.glob(f"*/{me['session_id']}.json")),
            "tasks": len(tasks),
            "claimed": sum(1 for t in tasks if t["mine"]),
            "received": sum(1 for _ in inbox.glob("*.json")),
            "repeated": len(re.findall(r"^  - message ", text, re.M)),
            "counted": int(next(n for n in counted.groups() if n)) if counted else 0,
            "restored_chars": len("\n\nhuddle: ".join(restored[:2])),
        }
        want = {
            "live_peers": RESTORE_PEERS,
            "locks": RESTORE_LOCKS,
            "leases": RESTORE_LEASES,
            "tasks": RESTORE_TASKS,
            "claimed": RESTORE_CLAIMED,
            "received": RESTORE_RECEIVED,
        }
        for what, count in want.items():
            if layout[what] != count:
                bench.notes.append(f"restore scenario: {layout[what]} {what}, not {count}")
        if layout["repeated"] + layout["counted"] != layout["received"]:
            bench.notes.append(
                f"restore scenario: of {layout['received']} messages received, the compaction "
                f"repeated {layout['repeated']} and counted {layout['counted']}"
            )
        if f"huddle: {RESTORE_RECEIVED} new items" not in shown:
            bench.notes.append("restore scenario: the messages were not shown at a prompt")
        for words in ("locks you hold", "files you are editing", "tasks you claimed"):
            if words not in text:
                bench.notes.append(f"restore scenario: the compaction did not say {words!r}")
        if layout["restored_chars"] > RESTORE_BUDGET:
            bench.notes.append(
                f"restore scenario: the restored state and the peers took "
                f"{layout['restored_chars']} characters, over {RESTORE_BUDGET}"
            )
        return layout

    def check(self, cases: list[Case], rounds: int) -> None:
        """Notes on runs that did not do what the case is about (a fast hook may have failed)."""
        for case in cases:
            label = f"restore scenario, {case.name}"
            self.bench.notes.extend(case.output_notes(label, rounds))
            if case.wrong:
                self.bench.notes.append(
                    f"{label}: {case.wrong} runs did not restore the messages received"
                )
        if time.time() - self.leased > 600:
            self.bench.notes.append(
                "restore scenario: measuring ended more than 600 s after the session's leases "
                "were taken; with the default lease_ttl they had expired"
            )


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


def summarize(
    cases: list[Case], benches: list[Bench], rounds: int, facts: dict[str, Any]
) -> dict[str, Any]:
    floor = statistics.median(cases[0].times)
    floor_cpu = statistics.median(cases[0].cpu)
    lease_cases = [case for case in cases if case.group == "leases"]
    message_cases = [case for case in cases if case.group == "messages"]
    restore_cases = [case for case in cases if case.group == "restore"]
    cases = [case for case in cases if case.group not in SCENARIOS]
    leases = summarize_leases(lease_cases, benches, floor, floor_cpu) if lease_cases else None
    mail = (
        summarize_messages(message_cases, cases, benches, floor, floor_cpu)
        if message_cases
        else None
    )
    restore = summarize_restore(restore_cases, benches, floor, floor_cpu) if restore_cases else None
    rows = []
    for case in cases:
        median = statistics.median(case.times)
        p90 = percentile(case.times, 0.9)
        ratio = median / floor
        if case.group == "hot":
            target, passed = f"<= {HOT_PATH_LIMIT}x floor", ratio <= HOT_PATH_LIMIT
        elif case.group == "off":
            target, passed = f"<= {NOT_ENABLED_LIMIT}x floor", ratio <= NOT_ENABLED_LIMIT
        elif case.group == "end":
            target, passed = f"p90 < {SESSION_END_BUDGET_MS:.0f} ms", p90 < SESSION_END_BUDGET_MS
        else:
            target, passed = "", None
        cpu = statistics.median(case.cpu)
        rows.append(
            {
                "case": case.name,
                "group": case.group,
                "plugin": case.plugin,
                "median_ms": round(median, 2),
                "p90_ms": round(p90, 2),
                "min_ms": round(min(case.times), 2),
                "ratio": round(ratio, 3),
                "cpu_median_ms": round(cpu, 2),
                "cpu_ratio": round(cpu / floor_cpu, 3) if floor_cpu else None,
                "target": target,
                "pass": passed,
                "failures": case.failures,
                "printed": case.outputs,
            }
        )
    return {
        "rounds": rounds,
        "peers": benches[0].peer_count,
        "floor_median_ms": round(floor, 2),
        "targets": {
            "hot_path_x_floor": HOT_PATH_LIMIT,
            "not_enabled_x_floor": NOT_ENABLED_LIMIT,
            "session_end_p90_ms": SESSION_END_BUDGET_MS,
        },
        "all_pass": all(row["pass"] is not False for row in rows)
        and (leases is None or leases["all_pass"])
        and (mail is None or mail["all_pass"])
        and (restore is None or restore["all_pass"]),
        "cases": rows,
        "leases": leases,
        "messages": mail,
        "restore": restore,
        "python": facts,
        "plugins": [plugin_facts(bench) for bench in benches],
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
        },
    }


def scenario_row(case: Case, floor: float, floor_cpu: float, own: dict[str, Any]) -> dict[str, Any]:
    """A scenario case's figures against the floor, with the scenario's `own` columns (its
    target and pass among them)."""
    median, cpu = statistics.median(case.times), statistics.median(case.cpu)
    return {
        "case": case.name,
        "group": case.group,
        "plugin": case.plugin,
        "median_ms": round(median, 2),
        "p90_ms": round(percentile(case.times, 0.9), 2),
        "min_ms": round(min(case.times), 2),
        "ratio": round(median / floor, 3),
        "cpu_median_ms": round(cpu, 2),
        "cpu_ratio": round(cpu / floor_cpu, 3) if floor_cpu else None,
        **own,
        "failures": case.failures,
        "printed": case.outputs,
        "prints": case.expect_output,
    }


def summarize_leases(
    cases: list[Case], benches: list[Bench], floor: float, floor_cpu: float
) -> dict[str, Any]:
    """The lease scenario's rows: each case with 64 peers and with 1, against the floor and
    each other."""
    medians = {(c.plugin, c.name, c.peers): statistics.median(c.times) for c in cases}
    cpus = {(c.plugin, c.name, c.peers): statistics.median(c.cpu) for c in cases}
    rows = []
    for case in cases:
        key = (case.plugin, case.name, case.peers)
        median, cpu = medians[key], cpus[key]
        ratio = median / floor
        alone = (case.plugin, case.name, 1)
        scale = median / medians[alone] if case.peers != 1 and alone in medians else None
        cpu_scale = cpu / cpus[alone] if scale is not None and cpus[alone] else None
        if case.name == EDIT_FREE and scale is not None:
            target = f"<= {HOT_PATH_LIMIT}x floor, <= {SCALE_LIMIT}x 1 peer"
            passed: bool | None = ratio <= HOT_PATH_LIMIT and scale <= SCALE_LIMIT
        elif case.name in (EDIT_FREE, BASH_PLAIN, PROMPT_PEERS):
            target, passed = f"<= {HOT_PATH_LIMIT}x floor", ratio <= HOT_PATH_LIMIT
        else:
            target, passed = "", None
        rows.append(
            scenario_row(
                case,
                floor,
                floor_cpu,
                {
                    "peers": case.peers,
                    "x_1_peer": round(scale, 3) if scale is not None else None,
                    "cpu_x_1_peer": round(cpu_scale, 3) if cpu_scale is not None else None,
                    "target": target,
                    "pass": passed,
                },
            )
        )
    scenarios = [bench.scenario for bench in benches if bench.scenario is not None]
    return {
        "peers": scenarios[0].peer_count,
        "leases": scenarios[0].lease_count,
        "locks": EXACT_LOCKS + 1,
        "targets": {"x_floor": HOT_PATH_LIMIT, "x_1_peer": SCALE_LIMIT},
        "layouts": [scenario.layout for scenario in scenarios],
        "all_pass": all(row["pass"] is not False for row in rows),
        "cases": rows,
    }


def summarize_messages(
    cases: list[Case], others: list[Case], benches: list[Bench], floor: float, floor_cpu: float
) -> dict[str, Any]:
    """The message scenario's rows, against the floor and against the same hook of the session
    in the first repository, whose history is empty (when that was measured too)."""
    empty = {}
    for case in others:
        base = case.name.split("] ", 1)[1] if case.name.startswith("[") else case.name
        if (case.group, base) in (("hot", "UserPromptSubmit"), ("info", "SessionStart (startup)")):
            empty[(case.plugin, base.split(" ", 1)[0])] = case
    rows = []
    for case in cases:
        median, cpu = statistics.median(case.times), statistics.median(case.cpu)
        ratio = median / floor
        reference = empty.get((case.plugin, case.name.split(",", 1)[0].split(" ", 1)[0]))
        x_empty = median / statistics.median(reference.times) if reference else None
        cpu_empty = cpu / statistics.median(reference.cpu) if reference else None
        if case.name == PROMPT_NOTHING_NEW:
            target, passed = f"<= {NOTHING_NEW_LIMIT}x floor", ratio <= NOTHING_NEW_LIMIT
        elif case.name == PROMPT_NEW:
            target, passed = f"<= {NEW_MESSAGES_LIMIT}x floor", ratio <= NEW_MESSAGES_LIMIT
        else:
            target, passed = "", None
        rows.append(
            scenario_row(
                case,
                floor,
                floor_cpu,
                {
                    "x_empty_history": round(x_empty, 3) if x_empty is not None else None,
                    "cpu_x_empty_history": round(cpu_empty, 3) if cpu_empty is not None else None,
                    "target": target,
                    "pass": passed,
                    "incomplete": case.wrong,
                },
            )
        )
    scenarios = [bench.mail for bench in benches if bench.mail is not None]
    return {
        "items": scenarios[0].items,
        "new_messages": NEW_MESSAGES,
        "targets": {"nothing_new_x_floor": NOTHING_NEW_LIMIT, "new_x_floor": NEW_MESSAGES_LIMIT},
        "layouts": [scenario.layout for scenario in scenarios],
        "all_pass": all(row["pass"] is not False for row in rows),
        "cases": rows,
    }


def summarize_restore(
    cases: list[Case], benches: list[Bench], floor: float, floor_cpu: float
) -> dict[str, Any]:
    """The restore scenario's rows, against the floor and against the same hook of a session
    in the same repository that holds nothing."""
    nothing = {c.plugin: c for c in cases if c.name == RESTORE_NOTHING}
    rows = []
    for case in cases:
        median, cpu = statistics.median(case.times), statistics.median(case.cpu)
        ratio = median / floor
        reference = nothing.get(case.plugin) if case.name == RESTORE_HOLDING else None
        x_nothing = median / statistics.median(reference.times) if reference else None
        cpu_nothing = cpu / statistics.median(reference.cpu) if reference else None
        if case.name == RESTORE_HOLDING:
            target, passed = f"<= {RESTORE_LIMIT}x floor", ratio <= RESTORE_LIMIT
        else:
            target, passed = "", None
        rows.append(
            scenario_row(
                case,
                floor,
                floor_cpu,
                {
                    "x_nothing_held": round(x_nothing, 3) if x_nothing is not None else None,
                    "cpu_x_nothing_held": round(cpu_nothing, 3)
                    if cpu_nothing is not None
                    else None,
                    "target": target,
                    "pass": passed,
                    "incomplete": case.wrong,
                },
            )
        )
    return {
        "peers": RESTORE_PEERS,
        "locks": RESTORE_LOCKS,
        "leases": RESTORE_LEASES,
        "tasks": RESTORE_TASKS,
        "claimed": RESTORE_CLAIMED,
        "received": RESTORE_RECEIVED,
        "targets": {"x_floor": RESTORE_LIMIT},
        "layouts": [b.restore.layout for b in benches if b.restore is not None],
        "all_pass": all(row["pass"] is not False for row in rows),
        "cases": rows,
    }


Row = dict[str, Any]
VERDICTS = {True: "PASS", False: "FAIL", None: ""}


@dataclass(frozen=True)
class Column:
    title: str
    width: int
    cell: Callable[[Row], str]
    left: bool = False  # names and targets read from the left, figures line up on the right
    gap: str = " "  # before the column

    def fit(self, text: str) -> str:
        return text.ljust(self.width) if self.left else text.rjust(self.width)


def print_table(columns: list[Column], rows: list[Row]) -> None:
    def line(cells: list[str]) -> str:
        first, *rest = columns
        return first.fit(cells[0]) + "".join(
            column.gap + column.fit(cell) for column, cell in zip(rest, cells[1:])
        )

    header = line([column.title for column in columns])
    print(header)
    print("-" * len(header))
    for row in rows:
        print(line([column.cell(row) for column in columns]))


def outcome(row: Row, rounds: int, quiet: Callable[[Row], bool], shortfall: str) -> str:
    """PASS or FAIL (nothing for a case without a target), then whatever the runs did amiss: a
    hook that fails or prints where it should be silent may well look fast."""
    words = [VERDICTS[row["pass"]]]
    if row.get("prints"):
        words.append(f"(output in {row['printed']}/{rounds} runs)")
    elif row["printed"] and quiet(row):
        words.append(f"(printed output {row['printed']}x)")
    if row.get("incomplete"):
        words.append(f"({row['incomplete']} {shortfall})")
    if row["failures"]:
        words.append(f"({row['failures']} non-zero exits)")
    return " ".join(word for word in words if word)


def times(key: str) -> Callable[[Row], str]:
    return lambda row: f"{row[key]:.2f}x" if row[key] is not None else ""


def millis(key: str) -> Callable[[Row], str]:
    return lambda row: f"{row[key]:.1f}"


@dataclass(frozen=True)
class CaseTable:
    """A table of cases: the name (prefixed with its plugin root's number when there are
    several), the live `peers` if asked, the figures, the ratios to another case if any (headed
    `against`, from the row's `against_key` and cpu_<against_key>), then the target and the
    outcome, where `quiet` says which rows should print nothing and `shortfall` what incomplete
    runs lacked."""

    name_width: int
    target_width: int
    against: str = ""
    against_key: str = ""
    peers: bool = False
    quiet: Callable[[Row], bool] = lambda row: True
    shortfall: str = ""

    def columns(self, rounds: int, plugins: int) -> list[Column]:
        def name(row: Row) -> str:
            return f"[{row['plugin']}] {row['case']}" if plugins > 1 else row["case"]

        def result(row: Row) -> str:
            return outcome(row, rounds, self.quiet, self.shortfall)

        columns = [Column("case", self.name_width + (4 if plugins > 1 else 0), name, left=True)]
        if self.peers:
            columns.append(Column("peers", 5, lambda row: str(row["peers"])))
        columns += [
            Column("median ms", 9, millis("median_ms")),
            Column("p90 ms", 8, millis("p90_ms")),
            Column("x floor", 8, times("ratio")),
        ]
        # The CPU twin of `against` fits in 7 characters: "x empty" becomes "cpu x e".
        key, twin = self.against_key, f"cpu {self.against[:3]}"
        if key:
            columns.append(Column(self.against, max(8, len(self.against)), times(key)))
        columns.append(Column("cpu ms", 7, millis("cpu_median_ms")))
        if key:
            columns.append(Column(twin, 7, times(f"cpu_{key}")))
        return [
            *columns,
            Column("target", self.target_width, lambda row: row["target"], left=True, gap="  "),
            Column("result", 0, result, left=True),
        ]

    def print(self, rows: list[Row], rounds: int, plugins: int = 1) -> None:
        print_table(self.columns(rounds, plugins), rows)


_GROUP_TITLES = {
    "floor": "baseline",
    "hot": "enabled, hot path ({peers} live peers, session in a linked worktree)",
    "info": "enabled, for information",
    "end": "enabled, SessionEnd (Claude Code's budget: 1.5 s for all SessionEnd hooks)",
    "off": "repository where huddle is not enabled",
}
HOOKS_TABLE = CaseTable(26, 16, quiet=lambda row: row["group"] in ("hot", "off"))
LEASES_TABLE = CaseTable(30, 29, "x 1 peer", "x_1_peer", peers=True)
MESSAGES_TABLE = CaseTable(32, 14, "x empty", "x_empty_history", shortfall="runs showed fewer")
RESTORE_TABLE = CaseTable(
    32, 14, "x nothing", "x_nothing_held", shortfall="runs restored no messages"
)


def print_report(report: dict[str, Any]) -> None:
    facts = report["python"]
    machine = report["machine"]
    plugins = report["plugins"]
    print(
        f"huddle hook benchmark: {report['rounds']} interleaved rounds, {report['peers']} live "
        f"peers; {machine['cpus']} CPUs, load average {machine['load_average'][0]} at the end"
    )
    for number, plugin in enumerate(plugins, 1):
        label = f"[{number}] " if len(plugins) > 1 else ""
        print(
            f"plugin: {label}{plugin['root']} ({plugin['commit'] or 'not a git checkout'}), "
            f"{plugin['pyc_files_in_plugin_data']} .pyc files in its data's pycache"
        )
    shim = "  (a script, run on every start)" if facts["is_script"] else ""
    print(
        f"python3 on PATH: {facts['python3']} -> {facts['real']}{shim}, Python {facts['version']}"
    )
    print(
        f"the launcher runs: {facts['hooks_run']}"
        + ("; PYTHONDONTWRITEBYTECODE is set" if facts["PYTHONDONTWRITEBYTECODE"] else "")
    )
    print()
    cases = report["cases"]
    for (plugin, group), block in itertools.groupby(
        cases, key=lambda row: (row["plugin"], row["group"])
    ):
        label = f"[{plugin}] " if len(plugins) > 1 and plugin else ""
        print(label + _GROUP_TITLES[group].format(peers=report["peers"]))
        HOOKS_TABLE.print(list(block), report["rounds"])
        print()
    if report["leases"]:
        print_leases(report["leases"], report["rounds"], len(plugins))
    if report["messages"]:
        print_messages(report["messages"], report["rounds"], len(plugins))
    if report["restore"]:
        print_restore(report["restore"], report["rounds"], len(plugins))
    if len(cases) > 1:
        print(
            f"targets: hot path <= {HOT_PATH_LIMIT}x floor with {report['peers']} live peers; "
            f"not enabled <= {NOT_ENABLED_LIMIT}x floor; SessionEnd p90 < "
            f"{SESSION_END_BUDGET_MS:.0f} ms"
        )
    if report["leases"]:
        leases = report["leases"]
        print(
            f"targets, edit awareness: PreToolUse Edit without conflict with {leases['peers']} "
            f"live peers <= {HOT_PATH_LIMIT}x floor and <= {SCALE_LIMIT}x the same with 1 peer; "
            f"PreToolUse Bash, not git, <= {HOT_PATH_LIMIT}x floor"
        )
    if report["messages"]:
        print(
            f"targets, notes and messages: UserPromptSubmit with {report['messages']['items']:,} "
            f"delivered in the history <= {NOTHING_NEW_LIMIT}x floor with nothing new, "
            f"<= {NEW_MESSAGES_LIMIT}x floor with {NEW_MESSAGES} new messages"
        )
    if report["restore"]:
        print(
            f"targets, restored state: SessionStart after compaction, holding "
            f"{RESTORE_LOCKS} locks and {RESTORE_CLAIMED} tasks with {RESTORE_PEERS} live peers, "
            f"<= {RESTORE_LIMIT}x floor"
        )
    print("overall: " + ("PASS" if report["all_pass"] else "FAIL"))
    for number, plugin in enumerate(plugins, 1):
        label = f"[{number}] " if len(plugins) > 1 else ""
        for note in plugin["notes"]:
            print(f"note: {label}{note}")
        if plugin["log"]:
            print(f"{label}huddle.log (last lines; a hook that fails open also looks fast):")
            for line in plugin["log"]:
                print(f"  {line}")


def print_leases(leases: dict[str, Any], rounds: int, plugin_count: int) -> None:
    for number, layout in enumerate(leases["layouts"], 1):
        label = f"[{number}] " if plugin_count > 1 else ""
        many = layout["many"]
        spread = ", ".join(
            f"{n} in the {w}" for w, n in sorted(many["leases_by_worktree"].items(), reverse=True)
        )
        print(
            f"{label}edit awareness (issue 3): {many['live_peers']} live peers holding "
            f"{many['leases']} leases ({spread}) and {many['locks']} locks "
            f"({many['glob_locks']} a glob), against a repository with "
            f"{layout['one']['live_peers']} live peer holding {layout['one']['leases']} lease; "
            f"measured session in a linked worktree; set up in {layout['setup_s']:.0f} s"
        )
    LEASES_TABLE.print(leases["cases"], rounds, plugin_count)
    print()


def print_messages(mail: dict[str, Any], rounds: int, plugin_count: int) -> None:
    for number, layout in enumerate(mail["layouts"], 1):
        label = f"[{number}] " if plugin_count > 1 else ""
        print(
            f"{label}notes and messages (issue 4): {layout['history']:,} items in the history "
            f"({layout['notes']:,} notes, the others messages; sent over the last "
            f"{layout['days']} days, {layout['history_days']} dated folders), "
            f"{layout['delivered']:,} of them delivered to the measured session; "
            f"{layout['peers']} live peers; measured session in a linked worktree; "
            f"set up in {layout['setup_s']:.0f} s"
        )
    MESSAGES_TABLE.print(mail["cases"], rounds, plugin_count)
    print()


def print_restore(restore: dict[str, Any], rounds: int, plugin_count: int) -> None:
    for number, layout in enumerate(restore["layouts"], 1):
        label = f"[{number}] " if plugin_count > 1 else ""
        print(
            f"{label}restored state after compaction: the measured session holds "
            f"{layout['locks']} locks, {layout['leases']} file leases and {layout['claimed']} of "
            f"{layout['tasks']} tasks, and was shown {layout['received']} messages since its "
            f"previous compaction ({layout['repeated']} repeated, {layout['counted']} counted); "
            f"{layout['live_peers']} live peers; what it is told before "
            f"unread items: {layout['restored_chars']} characters (budget {RESTORE_BUDGET}); "
            f"set up in {layout['setup_s']:.0f} s"
        )
    RESTORE_TABLE.print(restore["cases"], rounds, plugin_count)
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_ROUNDS} rounds instead of {DEFAULT_ROUNDS}"
    )
    parser.add_argument("--rounds", type=int, help="number of measured rounds")
    parser.add_argument(
        "--peers",
        type=int,
        default=DEFAULT_PEERS,
        help=f"live peer sessions (default {DEFAULT_PEERS})",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--python",
        metavar="PATH",
        help="put this interpreter first on PATH as python3, for the floor and "
        "the hooks alike (e.g. to compare with a pyenv shim bypassed)",
    )
    parser.add_argument(
        "--venv",
        action="store_true",
        help="give the plugin data a (bare) venv, which the launcher then runs, "
        "as it does once the first SessionStart has built one",
    )
    parser.add_argument(
        "--unset",
        metavar="NAME",
        action="append",
        default=[],
        help="remove an environment variable from every run, e.g. "
        "PYTHONDONTWRITEBYTECODE (repeatable)",
    )
    parser.add_argument(
        "--plugin-root",
        metavar="DIR",
        type=Path,
        action="append",
        help="benchmark the plugin in DIR instead of this checkout; give it "
        "more than once to compare copies (each with its own repository "
        "and peers) in one interleaved run",
    )
    parser.add_argument(
        "--only",
        choices=("hooks", "leases", "messages", "restore"),
        help="run only the hook cases, or only the lease, the message or the restore scenario "
        "(default: all four)",
    )
    parser.add_argument(
        "--lease-peers",
        type=int,
        help=f"live peers of the lease scenario (default {LEASE_PEERS}; "
        f"{QUICK_LEASE_PEERS} with --quick)",
    )
    parser.add_argument(
        "--leases",
        type=int,
        help=f"leases they hold together (default {LEASE_COUNT}; {QUICK_LEASE_COUNT} with --quick)",
    )
    parser.add_argument(
        "--history",
        type=int,
        help=f"notes and messages in the message scenario's history (default {HISTORY_ITEMS:,}; "
        f"{QUICK_HISTORY_ITEMS:,} with --quick)",
    )
    args = parser.parse_args(argv)
    rounds = args.rounds or (QUICK_ROUNDS if args.quick else DEFAULT_ROUNDS)
    if rounds < 1 or args.peers < 0:
        parser.error("--rounds must be at least 1 and --peers at least 0")
    if args.lease_peers is None:
        args.lease_peers = QUICK_LEASE_PEERS if args.quick else LEASE_PEERS
    if args.leases is None:
        args.leases = QUICK_LEASE_COUNT if args.quick else LEASE_COUNT
    if args.lease_peers < 1 or args.leases < EXACT_LOCKS + 1:
        parser.error(f"--lease-peers must be at least 1 and --leases at least {EXACT_LOCKS + 1}")
    if args.history is None:
        args.history = QUICK_HISTORY_ITEMS if args.quick else HISTORY_ITEMS
    if args.history < 0:
        parser.error("--history must be at least 0")
    warmup = 1 if args.quick else 2
    roots = [root.resolve() for root in (args.plugin_root or [ROOT])]
    for root in roots:
        if not (root / "hooks" / "hooks.json").is_file():
            parser.error(f"{root} has no hooks/hooks.json")

    benches: list[Bench] = []
    try:
        cases: list[Case] = []
        for number, root in enumerate(roots, 1):
            bench = Bench(
                args.peers, python=args.python, root=root, unset=tuple(args.unset), venv=args.venv
            )
            benches.append(bench)
            scenario_cases: list[Case] = []
            if args.only in (None, "messages"):
                # First: its mailer writes the history while the rest is set up.
                bench.mail = MessageScenario(bench, args.history)
                scenario_cases += bench.mail.set_up()
            found = bench.set_up() if args.only in (None, "hooks") else []
            if args.only in (None, "leases"):
                bench.scenario = LeaseScenario(bench, args.lease_peers, args.leases)
                scenario_cases += bench.scenario.set_up()
            if args.only in (None, "restore"):
                bench.restore = RestoreScenario(bench)
                scenario_cases += bench.restore.set_up()
            if bench.mail is not None:
                bench.mail.ready()
            if not found:
                first = scenario_cases[0]
                found = [bench.floor_case(first.payload, first.cwd, first.env)]
            found += scenario_cases
            for case in found[1:]:
                case.plugin = number
                if len(roots) > 1 and case.group not in SCENARIOS:
                    # the scenarios show the number apart
                    case.name = f"[{number}] {case.name}"
            cases += found if number == 1 else found[1:]  # one floor
        facts = python_facts(cases[0].env, args.venv)
        measure(cases, rounds, warmup=warmup)
        for number, bench in enumerate(benches, 1):
            if bench.scenario is not None:
                mine = [c for c in cases if c.group == "leases" and c.plugin == number]
                bench.scenario.check(mine, rounds, warmup)
            if bench.mail is not None:
                mine = [c for c in cases if c.group == "messages" and c.plugin == number]
                bench.mail.check(mine, rounds)
            if bench.restore is not None:
                mine = [c for c in cases if c.group == "restore" and c.plugin == number]
                bench.restore.check(mine, rounds)
        report = summarize(cases, benches, rounds, facts)
    finally:
        for bench in benches:
            bench.close()
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
