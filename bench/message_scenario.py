"""The message scenario (notes and messages, issue 4): does UserPromptSubmit stay cheap when the
repository's history of notes and messages is long, and what does showing new messages add?"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.helpers import sample

from bench.harness import ROOT, Bench, Case
from bench.scenario import Scenario, scenario_row, section
from bench.table import CaseTable, ratio, versus, within

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
LIMITS = {PROMPT_NOTHING_NEW: NOTHING_NEW_LIMIT, PROMPT_NEW: NEW_MESSAGES_LIMIT}
# The first table's cases whose session has an empty history: the same hooks, for comparison.
EMPTY_HISTORY = (("hot", "UserPromptSubmit"), ("info", "SessionStart (startup)"))


class MessageScenario(Scenario):
    """UserPromptSubmit of a session whose repository's history holds 10,000 notes and messages,
    every one of them delivered to it, with nothing new and with 5 new messages waiting.

    A repository with a linked worktree, MESSAGE_PEERS live peers registered by real SessionStart
    hook runs, and the measured session started last, in the linked worktree. bench/mailer.py
    (the plugin's own `huddle.talk.messages.send`/`note`, in a process of its own) then sends the
    history from the peers and a person at a terminal in turn, spread over HISTORY_DAYS days,
    and claims each item for the measured session as its hooks would: they sit in its inbox's
    `cur/` as delivered, and in the repository's `history/` folders. Before each run of the
    "new messages" case the mailer sends NEW_MESSAGES fresh ones (outside the timing), which the
    hook then shows and claims.
    """

    name = "messages"
    title = "message scenario"
    table = CaseTable(32, 14, "x empty", "x_empty_history", shortfall="runs showed fewer")
    description = """notes and messages (issue 4): {history:,} items in the history ({notes:,}
        notes, the others messages; sent over the last {days} days, {history_days} dated folders),
        {delivered:,} of them delivered to the measured session; {peers} live peers; measured
        session in a linked worktree; set up in {setup_s:.0f} s"""
    goals = """targets, notes and messages: UserPromptSubmit with {items:,} delivered in the
        history <= {targets[nothing_new_x_floor]}x floor with nothing new,
        <= {targets[new_x_floor]}x floor with {new_messages} new messages"""

    def __init__(self, bench: Bench, items: int) -> None:
        super().__init__(bench)
        self.items = items
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
        other parts can set up meanwhile (writing is disk-bound, they are CPU-bound)."""
        self.started = time.perf_counter()
        bench = self.bench
        main, worktree = bench.build_repo("inbox", "feature/inbox")
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
        prompt_argv = bench.hook_argv("UserPromptSubmit")
        return [
            Case(PROMPT_NOTHING_NEW, "messages", prompt_argv, prompt, worktree, env),
            Case(
                PROMPT_NEW,
                "messages",
                prompt_argv,
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

    def check(self, rounds: int, warmup: int) -> None:
        self.check_runs(rounds, warmup, f"show all {NEW_MESSAGES}")
        notes = self.bench.notes
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

    # -- the report --------------------------------------------------------------------------

    @classmethod
    def summarize(cls, parts: list[Any], floor: Case, cases: list[Case]) -> dict[str, Any]:
        """Against the floor, and against the same hook of the first table's session, whose
        history is empty (when that was measured too)."""
        empty = {}
        for case in cases:
            base = case.name.split("] ", 1)[1] if case.name.startswith("[") else case.name
            if (case.group, base) in EMPTY_HISTORY:
                empty[(case.plugin, base.split(" ", 1)[0])] = case
        rows = []
        for part in parts:
            for case in part.cases:
                hook = case.name.split(",", 1)[0].split(" ", 1)[0]
                ratios = versus(case, empty.get((case.plugin, hook)))
                goal = within(ratio(case, floor), LIMITS.get(case.name))
                key = cls.table.against_key
                rows.append(scenario_row(case, floor, key, ratios, goal, incomplete=True))
        head = {"items": parts[0].items, "new_messages": NEW_MESSAGES}
        targets = {"nothing_new_x_floor": NOTHING_NEW_LIMIT, "new_x_floor": NEW_MESSAGES_LIMIT}
        return section(head, targets, parts, rows)
