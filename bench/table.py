"""A case's row of figures against the floor, and the one printer for every table of rows."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.harness import Case, percentile

Row = dict[str, Any]

VERDICTS = {True: "PASS", False: "FAIL", None: ""}


def ratio(case: Case, floor: Case) -> float:
    return statistics.median(case.times) / statistics.median(floor.times)


def within(value: float, limit: float | None) -> tuple[str, bool | None]:
    """The target "at most `limit` times the floor", and whether `value` meets it (nothing and
    None for a case without a limit)."""
    return (f"<= {limit}x floor", value <= limit) if limit is not None else ("", None)


def versus(case: Case, reference: Case | None) -> tuple[float | None, float | None]:
    """`case`'s median over `reference`'s, for wall and CPU time (None without a reference)."""
    if reference is None:
        return None, None
    wall = statistics.median(case.times) / statistics.median(reference.times)
    cpu = statistics.median(reference.cpu)
    return wall, (statistics.median(case.cpu) / cpu if cpu else None)


def rounded(value: float | None) -> float | None:
    return round(value, 3) if value is not None else None


def figures(case: Case, floor: Case, own: Row) -> Row:
    """`case`'s timings against the floor's, with a part's `own` columns (its target and pass
    among them) between the figures and the counts of runs."""
    median, cpu = statistics.median(case.times), statistics.median(case.cpu)
    floor_cpu = statistics.median(floor.cpu)
    return {
        "case": case.name,
        "group": case.group,
        "plugin": case.plugin,
        "median_ms": round(median, 2),
        "p90_ms": round(percentile(case.times, 0.9), 2),
        "min_ms": round(min(case.times), 2),
        "ratio": round(ratio(case, floor), 3),
        "cpu_median_ms": round(cpu, 2),
        "cpu_ratio": round(cpu / floor_cpu, 3) if floor_cpu else None,
        **own,
        "failures": case.failures,
        "printed": case.outputs,
    }


@dataclass(frozen=True)
class Column:
    title: str
    width: int
    cell: Callable[[Row], str]
    left: bool = False  # names and targets read from the left, figures line up on the right
    gap: str = " "  # before the column

    def fit(self, text: str) -> str:
        return text.ljust(self.width) if self.left else text.rjust(self.width)


def print_table(columns: list[Column], rows: list[Row]) -> None:
    def line(cells: list[str]) -> str:
        first, *rest = columns
        return first.fit(cells[0]) + "".join(
            column.gap + column.fit(cell) for column, cell in zip(rest, cells[1:])
        )

    header = line([column.title for column in columns])
    print(header)
    print("-" * len(header))
    for row in rows:
        print(line([column.cell(row) for column in columns]))


def outcome(row: Row, rounds: int, quiet: Callable[[Row], bool], shortfall: str) -> str:
    """PASS or FAIL (nothing for a case without a target), then whatever the runs did amiss: a
    hook that fails or prints where it should be silent may well look fast."""
    words = [VERDICTS[row["pass"]]]
    if row.get("prints"):
        words.append(f"(output in {row['printed']}/{rounds} runs)")
    elif row["printed"] and quiet(row):
        words.append(f"(printed output {row['printed']}x)")
    if row.get("incomplete"):
        words.append(f"({row['incomplete']} {shortfall})")
    if row["failures"]:
        words.append(f"({row['failures']} non-zero exits)")
    return " ".join(word for word in words if word)


def times(key: str) -> Callable[[Row], str]:
    return lambda row: f"{row[key]:.2f}x" if row[key] is not None else ""


def millis(key: str) -> Callable[[Row], str]:
    return lambda row: f"{row[key]:.1f}"


@dataclass(frozen=True)
class CaseTable:
    """A table of cases: the name (prefixed with its plugin root's number when there are
    several), the live `peers` if asked, the figures, the ratios to another case if any (headed
    `against`, from the row's `against_key` and cpu_<against_key>), then the target and the
    outcome, where `quiet` says which rows should print nothing and `shortfall` what incomplete
    runs lacked."""

    name_width: int
    target_width: int
    against: str = ""
    against_key: str = ""
    peers: bool = False
    quiet: Callable[[Row], bool] = lambda row: True
    shortfall: str = ""

    def columns(self, rounds: int, plugins: int) -> list[Column]:
        def name(row: Row) -> str:
            return f"[{row['plugin']}] {row['case']}" if plugins > 1 else row["case"]

        def result(row: Row) -> str:
            return outcome(row, rounds, self.quiet, self.shortfall)

        columns = [Column("case", self.name_width + (4 if plugins > 1 else 0), name, left=True)]
        if self.peers:
            columns.append(Column("peers", 5, lambda row: str(row["peers"])))
        columns += [
            Column("median ms", 9, millis("median_ms")),
            Column("p90 ms", 8, millis("p90_ms")),
            Column("x floor", 8, times("ratio")),
        ]
        # The CPU twin of `against` fits in 7 characters: "x empty" becomes "cpu x e".
        key, twin = self.against_key, f"cpu {self.against[:3]}"
        if key:
            columns.append(Column(self.against, max(8, len(self.against)), times(key)))
        columns.append(Column("cpu ms", 7, millis("cpu_median_ms")))
        if key:
            columns.append(Column(twin, 7, times(f"cpu_{key}")))
        return [
            *columns,
            Column("target", self.target_width, lambda row: row["target"], left=True, gap="  "),
            Column("result", 0, result, left=True),
        ]

    def print(self, rows: list[Row], rounds: int, plugins: int = 1) -> None:
        print_table(self.columns(rounds, plugins), rows)
