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

This file is the entry point and puts the report together; the first table's cases and each
scenario are modules of their own beside it (bench/README.md lists them).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench and tests, as packages

from bench import hook_cases  # noqa: E402 - needs the checkout on sys.path
from bench.harness import (  # noqa: E402
    ROOT,
    Bench,
    Case,
    Part,
    machine_facts,
    measure,
    plugin_facts,
    python_facts,
)
from bench.hook_cases import DEFAULT_PEERS, HookCases  # noqa: E402
from bench.lease_scenario import (  # noqa: E402
    EXACT_LOCKS,
    LEASE_COUNT,
    LEASE_PEERS,
    QUICK_LEASE_COUNT,
    QUICK_LEASE_PEERS,
    LeaseScenario,
)
from bench.message_scenario import HISTORY_ITEMS, QUICK_HISTORY_ITEMS, MessageScenario  # noqa: E402
from bench.restore_scenario import RestoreScenario  # noqa: E402
from bench.scenario import Scenario  # noqa: E402

DEFAULT_ROUNDS = 40
QUICK_ROUNDS = 8
SCENARIOS: tuple[type[Scenario], ...] = (LeaseScenario, MessageScenario, RestoreScenario)
SET_UP_FIRST = "messages"  # its mailer writes the history while the other parts set up


def parts(bench: Bench, args: argparse.Namespace) -> list[Part]:
    """The parts --only asks for, in the report's order."""
    makers = {
        "hooks": lambda: HookCases(bench, args.peers),
        "leases": lambda: LeaseScenario(bench, args.lease_peers, args.leases),
        "messages": lambda: MessageScenario(bench, args.history),
        "restore": lambda: RestoreScenario(bench),
    }
    return [make() for name, make in makers.items() if args.only in (None, name)]


def set_up(bench: Bench, number: int, several: bool) -> list[Case]:
    """Every part's cases on one plugin root (the `number`-th), ready to measure."""
    for part in sorted(bench.parts, key=lambda part: part.name != SET_UP_FIRST):
        part.cases = part.set_up()
    for part in bench.parts:
        part.ready()
    for part in bench.parts:
        for case in part.cases:
            case.plugin = number
            if several and not isinstance(part, Scenario):  # the scenarios show it apart
                case.name = f"[{number}] {case.name}"
    return [case for part in bench.parts for case in part.cases]


def summarize(
    floor: Case, benches: list[Bench], rounds: int, peers: int, facts: dict[str, Any]
) -> dict[str, Any]:
    everyone = [part for bench in benches for part in bench.parts]
    measured = [case for part in everyone for case in part.cases]
    first = [c for part in everyone if isinstance(part, HookCases) for c in part.cases]
    rows = hook_cases.rows(first, floor)
    sections: dict[str, Any] = {}
    for scenario in SCENARIOS:
        mine = [part for part in everyone if isinstance(part, scenario)]
        sections[scenario.name] = scenario.summarize(mine, floor, measured) if mine else None
    return {
        "rounds": rounds,
        "peers": peers,
        "floor_median_ms": round(statistics.median(floor.times), 2),
        "targets": hook_cases.targets(),
        "all_pass": all(row["pass"] is not False for row in rows)
        and all(part is None or part["all_pass"] for part in sections.values()),
        "cases": rows,
        **sections,
        "python": facts,
        "plugins": [plugin_facts(bench) for bench in benches],
        "machine": machine_facts(),
    }


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
    hook_cases.print_rows(report)
    for scenario in SCENARIOS:
        if report[scenario.name]:
            scenario.print_section(report[scenario.name], report["rounds"], len(plugins))
    if len(report["cases"]) > 1:
        print(hook_cases.targets_line(report))
    for scenario in SCENARIOS:
        if report[scenario.name]:
            print(scenario.targets(report[scenario.name]))
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
    parser.add_argument(
        "--only",
        choices=("hooks", *(scenario.name for scenario in SCENARIOS)),
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
            bench = Bench(python=args.python, root=root, unset=tuple(args.unset), venv=args.venv)
            benches.append(bench)
            bench.parts = parts(bench, args)
            cases += set_up(bench, number, len(roots) > 1)
        first = cases[0]
        floor = benches[0].floor_case(first.payload, first.cwd, first.env)
        facts = python_facts(floor.env, args.venv)
        measure([floor, *cases], rounds, warmup=warmup)
        for bench in benches:
            for part in bench.parts:
                part.check(rounds, warmup)
        report = summarize(floor, benches, rounds, args.peers, facts)
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
