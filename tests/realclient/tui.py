"""The interactive client, driven in tmux: what only the full-screen client does (its command
menu, what Enter takes, monitors) is tested here, against the same mock of the model API.

Observed with client 2.1.332: with a HOME whose ``.claude.json`` says onboarding is done, the
API key approved and the folder trusted, no dialog appears; keys sent with ``tmux send-keys``
arrive as typed; ``/exit`` ends the client.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import time
import uuid
from collections.abc import Mapping
from pathlib import Path

from .client import _require_claude, isolated_env
from .huddle_support import wait_for
from .mockapi import MockAPI

WIDTH, HEIGHT = 200, 50
KEY = "test"  # isolated_env's ANTHROPIC_API_KEY


def require_tmux() -> None:
    """Skip without tmux, as the real-client tests skip without a client; fail under CI."""
    import os

    import pytest

    if shutil.which("tmux") is None:
        why = "tmux is not installed (.ci/run installs it; elsewhere: apt-get install tmux)"
        if os.environ.get("CI"):
            pytest.fail(why, pytrace=False)
        pytest.skip(why)


def seed_home(home: Path, folders: list[Path], version: str) -> None:
    """What the client would ask on first start, answered: no dialog appears."""
    path = home / ".claude.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data.update(
        hasCompletedOnboarding=True,
        lastOnboardingVersion=version,
        theme="dark",
        numStartups=5,
        customApiKeyResponses={"approved": [KEY[-20:]], "rejected": []},
        bypassPermissionsModeAccepted=True,
    )
    projects = data.setdefault("projects", {})
    for folder in folders:
        projects[str(folder)] = {
            "hasTrustDialogAccepted": True,
            "hasCompletedProjectOnboarding": True,
        }
    home.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


class TuiSession:
    """One interactive client in a tmux session of its own, with its own MockAPI."""

    def __init__(
        self,
        plugin_dir: Path,
        cwd: Path,
        scratch: Path,
        *,
        home: Path,
        env: Mapping[str, str] | None = None,
        claude_bin: str | None = None,
        version: str = "2.1.332",
    ) -> None:
        self.cwd, self.scratch, self.home = cwd, scratch, home
        self.name = f"huddle-{uuid.uuid4().hex[:10]}"
        self.api = MockAPI(log_file=scratch / "api-requests.jsonl")
        self._claude = _require_claude(claude_bin)
        self._plugin_dir = plugin_dir
        self._env = dict(env or {})
        self._version = version
        scratch.mkdir(parents=True, exist_ok=True)

    def __enter__(self) -> TuiSession:
        self.api.start()
        seed_home(self.home, [self.cwd], self._version)
        env = isolated_env(self.scratch, self.api.base_url, self.home, self._env)
        env["TERM"] = "xterm-256color"
        command = " ".join(
            [
                "cd",
                shlex.quote(str(self.cwd)),
                "&& exec env -i",
                *(shlex.quote(f"{k}={v}") for k, v in env.items()),
                shlex.quote(self._claude),
                "--plugin-dir",
                shlex.quote(str(self._plugin_dir)),
                "--permission-mode",
                "bypassPermissions",
            ]
        )
        subprocess.run(
            [
                "tmux",
                "new-session",
                "-d",
                "-s",
                self.name,
                "-x",
                str(WIDTH),
                "-y",
                str(HEIGHT),
                command,
            ],
            check=True,
        )
        # Keep the pane, and its last screen, when the client exits: a test that fails then can
        # still show what the client said last.
        subprocess.run(
            ["tmux", "set-option", "-t", self.name, "remain-on-exit", "on"], capture_output=True
        )
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if not self._alive():
                return
            try:
                self.type("/exit")
            except subprocess.CalledProcessError:
                return  # it ended meanwhile
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self._alive():
                time.sleep(0.2)
        finally:
            subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)
            self.api.stop()

    def _alive(self) -> bool:
        """Whether the client still runs in its pane (the pane outlives it: remain-on-exit)."""
        done = subprocess.run(
            ["tmux", "display-message", "-p", "-t", self.name, "#{pane_dead}"],
            capture_output=True,
            text=True,
        )
        return done.returncode == 0 and done.stdout.strip() == "0"

    def screen(self) -> str:
        done = subprocess.run(
            ["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True, text=True
        )
        return done.stdout

    def type(self, text: str) -> None:
        """Type `text` as a person would, then Enter."""
        subprocess.run(["tmux", "send-keys", "-t", self.name, "-l", text], check=True)
        time.sleep(0.3)  # the client redraws its menu as it reads the keys
        subprocess.run(["tmux", "send-keys", "-t", self.name, "Enter"], check=True)

    def wait(self, probe, what: str, timeout: float = 30.0):  # noqa: ANN001, ANN201
        """huddle_support.wait_for, with the screen in the message when it times out."""
        try:
            return wait_for(probe, what, timeout)
        except AssertionError as exc:
            state = "running" if self._alive() else "exited (or its tmux session is gone)"
            raise AssertionError(
                f"{exc}; the client has {state}; screen:\n{self.screen()}"
            ) from None
