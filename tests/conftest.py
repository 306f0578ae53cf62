"""Every test gets its own HOME and plugin data directory: none may touch the real ones."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("HUDDLE_FORBID_DEFAULT_DATA", "1")
    monkeypatch.setenv("HUDDLE_NO_BOOTSTRAP", "1")
    for name in (
        "CLAUDE_PLUGIN_DATA",
        "CLAUDE_CODE_SESSION_ID",
        "CLAUDE_PID",
        "HUDDLE_PLUGIN_DATA",
        "CLAUDE_PROJECT_DIR",
        "CLAUDE_PLUGIN_ROOT",
        "CLAUDE_ENV_FILE",
        "PYTHONPATH",
    ):
        monkeypatch.delenv(name, raising=False)
    for name in list(os.environ):
        if name.startswith("GIT_"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    yield
