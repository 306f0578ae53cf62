"""The restore scenario (compaction): after compaction, SessionStart (source "compact") reads back
and restores the session's whole coordination state; what does that cost for one that holds
much?"""

from __future__ import annotations

import json
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.helpers import sample

from bench.harness import SETUP_WORKERS, Bench, Case, as_session, digest_text, lease_keys
from bench.scenario import Scenario, scenario_row, section, sentence
from bench.table import CaseTable, ratio, versus, within

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


class RestoreScenario(Scenario):
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

    name = "restore"
    title = "restore scenario"
    table = CaseTable(32, 14, "x nothing", "x_nothing_held", shortfall="runs restored no messages")
    description = """restored state after compaction: the measured session holds {locks} locks,
        {leases} file leases and {claimed} of {tasks} tasks, and was shown {received} messages
        since its previous compaction ({repeated} repeated, {counted} counted); {live_peers} live
        peers; what it is told before unread items: {restored_chars} characters (budget
        {budget}); set up in {setup_s:.0f} s"""
    goals = """targets, restored state: SessionStart after compaction, holding {locks} locks and
        {claimed} tasks with {peers} live peers, <= {targets[x_floor]}x floor"""

    def __init__(self, bench: Bench) -> None:
        super().__init__(bench)
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
        holding = json.dumps(sample("SessionStart-compact", me, worktree)).encode()
        nothing = json.dumps(sample("SessionStart-compact", idle, main)).encode()
        return [
            Case(
                RESTORE_HOLDING,
                "restore",
                argv,
                holding,
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
                nothing,
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
        text = digest_text(probe)
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

    def check(self, rounds: int, warmup: int) -> None:
        self.check_runs(rounds, warmup, "restore the messages received")
        if time.time() - self.leased > 600:
            self.bench.notes.append(
                "restore scenario: measuring ended more than 600 s after the session's leases "
                "were taken; with the default lease_ttl they had expired"
            )

    # -- the report --------------------------------------------------------------------------

    @classmethod
    def summarize(cls, parts: list[Any], floor: Case, cases: list[Case]) -> dict[str, Any]:
        """Against the floor, and against the same hook of a session in the same repository
        that holds nothing."""
        rows = []
        for part in parts:
            nothing = next(case for case in part.cases if case.name == RESTORE_NOTHING)
            for case in part.cases:
                holding = case.name == RESTORE_HOLDING
                ratios = versus(case, nothing if holding else None)
                goal = within(ratio(case, floor), RESTORE_LIMIT if holding else None)
                key = cls.table.against_key
                rows.append(scenario_row(case, floor, key, ratios, goal, incomplete=True))
        head = {
            "peers": RESTORE_PEERS,
            "locks": RESTORE_LOCKS,
            "leases": RESTORE_LEASES,
            "tasks": RESTORE_TASKS,
            "claimed": RESTORE_CLAIMED,
            "received": RESTORE_RECEIVED,
        }
        return section(head, {"x_floor": RESTORE_LIMIT}, parts, rows)

    @classmethod
    def describe(cls, layout: dict[str, Any]) -> str:
        return sentence(cls.description, budget=RESTORE_BUDGET, **layout)
