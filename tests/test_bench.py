"""The hook benchmark runs end to end. Its timings are not asserted (machines are noisy); that
every case ran cleanly is, and so is the one ratio too large to be noise: a repository that is
not enabled must not start Python at all."""

from __future__ import annotations

import contextlib
import io
import json
import runpy
import subprocess
import sys

from tests.helpers import ROOT

LIMIT = 900  # seconds: the quick benchmark sets up several repositories


def test_quick_benchmark_runs_every_case_cleanly(tmp_path):
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "hooks.py"), "--quick", "--json"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    cases = {(c["group"], c["case"]): c for c in report["cases"]}
    assert {g for g, _ in cases} >= {"floor", "hot", "info", "end", "off"}
    assert all(c["failures"] == 0 for c in cases.values()), report["cases"]
    # Only SessionStart has something to say (the peers); a stray byte elsewhere would reach
    # Claude Code.
    assert cases[("info", "SessionStart (startup)")]["printed"] > 0
    quiet = [
        c
        for (group, name), c in cases.items()
        if group != "floor" and not name.startswith(("bare", "SessionStart"))
    ]
    assert all(c["printed"] == 0 for c in quiet), quiet
    assert all(c["ratio"] < 0.5 for g, c in cases.items() if g[0] == "off")

    # Compaction of a session that holds much: it printed the restored state on every run,
    # with the messages it had received, and the set-up found everything where it should be.
    restore = {c["case"]: c for c in report["restore"]["cases"]}
    holding = restore["SessionStart (compact), holding"]
    assert holding["printed"] == report["rounds"] and holding["incomplete"] == 0, holding
    assert holding["failures"] == 0 and holding["x_nothing_held"] is not None
    assert holding["target"] == "<= 8.0x floor"
    (layout,) = report["restore"]["layouts"]
    assert layout["locks"] == 50 and layout["claimed"] == 20 and layout["live_peers"] == 16
    assert layout["repeated"] + layout["counted"] == layout["received"] == 5
    assert not [n for n in report["plugins"][0]["notes"] if n.startswith("restore")]
    printed = table(report)
    assert "restored state after compaction: the measured session holds 50 locks" in printed
    row = next(x for x in printed.splitlines() if x.startswith(holding["case"]))
    assert f"{holding['ratio']:.2f}x" in row and "<= 8.0x floor" in row


def table(report: dict) -> str:
    """What bench/hooks.py prints for `report` without --json."""
    bench = runpy.run_path(str(ROOT / "bench" / "hooks.py"), run_name="bench_hooks")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        bench["print_report"](report)
    return out.getvalue()
