"""Fixtures for tests that run the real Claude Code client against a MockAPI."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

from .client import CLAUDE_VERSION, find_claude
from .huddle_support import Lab


@pytest.fixture
def claude_bin() -> str:
    """Path of the claude binary; skips without one, except on CI where that is an error."""
    found = find_claude()
    if found is None:
        message = (
            "real Claude Code client not found: set HUDDLE_CLAUDE_BIN or run "
            f"`npm install --prefix .tools @anthropic-ai/claude-code@{CLAUDE_VERSION}`"
        )
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return found


@pytest.fixture
def lab(tmp_path: Path, claude_bin: str) -> Lab:
    """One test's scratch space. Hooks and the `huddle` of slash commands and Bash calls run on
    the test interpreter (HUDDLE_PYTHON), so it must have the plugin's runtime dependencies
    (sending takes the senders' lock, locks need filelock)."""
    missing = [m for m in ("pydantic", "filelock", "git") if importlib.util.find_spec(m) is None]
    if missing:
        pytest.fail(
            f"the test interpreter {sys.executable} lacks {', '.join(missing)}: "
            "`pip install -r requirements.txt` (the hooks run on it)",
            pytrace=False,
        )
    return Lab(tmp_path, claude_bin)
