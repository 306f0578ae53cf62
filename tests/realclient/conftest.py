"""Fixtures for tests that run the real Claude Code client against a MockAPI."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from types import FrameType

import pytest

from .client import CLAUDE_VERSION, find_claude

# Whole-test ceiling; single calls (turns, close) have their own, shorter timeouts.
TEST_TIMEOUT_S = int(os.environ.get("HUDDLE_REALCLIENT_TEST_TIMEOUT", "90"))


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


@pytest.fixture(autouse=True)
def _test_timeout(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a hung test with SIGALRM (pytest-timeout may not be installed); context managers
    then still kill the client processes."""
    if request.node.get_closest_marker("realclient") is None or not hasattr(signal, "SIGALRM"):
        yield
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError(f"test exceeded {TEST_TIMEOUT_S}s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(TEST_TIMEOUT_S)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
