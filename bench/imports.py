"""What importing huddle's own modules costs a hook, module by module.

Each hot-path hook runs exactly as hooks.json runs it (`sh hooks/run <Event>`, a real event on
stdin, one live peer beside the measured session) with PYTHONPROFILEIMPORTTIME set, so the
interpreter itself reports each import's own time. Printed per hook: every huddle module it
imports with its median own time over the rounds (package __init__ files marked), the sum of
those, and the hook's median wall time measured in the same run without the profile, so each
figure reads as a share of the whole hook.

    python bench/imports.py            # 20 rounds
    python bench/imports.py --rounds 5

A measurement, not a test: it exits 0 whatever the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench and tests, as packages

from tests.helpers import sample  # noqa: E402

from bench.harness import ROOT, Bench  # noqa: E402

HOOKS = (
    ("PreToolUse", "PreToolUse-Edit"),
    ("PostToolUse", "PostToolUse-Edit"),
    ("UserPromptSubmit", "UserPromptSubmit"),
    ("PreToolUse", "PreToolUse-Bash"),
    ("Stop", "Stop"),
)


def own_times(stderr: str) -> dict[str, int]:
    """{module: own microseconds} of the huddle modules in an importtime report."""
    found = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        own, _, name = line[len("import time:") :].split("|")
        name = name.strip()
        if (name == "huddle" or name.startswith("huddle.")) and own.strip().isdigit():
            found[name] = int(own)
    return found


def is_package(module: str) -> bool:
    path = ROOT / "src" / Path(*module.split("."))
    return (path / "__init__.py").is_file()


def run(rounds: int) -> dict[str, dict[str, float]]:
    bench = Bench()
    try:
        repo, worktree = bench.build_repo("shop", "ui/fixes")
        bench.start_session(repo)  # the peer
        me, pid, _ = bench.start_session(worktree)
        report = {}
        for event, sample_name in HOOKS:
            payload = json.dumps(sample(sample_name, me, worktree)).encode()
            env = bench.hook_env(me, pid)
            profiled = {**env, "PYTHONPROFILEIMPORTTIME": "1"}
            argv = bench.hook_argv(event)
            times: dict[str, list[int]] = {}
            walls = []
            for _ in range(rounds):
                started = time.perf_counter()
                subprocess.run(argv, input=payload, cwd=worktree, env=env, capture_output=True)
                walls.append(time.perf_counter() - started)
                done = subprocess.run(
                    argv, input=payload, cwd=worktree, env=profiled, capture_output=True
                )
                for module, own in own_times(done.stderr.decode("utf-8", "replace")).items():
                    times.setdefault(module, []).append(own)
            medians = {module: statistics.median(values) for module, values in times.items()}
            report[sample_name] = {"wall_us": statistics.median(walls) * 1e6, **medians}
        return report
    finally:
        bench.close()


def show(report: dict[str, dict[str, float]]) -> None:
    for hook, figures in report.items():
        wall = figures["wall_us"]
        modules = {m: us for m, us in figures.items() if m != "wall_us"}
        inits = {m: us for m, us in modules.items() if is_package(m)}
        print(f"\n{hook}: {wall / 1000:.1f} ms a run (median, no profile)")
        for module, us in sorted(modules.items(), key=lambda item: -item[1]):
            mark = "  (package __init__)" if module in inits else ""
            print(f"  {module:32} {us:7.0f} us  {100 * us / wall:5.2f} %{mark}")
        total, packages = sum(modules.values()), sum(inits.values())
        for label, us in (("all huddle modules", total), ("of which package __init__s", packages)):
            print(f"  {label:32} {us:7.0f} us  {100 * us / wall:5.2f} %")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # as hooks/run: bytecode is cached
    report = run(max(1, args.rounds))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        show(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
