"""What waking idle sessions costs and how fast it is.

- **latency**: the real interactive client (`claude`, pinned as the tests pin it) runs in tmux
  against the tests' mock of the model API, idle at its prompt, its plugin monitor running
  huddle's companion. Each round sends it a message with `bin/huddle send` from a terminal and
  times the send's return (the message is in its inbox) to the mock receiving the woken request.
- **companion at rest**: the companion (`sh hooks/companion`, as monitors.json runs it) of a
  session with a real stand-in client, in an enabled repository and in one where huddle is not
  enabled, over the same seconds: CPU (user+sys of its process tree, as a share of one core)
  and resident memory.
- **`claude -p` exit time**: plain `claude -p` runs in an enabled repository, interleaved, with
  the plugin as it is and with the plugin without its asyncRewake Stop hook (hooks/wait): the
  ratio says whether that hook makes a plain run wait.

    python bench/wake.py             # 20 wakes, 60 s at rest, 10 runs of claude -p each
    python bench/wake.py --quick     # 5 wakes, 10 s at rest, 3 runs each
    python bench/wake.py --json

It is a measurement, not a test: the exit code is 0 whatever the figures. It needs the client
(`./dev setup` installs it) and tmux.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench and tests, as packages

from tests.helpers import StandIn, add_worktree, make_repo  # noqa: E402
from tests.realclient import tui  # noqa: E402
from tests.realclient.client import find_claude, run_print  # noqa: E402
from tests.realclient.huddle_support import (  # noqa: E402
    PLUGIN_ROOT,
    cli_env,
    enable,
    inline_data_dir,
    session_env,
    wait_for,
)
from tests.realclient.mockapi import request_text  # noqa: E402

HUDDLE = PLUGIN_ROOT / "bin" / "huddle"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


# ------------------------------------------------------------------ latency


def wake_latency(root: Path, claude: str, rounds: int) -> list[float]:
    home = root / "home"
    repo = make_repo(root / "shop")
    worktree = add_worktree(repo, root / "shop-ui", "ui/fixes")
    enable(repo, home, root, data_dir=inline_data_dir(home))
    env = cli_env(home, root, inline_data_dir(home))
    took = []
    with tui.TuiSession(
        PLUGIN_ROOT, worktree, root / "b", home=home, env=session_env(root), claude_bin=claude
    ) as b:
        state = repo / ".claude" / "sessions" / "companions"
        wait_for(lambda: list(state.glob("*.json")), "the companion", 60)
        for index in range(rounds):
            text = f"wake round {index}"
            subprocess.run(
                [str(HUDDLE), "send", "ui-fixes", text],
                cwd=repo,
                env=env,
                check=True,
                capture_output=True,
            )
            sent = time.monotonic()

            def woken(text: str = text) -> list[Any]:
                return [
                    r for r in b.api.records() if r.is_conversation and text in request_text(r.body)
                ]

            record = wait_for(woken, f"wake {index}", 30)[0]
            took.append(record.at - sent)
            time.sleep(3.5)  # the companion wakes a session at most every 3 s
    return took


# ------------------------------------------------------------------ at rest


def tree_cpu(pid: int) -> float:
    """Seconds on a CPU of `pid` and its descendants (Linux: /proc/PID/schedstat, in ns, not
    the tick-sampled times of /proc/PID/stat)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        children.setdefault(int(stat[stat.rfind(")") + 2 :].split()[1]), []).append(int(entry))
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            total += int(Path(f"/proc/{current}/schedstat").read_text().split()[0]) / 1e9
        except (OSError, ValueError, IndexError):
            pass
        todo.extend(children.get(current, []))
    return total


def tree_rss(pid: int) -> dict[str, int]:
    """Resident kB per command of `pid` and its descendants."""
    out = subprocess.run(
        ["ps", "-e", "-o", "pid=,ppid=,rss=,comm="], capture_output=True, text=True
    ).stdout
    rows = [line.split(None, 3) for line in out.splitlines()]
    kids: dict[str, list[list[str]]] = {}
    for row in rows:
        kids.setdefault(row[1], []).append(row)
    found: dict[str, int] = {}
    todo = [str(pid)]
    while todo:
        current = todo.pop()
        for row in kids.get(current, []):
            found[row[3]] = found.get(row[3], 0) + int(row[2])
            todo.append(row[0])
    me = [row for row in rows if row[0] == str(pid)]
    if me:
        found[me[0][3]] = found.get(me[0][3], 0) + int(me[0][2])
    return found


