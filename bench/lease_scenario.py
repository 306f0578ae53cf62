"""The lease scenario (edit awareness, issue 3): does the edit hook stay cheap when many sessions
hold many files, without scanning them all?"""

from __future__ import annotations

import json
import random
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.helpers import sample

from bench.harness import SETUP_WORKERS, Bench, Case, as_session, lease_keys
from bench.hook_cases import HOT_PATH_LIMIT
from bench.scenario import Scenario, scenario_row, section, sentence
from bench.table import CaseTable, ratio, versus, within

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
HOT_PATH = (EDIT_FREE, BASH_PLAIN, PROMPT_PEERS)  # each within the hot path's limit


def edit(session_id: str, cwd: Path, key: str) -> bytes:
    data = sample("PreToolUse-Edit", session_id, cwd)
    data["tool_input"]["file_path"] = str(cwd / key)
    return json.dumps(data).encode()


def bash(session_id: str, cwd: Path, command: str) -> bytes:
    data = sample("PreToolUse-Bash", session_id, cwd)
    data["tool_input"] = {"command": command, "description": "benchmark"}
    return json.dumps(data).encode()


class LeaseScenario(Scenario):
    """A repository with many live peers holding many leases and a few locks, and one with a
    single live peer holding a single lease, each with a session to measure.

    Everything on disk is made by the product: peers register with real SessionStart hook runs
    (real stand-in processes as CLAUDE_PID), take their leases with real PostToolUse Write hook
    runs on distinct files of their own worktree (the main checkout or a linked one), and lock
    with `bin/huddle lock`. Peers set up in parallel, as live sessions would.
    """

    name = "leases"
    title = "lease scenario"
    table = CaseTable(30, 29, "x 1 peer", "x_1_peer", peers=True)
    description = """edit awareness (issue 3): {many[live_peers]} live peers holding
        {many[leases]} leases ({spread}) and {many[locks]} locks ({many[glob_locks]} a glob),
        against a repository with {one[live_peers]} live peer holding {one[leases]} lease;
        measured session in a linked worktree; set up in {setup_s:.0f} s"""
    goals = """targets, edit awareness: PreToolUse Edit without conflict with {peers} live peers
        <= {targets[x_floor]}x floor and <= {targets[x_1_peer]}x the same with 1 peer;
        PreToolUse Bash, not git, <= {targets[x_floor]}x floor"""

    def __init__(self, bench: Bench, peers: int, leases: int) -> None:
        super().__init__(bench)
        self.peer_count = peers
        self.lease_count = leases
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
        bench.check_digest(self.title, digest, self.peer_count)
        expected = {"live_peers": self.peer_count, "leases": self.lease_count, "locks": len(jobs)}
        for label, want in (("many", expected), ("one", {"live_peers": 1, "leases": 1})):
            for what, count in want.items():
                if self.layout[label][what] != count:
                    bench.notes.append(
                        f"lease scenario: {self.layout[label][what]} {what} in the "
                        f"{label}-peer repository, not {count}"
                    )

        sessions = ((me, my_pid, many_wt, self.peer_count), (solo, solo_pid, one_wt, 1))
        argv = bench.hook_argv("PreToolUse")
        cases = []
        for name, expect, make in (
            (EDIT_FREE, False, lambda sid, cwd: edit(sid, cwd, FREE_FILE)),
            (BASH_PLAIN, False, lambda sid, cwd: bash(sid, cwd, "ls -la")),
            (BASH_STATUS, False, lambda sid, cwd: bash(sid, cwd, "git status")),
            (BASH_STASH, True, lambda sid, cwd: bash(sid, cwd, "git stash")),
        ):
            for session_id, pid, cwd, count in sessions:
                env = bench.hook_env(session_id, pid)
                payload = make(session_id, cwd)
                cases.append(
                    Case(name, "leases", argv, payload, cwd, env, peers=count, expect_output=expect)
                )
        prompt_argv = bench.hook_argv("UserPromptSubmit")
        for session_id, pid, cwd, count in sessions:
            env = bench.hook_env(session_id, pid)
            payload = json.dumps(sample("UserPromptSubmit", session_id, cwd)).encode()
            cases.append(Case(PROMPT_PEERS, "leases", prompt_argv, payload, cwd, env, peers=count))
        # The warning is shown at most once per file and peer in a while: a different leased
        # file on each run, so that every run takes the warning path.
        held = [key for key in keys if key not in locked]
        random.Random(2).shuffle(held)
        env = bench.hook_env(me, my_pid)
        crowd: dict[str, Any] = {"peers": self.peer_count, "expect_output": True}
        payloads = [edit(me, many_wt, key) for key in held]
        cases.append(
            Case(EDIT_LEASED, "leases", argv, b"", many_wt, env, payloads=payloads, **crowd)
        )
        locked_edit = edit(me, many_wt, locked[0])
        cases.append(Case(EDIT_LOCKED, "leases", argv, locked_edit, many_wt, env, **crowd))
        return cases

    def label(self, case: Case) -> str:
        return f"{self.title}, {case.name} with {case.peers} peer(s)"

    def check(self, rounds: int, warmup: int) -> None:
        self.check_runs(rounds, warmup)
        elapsed = time.time() - self.leases_taken
        if elapsed > 600:
            self.bench.notes.append(
                f"lease scenario: measuring ended {elapsed:.0f} s after the leases were "
                "taken; with the default lease_ttl (600 s) they had expired"
            )

    # -- the report --------------------------------------------------------------------------

    @classmethod
    def summarize(cls, parts: list[Any], floor: Case, cases: list[Case]) -> dict[str, Any]:
        """Each case with many peers and with 1, against the floor and against each other."""
        mine = [case for part in parts for case in part.cases]
        by_key = {(case.plugin, case.name, case.peers): case for case in mine}
        rows = []
        for case in mine:
            alone = by_key.get((case.plugin, case.name, 1)) if case.peers != 1 else None
            scale, cpu_scale = versus(case, alone)
            times_floor = ratio(case, floor)
            goal = within(times_floor, HOT_PATH_LIMIT if case.name in HOT_PATH else None)
            if case.name == EDIT_FREE and scale is not None:
                target = f"<= {HOT_PATH_LIMIT}x floor, <= {SCALE_LIMIT}x 1 peer"
                goal = (target, times_floor <= HOT_PATH_LIMIT and scale <= SCALE_LIMIT)
            ratios = (scale, cpu_scale)
            key = cls.table.against_key
            rows.append(scenario_row(case, floor, key, ratios, goal, peers=True))
        head = {
            "peers": parts[0].peer_count,
            "leases": parts[0].lease_count,
            "locks": EXACT_LOCKS + 1,
        }
        return section(head, {"x_floor": HOT_PATH_LIMIT, "x_1_peer": SCALE_LIMIT}, parts, rows)

    @classmethod
    def describe(cls, layout: dict[str, Any]) -> str:
        by_worktree = sorted(layout["many"]["leases_by_worktree"].items(), reverse=True)
        spread = ", ".join(f"{n} in the {w}" for w, n in by_worktree)
        return sentence(cls.description, spread=spread, **layout)
