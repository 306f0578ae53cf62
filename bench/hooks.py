"""How much a huddle hook costs, against the cost of starting Python and reading the event.

Runs the hooks exactly as Claude Code does (the argv from hooks/hooks.json: `sh <root>/hooks/run
<Event>`, the event JSON on stdin, the session's directory as cwd, CLAUDE_PLUGIN_ROOT,
CLAUDE_PLUGIN_DATA, CLAUDE_PID and CLAUDE_CODE_SESSION_ID added to this process's environment) in
a temporary git repository with a linked worktree, huddle enabled, and live peers whose
CLAUDE_PID are real processes. The floor is `python3 -c` reading the same event as JSON and
printing "{}". All cases run interleaved, in a shuffled order each round, so that machine noise
hits them alike. Wall time decides PASS/FAIL; CPU time (user+sys of the process tree) is shown
beside it because it is much less disturbed by other load on the machine.

    python bench/hooks.py            # 40 rounds, prints a table
    python bench/hooks.py --quick    # 8 rounds
    python bench/hooks.py --json     # the figures as one JSON object instead of the table
    python bench/hooks.py --help     # variants: --python, --venv, --unset, --plugin-root

It is a measurement, not a test: the exit code is 0 whatever the figures (2 on a usage error).
Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers import (  # noqa: E402 - needs ROOT on sys.path
    add_worktree,
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
    group: str  # floor, hot, info, end, off
    argv: list[str]
    payload: bytes
    cwd: Path
    env: dict[str, str]
    times: list[float] = field(default_factory=list)  # wall ms
    cpu: list[float] = field(default_factory=list)  # user+sys ms of the process tree
    failures: int = 0
    outputs: int = 0  # runs that printed something
    plugin: int = 0  # which --plugin-root, counted from 1 (0: the floor)

    def run(self) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            self.argv,
            input=self.payload,
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            timeout=60,
        )

    def measure(self) -> None:
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

    def set_up(self) -> list[Case]:
        main = make_repo(self.tmp / "shop")
        worktree = add_worktree(main, self.tmp / "shop-ui", "ui/fixes")
        # The CLI would otherwise write bytecode into the plugin's src/ (this checkout).
        env = {
            **self.base_env,
            "CLAUDE_PLUGIN_DATA": str(self.data),
            "PYTHONPYCACHEPREFIX": str(self.tmp / "cli-pycache"),
        }
        done = subprocess.run(
            [str(self.root / "bin" / "huddle"), "enable"],
            cwd=main,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if done.returncode != 0:
            raise RuntimeError(f"huddle enable failed: {done.stderr}")
        if self.venv:
            # What the launcher runs once the first SessionStart has built the plugin's venv;
            # the hot path needs none of its packages, so a bare one starts up the same way.
            subprocess.run(
                ["python3", "-m", "venv", "--without-pip", str(self.data / "venv")],
                env=env,
                check=True,
                capture_output=True,
                timeout=120,
            )
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
        cases = [
            Case(
                "floor: python3 -c json",
                "floor",
                ["python3", "-c", FLOOR_CODE],
                pre_edit,
                worktree,
                on_env,
            )
        ]
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
        for proc in self.processes:
            proc.kill()
        for proc in self.processes:
            proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)


def measure(cases: list[Case], rounds: int, warmup: int, seed: int = 1) -> None:
    """Every case once per round, in a shuffled order, so that no case always follows another."""
    order = random.Random(seed)
    for round_number in range(warmup + rounds):
        batch = list(cases)
        order.shuffle(batch)
        for case in batch:
            if round_number < warmup:
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
        "all_pass": all(row["pass"] is not False for row in rows),
        "cases": rows,
        "python": facts,
        "plugins": [plugin_facts(bench) for bench in benches],
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
        },
    }


_GROUP_TITLES = {
    "floor": "baseline",
    "hot": "enabled, hot path ({peers} live peers, session in a linked worktree)",
    "info": "enabled, for information",
    "end": "enabled, SessionEnd (Claude Code's budget: 1.5 s for all SessionEnd hooks)",
    "off": "repository where huddle is not enabled",
}


def print_table(report: dict[str, Any]) -> None:
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
    header = (
        f"{'case':<26} {'median ms':>9} {'p90 ms':>8} {'x floor':>8} {'cpu ms':>7}  "
        f"{'target':<16} result"
    )
    cases = report["cases"]
    blocks = [(row["plugin"], row["group"]) for row in cases]
    for index, row in enumerate(cases):
        if index == 0 or blocks[index - 1] != blocks[index]:
            label = f"[{row['plugin']}] " if len(plugins) > 1 and row["plugin"] else ""
            print(label + _GROUP_TITLES[row["group"]].format(peers=report["peers"]))
            print(header)
            print("-" * len(header))
        verdict = {True: "PASS", False: "FAIL", None: ""}[row["pass"]]
        if row["failures"]:
            verdict += f" ({row['failures']} non-zero exits)"
        if row["printed"] and row["group"] in ("hot", "off"):
            verdict += f" (printed output {row['printed']}x)"
        print(
            f"{row['case']:<26} {row['median_ms']:>9.1f} {row['p90_ms']:>8.1f} "
            f"{row['ratio']:>7.2f}x {row['cpu_median_ms']:>7.1f}  {row['target']:<16} {verdict}"
        )
        if index + 1 == len(cases) or blocks[index + 1] != blocks[index]:
            print()
    print(
        f"targets: hot path <= {HOT_PATH_LIMIT}x floor with {report['peers']} live peers; "
        f"not enabled <= {NOT_ENABLED_LIMIT}x floor; SessionEnd p90 < "
        f"{SESSION_END_BUDGET_MS:.0f} ms"
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
    args = parser.parse_args(argv)
    rounds = args.rounds or (QUICK_ROUNDS if args.quick else DEFAULT_ROUNDS)
    if rounds < 1 or args.peers < 0:
        parser.error("--rounds must be at least 1 and --peers at least 0")
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
            found = bench.set_up()
            for case in found[1:]:
                case.plugin = number
                if len(roots) > 1:
                    case.name = f"[{number}] {case.name}"
            cases += found if number == 1 else found[1:]  # one floor
        facts = python_facts(cases[0].env, args.venv)
        measure(cases, rounds, warmup=1 if args.quick else 2)
        report = summarize(cases, benches, rounds, facts)
    finally:
        for bench in benches:
            bench.close()
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_table(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
