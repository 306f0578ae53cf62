"""A fresh clone stands alone: nothing in it reads from beside the checkout, and everything the
tests and benchmarks feed the hooks is inside it."""

from __future__ import annotations

import json
import re
import subprocess

from tests.helpers import ROOT, SAMPLES

OUTSIDE = re.compile(r"\.\./shared|parents?\s*(\[\d\])?\s*/\s*[\"']shared[\"']|shared/reference")


def tracked() -> list[str]:
    out = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return out.split()


def test_no_code_reads_from_beside_the_checkout() -> None:
    code = [
        name
        for name in tracked()
        if (name.endswith((".py", ".sh")) or name in ("dev", ".ci/run", "hooks/run", "bin/huddle"))
        and name != "tests/test_standalone.py"  # whose pattern names what it looks for
    ]
    assert len(code) > 50
    readers = [name for name in code if OUTSIDE.search((ROOT / name).read_text(errors="replace"))]
    assert readers == []


def test_the_sample_events_are_in_the_checkout_and_tracked() -> None:
    assert SAMPLES.is_relative_to(ROOT)
    names = {name for name in tracked() if name.startswith("tests/samples/")}
    for event in (
        "SessionStart-startup",
        "PreToolUse-Edit",
        "UserPromptSubmit",
        "SessionEnd-other",
    ):
        assert f"tests/samples/{event}.json" in names
        data = json.loads((SAMPLES / f"{event}.json").read_text())
        assert data["hook_event_name"] == event.split("-")[0]
        assert data["session_id"] and data["cwd"].startswith("/")
