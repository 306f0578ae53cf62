"""Racing real processes against one state directory, all released at the same moment.

Each racer is a fresh interpreter running a snippet of Python. It does its imports, says it is
ready, then blocks reading its stdin, a pipe shared by all racers; once every racer is ready the
pipe's write end is closed and all their reads return together. No sleeping anywhere. A racer
prints one JSON value, its result. Racers can run with `-S`, as hooks do, so that the guard's
flock path (hooks) and its filelock path (commands) meet in one race.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
WAIT = 60  # seconds: a bound on a hung racer, never a synchronisation

_READY = "ready"
_GATE = f"import sys\nprint({_READY!r}, flush=True)\nsys.stdin.read()\n"


def race(
    setup: str, work: str, argvs: Sequence[Sequence[str]], *, hook_like: Sequence[bool] = ()
) -> list[Any]:
    """Run `setup`, then wait at the gate, then `work`, in one process per argv (sys.argv[1:]);
    `work` prints one JSON value. Racer i runs with `-S` when hook_like[i] is true."""
    code = f"{setup}\n{_GATE}{work}\n"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    gate_read, gate_write = os.pipe()
    children: list[subprocess.Popen[str]] = []
    try:
        try:
            for i, argv in enumerate(argvs):
                flags = ["-S"] if i < len(hook_like) and hook_like[i] else []
                children.append(
                    subprocess.Popen(
                        [sys.executable, *flags, "-c", code, *argv],
                        stdin=gate_read,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE,
                        text=True,
                        env=env,
                    )
                )
            for child in children:
                assert child.stdout is not None
                if child.stdout.readline().strip() != _READY:
                    _, err = child.communicate(timeout=WAIT)
                    raise AssertionError(f"a racer failed before the start: {err}")
        finally:
            os.close(gate_read)
            os.close(gate_write)  # every racer's read returns now
        results = []
        for child in children:
            out, err = child.communicate(timeout=WAIT)
            assert child.returncode == 0, err
            results.append(json.loads(out))
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
            child.communicate()
    return results


def alternate(count: int) -> list[bool]:
    """Every other racer hook-like (`-S`, flock), the rest command-like (filelock)."""
    return [i % 2 == 0 for i in range(count)]
