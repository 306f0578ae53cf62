"""What huddle's MCP server costs: its start, a tool call, its memory.

In a temporary enabled repository with 8 live peers (real stand-in processes registered by real
SessionStart hook runs), the SDK's own client spawns `huddle-mcp` over stdio, as any MCP client
does:

- **start**: spawn to `initialize` answered, 10 times;
- **round trip**: `list_sessions` and `post_note` through MCP, against the same verbs run as
  `huddle sessions --json` and `huddle note` on the command line (a process each), interleaved,
  30 rounds; the ratio is MCP's median over the command's;
- **memory**: the server's resident memory after the calls.

    python bench/mcp_calls.py
    python bench/mcp_calls.py --quick    # 3 starts, 8 rounds
    python bench/mcp_calls.py --json

A measurement, not a test: the exit code is 0 whatever the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench and tests, as packages

import anyio  # noqa: E402
from mcp import ClientSession, StdioServerParameters, stdio_client  # noqa: E402
from tests.helpers import HUDDLE, ROOT, StandIn, make_repo  # noqa: E402

SERVER = ["-c", "import sys; from huddle.mcp_server.main import main; sys.exit(main())"]
PEERS = 8


def setup(root: Path) -> tuple[Path, dict[str, str], list[StandIn]]:
    data = root / "data"
    data.mkdir(parents=True)
    env = {**os.environ, "CLAUDE_PLUGIN_DATA": str(data), "HUDDLE_PYTHON": sys.executable}
    env.pop("CLAUDE_CODE_SESSION_ID", None)
    repo = make_repo(root / "shop")
    subprocess.run([str(HUDDLE), "enable"], cwd=repo, env=env, check=True, capture_output=True)
    peers = []
    for index in range(PEERS):
        peer = StandIn()
        peers.append(peer)
        event = {
            "session_id": f"33333333-2222-4333-8444-{index:012d}",
            "cwd": str(repo),
            "hook_event_name": "SessionStart",
            "source": "startup",
        }
        subprocess.run(
            ["sh", str(ROOT / "hooks" / "run"), "SessionStart"],
            input=json.dumps(event).encode(),
            cwd=repo,
            env={**env, "CLAUDE_PID": str(peer.pid)},
            check=True,
            capture_output=True,
        )
    return repo, env, peers


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def server_pid(parent: int) -> int | None:
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                args = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if b"huddle.mcp_server" in args and stat[stat.rfind(")") + 2 :].split()[1] == str(
                parent
            ):
                return int(entry)
    return None


async def measure(repo: Path, env: dict[str, str], starts: int, rounds: int) -> dict[str, Any]:
    params = StdioServerParameters(command=sys.executable, args=SERVER, cwd=str(repo), env=env)
    started = []
    for _ in range(starts):
        begin = time.perf_counter()
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            started.append(time.perf_counter() - begin)
    calls: dict[str, list[float]] = {
        k: [] for k in ("mcp list", "cli list", "mcp note", "cli note")
    }
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        await session.call_tool("list_sessions", {})  # warm
        for index in range(rounds):
            begin = time.perf_counter()
            await session.call_tool("list_sessions", {})
            calls["mcp list"].append(time.perf_counter() - begin)
            begin = time.perf_counter()
            subprocess.run(
                [str(HUDDLE), "sessions", "--json"], cwd=repo, env=env, capture_output=True
            )
            calls["cli list"].append(time.perf_counter() - begin)
            begin = time.perf_counter()
            await session.call_tool("post_note", {"text": f"mcp note {index}"})
            calls["mcp note"].append(time.perf_counter() - begin)
            begin = time.perf_counter()
            subprocess.run(
                [str(HUDDLE), "note", f"cli note {index}"], cwd=repo, env=env, capture_output=True
            )
            calls["cli note"].append(time.perf_counter() - begin)
        pid = server_pid(os.getpid())
        memory = rss_kb(pid) if pid else 0
    medians = {k: statistics.median(v) for k, v in calls.items()}
    return {
        "start_s": {"median": round(statistics.median(started), 3), "runs": starts},
        "round_trip_ms": {k: round(v * 1000, 1) for k, v in medians.items()},
        "ratio_list": round(medians["mcp list"] / medians["cli list"], 3),
        "ratio_note": round(medians["mcp note"] / medians["cli note"], 3),
        "rss_mb": round(memory / 1024, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    starts, rounds = (3, 8) if args.quick else (10, 30)
    with tempfile.TemporaryDirectory(prefix="huddle-mcp-bench-") as scratch:
        repo, env, peers = setup(Path(scratch))
        try:
            # The senders' limit would refuse the notes: this measures calls, not floods.
            limit = [str(HUDDLE), "config", "send_rate", "10000"]
            subprocess.run(limit, cwd=repo, env=env, capture_output=True, check=True)
            report = anyio.run(measure, repo, env, starts, rounds)
        finally:
            for peer in peers:
                peer.kill()
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    trips = report["round_trip_ms"]
    print(f"huddle-mcp, {PEERS} live peers, medians:")
    print(f"  start (spawn to initialize answered, {starts} runs): {report['start_s']['median']} s")
    print(
        f"  list_sessions: {trips['mcp list']} ms over MCP, {trips['cli list']} ms as "
        f"`huddle sessions --json`: {report['ratio_list']}x"
    )
    print(
        f"  post_note:     {trips['mcp note']} ms over MCP, {trips['cli note']} ms as "
        f"`huddle note`: {report['ratio_note']}x"
    )
    print(f"  resident memory of the server after the calls: {report['rss_mb']} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
