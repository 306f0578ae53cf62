"""The first table: every hook of hooks/hooks.json for a session with live peers, in the linked
worktree of an enabled repository, and the hot path's hooks where huddle is not enabled (there
the launcher decides in the shell, without starting Python)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

from tests.helpers import add_worktree, make_repo, new_session_id, sample

from bench.harness import FLOOR_CODE, Bench, Case, Part, percentile
from bench.table import CaseTable, Row, figures, ratio, within

HOT_PATH_LIMIT = 2.0  # x floor, with the peers live
NOT_ENABLED_LIMIT = 0.5  # x floor
SESSION_END_BUDGET_MS = 1500.0  # Claude Code gives all SessionEnd hooks 1.5 s together
LIMITS = {"hot": HOT_PATH_LIMIT, "off": NOT_ENABLED_LIMIT}
DEFAULT_PEERS = 8

TITLES = {
    "floor": "baseline",
    "hot": "enabled, hot path ({peers} live peers, session in a linked worktree)",
    "info": "enabled, for information",
    "end": "enabled, SessionEnd (Claude Code's budget: 1.5 s for all SessionEnd hooks)",
    "off": "repository where huddle is not enabled",
}

TABLE = CaseTable(26, 16, quiet=lambda row: row["group"] in ("hot", "off"))


class HookCases(Part):
    name = "hooks"

    def __init__(self, bench: Bench, peers: int) -> None:
        super().__init__(bench)
        self.peers = peers

    def set_up(self) -> list[Case]:
        bench = self.bench
        main, worktree = bench.build_repo("shop", "ui/fixes")
        bench.ensure_venv()
        for index in range(self.peers):
            bench.start_session(main if index % 2 == 0 else worktree)
        me, my_pid, digest = bench.start_session(worktree)
        bench.check_digest("setup", digest, self.peers)

        off = make_repo(bench.tmp / "plain")
        off_worktree = add_worktree(off, bench.tmp / "plain-wt", "feature")

        on_env = bench.hook_env(me, my_pid)
        off_env = bench.hook_env(new_session_id(), my_pid)
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
            return Case(name, group, bench.hook_argv(event), payload, cwd, env)

        cases = []
        # For comparison: the least any Python hook can cost, on the interpreter the launcher
        # actually starts (SessionStart recorded it) and without `site`, as the launcher runs.
        remembered = bench.data / "python"
        if remembered.exists() and not bench.venv:
            bare = remembered.read_text(encoding="utf-8").strip()
            pre_edit = json.dumps(sample("PreToolUse-Edit", me, worktree)).encode()
            argv = [bare, "-S", "-c", FLOOR_CODE]
            cases.append(
                Case("bare: real python -S -c json", "info", argv, pre_edit, worktree, on_env)
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


def rows(cases: list[Case], floor: Case) -> list[Row]:
    """The first table's rows: the floor's, then those of the cases no scenario reports apart."""
    found = []
    for case in [floor, *cases]:
        goal = within(ratio(case, floor), LIMITS.get(case.group))
        if case.group == "end":
            p90 = percentile(case.times, 0.9)
            goal = f"p90 < {SESSION_END_BUDGET_MS:.0f} ms", p90 < SESSION_END_BUDGET_MS
        found.append(figures(case, floor, {"target": goal[0], "pass": goal[1]}))
    return found


def targets() -> dict[str, float]:
    return {
        "hot_path_x_floor": HOT_PATH_LIMIT,
        "not_enabled_x_floor": NOT_ENABLED_LIMIT,
        "session_end_p90_ms": SESSION_END_BUDGET_MS,
    }


def print_rows(report: dict[str, Any]) -> None:
    """The first table, a block for each group of cases (and plugin root, when several)."""
    several = len(report["plugins"]) > 1
    for (plugin, group), block in itertools.groupby(
        report["cases"], key=lambda row: (row["plugin"], row["group"])
    ):
        label = f"[{plugin}] " if several and plugin else ""
        print(label + TITLES[group].format(peers=report["peers"]))
        TABLE.print(list(block), report["rounds"])
        print()


def targets_line(report: dict[str, Any]) -> str:
    return (
        f"targets: hot path <= {HOT_PATH_LIMIT}x floor with {report['peers']} live peers; "
        f"not enabled <= {NOT_ENABLED_LIMIT}x floor; SessionEnd p90 < "
        f"{SESSION_END_BUDGET_MS:.0f} ms"
    )
