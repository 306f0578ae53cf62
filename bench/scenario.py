"""What the lease, message and restore scenarios share: each reports its rows apart from the first
table, under its own name, with what its set-up found on disk (its layout) per plugin root."""

from __future__ import annotations

from typing import Any, ClassVar

from bench.harness import Bench, Case, Part
from bench.table import CaseTable, Row, figures, rounded


class Scenario(Part):
    title: ClassVar[str]  # how its notes begin
    table: ClassVar[CaseTable]
    # The line above the table (one per plugin root, filled in from its layout) and the one
    # below every table (from the scenario's section of the report), as str.format templates.
    description: ClassVar[str]
    goals: ClassVar[str]

    def __init__(self, bench: Bench) -> None:
        super().__init__(bench)
        self.layout: dict[str, Any] = {}

    def label(self, case: Case) -> str:
        return f"{self.title}, {case.name}"

    def check_runs(self, rounds: int, warmup: int, wrong: str = "") -> None:
        """Notes on runs that printed where they should not or not where they should, that did
        not `wrong` (their output lacked what the case looks for), or that ran out of events."""
        notes = self.bench.notes
        for case in self.cases:
            label = self.label(case)
            notes += case.output_notes(label, rounds)
            if case.wrong:
                notes.append(f"{label}: {case.wrong} runs did not {wrong}")
            if case.payloads and warmup + rounds > len(case.payloads):
                notes.append(
                    f"{label}: {warmup + rounds} runs over {len(case.payloads)} files;"
                    " repeated warnings are not shown again, so some runs did not warn"
                )

    # -- the report --------------------------------------------------------------------------

    @classmethod
    def summarize(cls, parts: list[Any], floor: Case, cases: list[Case]) -> dict[str, Any]:
        """The scenario's section of the report, from its `parts` on every plugin root; `cases`
        are all that were measured, for a scenario that compares with another part's."""
        raise NotImplementedError

    @classmethod
    def describe(cls, layout: dict[str, Any]) -> str:
        return sentence(cls.description, **layout)

    @classmethod
    def targets(cls, section: dict[str, Any]) -> str:
        return sentence(cls.goals, **section)

    @classmethod
    def print_section(cls, section: dict[str, Any], rounds: int, plugins: int) -> None:
        for number, layout in enumerate(section["layouts"], 1):
            label = f"[{number}] " if plugins > 1 else ""
            print(label + cls.describe(layout))
        cls.table.print(section["cases"], rounds, plugins)
        print()


def scenario_row(
    case: Case,
    floor: Case,
    key: str,
    ratios: tuple[float | None, float | None],
    goal: tuple[str, bool | None],
    *,
    peers: bool = False,
    incomplete: bool = False,
) -> Row:
    """A scenario case's row: its figures against the floor, its `ratios` (wall and CPU) to the
    case it is compared with as `key` and cpu_<key>, its target and whether it met it (`goal`);
    with its live peers and its runs that lacked what the case looks for, if asked."""
    own: Row = {"peers": case.peers} if peers else {}
    own[key], own[f"cpu_{key}"] = rounded(ratios[0]), rounded(ratios[1])
    own["target"], own["pass"] = goal
    if incomplete:
        own["incomplete"] = case.wrong
    return {**figures(case, floor, own), "prints": case.expect_output}


def section(
    head: dict[str, Any], targets: dict[str, float], parts: list[Scenario], rows: list[Row]
) -> dict[str, Any]:
    """A scenario's section of the report: its sizes (`head`), targets, layouts and rows."""
    return {
        **head,
        "targets": targets,
        "layouts": [part.layout for part in parts],
        "all_pass": all(row["pass"] is not False for row in rows),
        "cases": rows,
    }


def sentence(template: str, **values: Any) -> str:
    """`template`, written over several lines, filled in on one."""
    return " ".join(template.split()).format(**values)
