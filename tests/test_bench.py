"""The hook benchmark runs end to end. Its timings are not asserted (machines are noisy); that
every case ran cleanly is, and so is the one ratio too large to be noise: a repository that is
not enabled must not start Python at all."""

from __future__ import annotations

import json
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
