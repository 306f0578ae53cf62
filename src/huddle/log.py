"""The plugin's own log: where hook failures go, since a hook must never print them."""

from __future__ import annotations

import os
import time

MAX_BYTES = 1 << 20


def data_dir() -> str:
    """The plugin's data directory: Claude Code's CLAUDE_PLUGIN_DATA, or a per-user default."""
    given = os.environ.get("CLAUDE_PLUGIN_DATA")
    if given:
        return given
    if os.environ.get("HUDDLE_FORBID_DEFAULT_DATA"):
        raise RuntimeError("CLAUDE_PLUGIN_DATA is not set (tests must choose a data directory)")
    state_home = os.environ.get("XDG_STATE_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "state"
    )
    return os.path.join(state_home, "huddle")


def log_path() -> str:
    return os.path.join(data_dir(), "huddle.log")


def write(message: str, *, with_traceback: bool = False) -> None:
    """Append one line (and a traceback) to the log; never raises."""
    try:
        path = log_path()
        os.makedirs(os.path.dirname(path), exist_ok=True)
        _rotate_if_large(path)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime())
        text = f"{stamp} [{os.getpid()}] {_one_line(message)}\n"
        if with_traceback:
            import traceback  # only on the error path: it is costly to import

            text += traceback.format_exc()
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text)
    except Exception:  # noqa: S110 - logging must never be the thing that breaks a hook
        pass


def _one_line(message: str) -> str:
    return " ".join(message.split())[:2000]


def _rotate_if_large(path: str) -> None:
    try:
        if os.stat(path).st_size > MAX_BYTES:
            os.replace(path, path + ".1")
    except FileNotFoundError:
        pass
