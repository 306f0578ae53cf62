"""Fixtures for tests that run the real Claude Code client against a MockAPI."""

from __future__ import annotations

import os

import pytest

from .client import CLAUDE_VERSION, find_claude


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
