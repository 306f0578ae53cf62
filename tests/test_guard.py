"""The store's exclusive lock: hooks (standard library only) and commands (filelock) exclude
each other on the same lock file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from huddle.store import guard

SRC = str(Path(__file__).resolve().parents[1] / "src")
HOLD = (
    "import sys; sys.path[0] = sys.argv[1]\n"
    "from huddle.store import guard\n"
    "assert 'filelock' not in sys.modules\n"
    "with guard.exclusive(sys.argv[2], timeout=float(sys.argv[3])):\n"
    "    assert 'filelock' not in sys.modules\n"
    "    print('held', flush=True)\n"
    "    sys.stdin.readline()\n"
)


def hook_python(lock: Path, timeout: float = 5.0) -> subprocess.Popen[str]:
    """A process that takes the lock the way a hook does: `python -S`, no filelock."""
    return subprocess.Popen(
        [sys.executable, "-S", "-c", HOLD, SRC, str(lock), str(timeout)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_lock_a_hook_holds_keeps_a_command_out(tmp_path: Path) -> None:
    lock = tmp_path / ".lock"
    holder = hook_python(lock)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        with pytest.raises(TimeoutError), guard.exclusive(str(lock), timeout=0.3):
            pass
    finally:
        holder.communicate("go\n", timeout=10)
    assert holder.returncode == 0, holder.stderr
    with guard.exclusive(str(lock), timeout=1):
        pass


def test_a_lock_a_command_holds_keeps_a_hook_out(tmp_path: Path) -> None:
    lock = tmp_path / ".lock"
    with guard.exclusive(str(lock)):
        waiter = hook_python(lock, timeout=0.3)
        out, err = waiter.communicate("go\n", timeout=10)
        assert waiter.returncode != 0 and "stayed locked" in err, (out, err)
    late = hook_python(lock)
    out, err = late.communicate("go\n", timeout=10)
    assert (late.returncode, out) == (0, "held\n"), err