def at_rest(root: Path, seconds: float) -> dict[str, Any]:
    data = root / "data"
    data.mkdir(parents=True)
    env = {**os.environ, "CLAUDE_PLUGIN_DATA": str(data), "HUDDLE_PYTHON": sys.executable}
    enabled = make_repo(root / "enabled")
    subprocess.run([str(HUDDLE), "enable"], cwd=enabled, env=env, check=True, capture_output=True)
    plain = make_repo(root / "plain")
    results: dict[str, Any] = {}
    clients, companions = [], {}
    try:
        for label, repo in (("enabled", enabled), ("not enabled", plain)):
            client = StandIn()
            clients.append(client)
            sid = f"11111111-2222-4333-8444-{len(clients):012d}"
            event = json.dumps(
                {
                    "session_id": sid,
                    "cwd": str(repo),
                    "hook_event_name": "SessionStart",
                    "source": "startup",
                }
            )
            hook_env = {**env, "CLAUDE_PID": str(client.pid), "CLAUDE_CODE_SESSION_ID": sid}
            subprocess.run(
                ["sh", str(PLUGIN_ROOT / "hooks" / "run"), "SessionStart"],
                input=event.encode(),
                cwd=repo,
                env=hook_env,
                capture_output=True,
                check=True,
            )
            hook_env.pop("CLAUDE_PLUGIN_DATA")
            companions[label] = subprocess.Popen(
                ["sh", str(PLUGIN_ROOT / "hooks" / "companion"), str(data)],
                cwd=repo,
                env=hook_env,
                stdout=subprocess.DEVNULL,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        time.sleep(8)  # past start-up: the Python part imported, the shell's first look done
        before = {label: tree_cpu(p.pid) for label, p in companions.items()}
        started = time.monotonic()
        time.sleep(seconds)
        spent = time.monotonic() - started
        for label, proc in companions.items():
            used = tree_cpu(proc.pid) - before[label]
            results[label] = {
                "cpu_percent_of_a_core": round(100 * used / spent, 3),
                "rss_kb": tree_rss(proc.pid),
            }
    finally:
        for proc in companions.values():
            proc.terminate()
            proc.wait(10)
        for client in clients:
            client.kill()
    return results


# ------------------------------------------------------------------ claude -p


def without_waiter(root: Path) -> Path:
    """A copy of the plugin whose hooks.json has no asyncRewake Stop hook."""
    copy = root / "plugin-without-waiter"
    shutil.copytree(
        PLUGIN_ROOT, copy, ignore=shutil.ignore_patterns(".git", ".venv", ".tools", "__pycache__")
    )
    hooks = json.loads((copy / "hooks" / "hooks.json").read_text())
    hooks["hooks"]["Stop"][0]["hooks"] = [
        h for h in hooks["hooks"]["Stop"][0]["hooks"] if not h.get("asyncRewake")
    ]
    (copy / "hooks" / "hooks.json").write_text(json.dumps(hooks))
    return copy


def print_runs(root: Path, claude: str, rounds: int) -> dict[str, list[float]]:
    home = root / "home"
    repo = make_repo(root / "shop")
    enable(repo, home, root, data_dir=inline_data_dir(home))
    plugins = {"as it is": PLUGIN_ROOT, "without hooks/wait": without_waiter(root)}
    times: dict[str, list[float]] = {label: [] for label in plugins}
    for index in range(rounds + 1):
        for label, plugin in plugins.items():
            started = time.monotonic()
            done = run_print(
                "hello",
                repo,
                plugin,
                root / f"p{index}-{len(times[label])}",
                home=home,
                env=session_env(root),
                claude_bin=claude,
            )
            if done.returncode != 0:
                raise RuntimeError(f"claude -p failed: {done.stderr[-500:]}")
            if index:  # the first round warms caches
                times[label].append(time.monotonic() - started)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    claude = find_claude()
    if claude is None or shutil.which("tmux") is None:
        print("needs the claude client (./dev setup) and tmux", file=sys.stderr)
        return 2
    rounds, rest, runs = (5, 10.0, 3) if args.quick else (20, 60.0, 10)
    with tempfile.TemporaryDirectory(prefix="huddle-wake-bench-") as scratch:
        root = Path(scratch)
        latency = wake_latency(root / "latency", claude, rounds)
        rest_figures = at_rest(root / "rest", rest)
        prints = print_runs(root / "print", claude, runs)
    report = {
        "wake_latency_s": {
            "runs": len(latency),
            "median": round(statistics.median(latency), 3),
            "p95": round(percentile(latency, 0.95), 3),
            "max": round(max(latency), 3),
        },
        "companion_at_rest": {"seconds": rest, **rest_figures},
        "claude_p_exit_s": {
            label: round(statistics.median(values), 3) for label, values in prints.items()
        },
    }
    base = report["claude_p_exit_s"]["without hooks/wait"]
    report["claude_p_exit_ratio"] = round(report["claude_p_exit_s"]["as it is"] / base, 3)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    w = report["wake_latency_s"]
    print(f"wake latency, send to woken request ({w['runs']} wakes of the interactive client):")
    print(f"  median {w['median']:.2f} s   p95 {w['p95']:.2f} s   max {w['max']:.2f} s")
    print(f"companion at rest over {rest:.0f} s:")
    for label, figures in rest_figures.items():
        rss = ", ".join(f"{name} {kb / 1024:.1f} MB" for name, kb in figures["rss_kb"].items())
        print(f"  {label:12}  CPU {figures['cpu_percent_of_a_core']:.3f} % of a core   {rss}")
    exits = report["claude_p_exit_s"]
    print(f"claude -p exit time (median of {runs} runs each, interleaved):")
    for label, value in exits.items():
        print(f"  {label:20} {value:.2f} s")
    print(f"  ratio {report['claude_p_exit_ratio']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
