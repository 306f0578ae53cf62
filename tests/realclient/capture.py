"""Capture the hook events a real client sends, for comparing client versions.

    .venv/bin/python -m tests.realclient.capture OUT [--claude BIN]

Runs a throwaway plugin whose hooks, one on every hook event the client knows, copy their
stdin to a file, through one scripted scenario: a session that writes, runs Bash (once
failing), edits, reads, starts a subagent and changes directory in one turn; runs a plugin
slash command with a ``!`` line; compacts; then that session resumed, and forked. Writes to OUT:

* ``events/NNN-<event>[-<detail>].json``: every hook input, in the order the hooks started;
* ``order.txt``: one line per hook input, ``<event> <detail> <sorted top-level keys>``;
* ``<session>/``: each session's scratch folder (``api-requests.jsonl``, the client's
  stdout stream and stderr).

Two runs, one per client version (``--claude`` another install's ``bin/claude``), compared
with ``diff`` show what changed in the events huddle's hooks receive. The files hold the
temporary paths of the run; tests/samples holds edited copies (see tests/realclient/CLIENT.md).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import stat
import subprocess
import time
from pathlib import Path
from typing import Any

from tests.helpers import git, make_repo

from .client import ClaudeSession, find_claude

PLUGIN = "probe"
# Every hook event of client 2.1.332 (2.1.328 loads the file too: it skips PreSkillShellCommand).
EVENTS = (
    *("PreToolUse", "PostToolUse", "PostToolUseFailure", "PostToolBatch", "Notification"),
    *("UserPromptSubmit", "UserPromptExpansion", "SessionStart", "SessionEnd", "Stop"),
    *("StopFailure", "SubagentStart", "SubagentStop", "PreCompact", "PostCompact"),
    *("PreModelSwitch", "PostModelSwitch", "PermissionRequest", "PermissionDenied", "Setup"),
    *("TeammateIdle", "TaskCreated", "TaskCompleted", "Elicitation", "ElicitationResult"),
    *("ConfigChange", "WorktreeCreate", "WorktreeRemove", "InstructionsLoaded", "CwdChanged"),
    *("FileChanged", "DirectoryAdded", "MessageDisplay", "PreSkillShellCommand"),
)
# Each hook copies its input and answers nothing, so the client goes on as it would without it.
CAPTURE = """#!/bin/sh
started=$(date +%s%N)
tmp="$HUDDLE_CAPTURE_DIR/.$$.tmp"
cat >"$tmp"
mv "$tmp" "$HUDDLE_CAPTURE_DIR/$started-$$-$1.json"
"""
COMMAND = (
    "---\n"
    "description: probe command\n"
    "allowed-tools: Bash(echo:*)\n"
    "---\n"
    "Command body for $ARGUMENTS.\n"
    "!`echo BANG-$((6*7))`\n"
    "REPLY from-command\n"
)


def make_plugin(root: Path, events: tuple[str, ...] = EVENTS) -> Path:
    (root / ".claude-plugin").mkdir(parents=True)
    (root / ".claude-plugin" / "plugin.json").write_text(
        json.dumps({"name": PLUGIN, "version": "0.0.0"})
    )
    hooks = root / "hooks"
    hooks.mkdir()
    script = hooks / "capture.sh"
    script.write_text(CAPTURE)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    config = {
        event: [
            {
                "hooks": [
                    {
                        "type": "command",
                        "command": f'"${{CLAUDE_PLUGIN_ROOT}}"/hooks/capture.sh {event}',
                        "timeout": 20,
                    }
                ]
            }
        ]
        for event in events
    }
    (hooks / "hooks.json").write_text(json.dumps({"hooks": config}, indent=1))
    (root / "commands").mkdir()
    (root / "commands" / "probe.md").write_text(COMMAND)
    return root


def full_probe(repo: Path) -> str:
    """The one prompt that drives every tool hook (as tests/samples/UserPromptSubmit.json)."""
    a_txt = str(repo / "a.txt")
    hello = "echo hello-from-bash; echo env=$PROBE_ENV_FILE_MARK"
    agent = {
        "description": "probe sub",
        "prompt": "Subagent task: just answer.",
        "subagent_type": "general-purpose",
    }
    calls: list[tuple[str, str, dict[str, Any]]] = [
        ("", "Write", {"file_path": a_txt, "content": "hi\n"}),
        ("", "Bash", {"command": hello, "description": "say hello"}),
        ("2", "Bash", {"command": "echo failing >&2; exit 3", "description": "fail on purpose"}),
        ("2", "Edit", {"file_path": a_txt, "old_string": "hi", "new_string": "bye"}),
        ("3", "Read", {"file_path": str(repo / "sub" / "file.txt")}),
        ("4", "Agent", agent),
        ("5", "Bash", {"command": "cd sub && pwd", "description": "cd"}),
    ]
    lines = [f"TOOL{n} {name} {json.dumps(args)}" for n, name, args in calls]
    return "\n".join(["Full probe.", *lines, "REPLY all done"])


def _settle(folder: Path, quiet: float = 1.0, limit: float = 10.0) -> None:
    """Wait until no new capture has appeared for ``quiet`` seconds (async hooks may lag)."""
    deadline = time.monotonic() + limit
    count = -1
    while time.monotonic() < deadline:
        now = len(list(folder.iterdir()))
        if now == count:
            return
        count = now
        time.sleep(quiet)


def _detail(data: dict[str, Any]) -> str:
    for key in ("tool_name", "source", "reason", "trigger", "command_name", "expansion_type"):
        if isinstance(data.get(key), str):
            return str(data[key]).replace("/", "_").replace(":", "_")
    return ""


def collect(raw: Path, out: Path) -> list[str]:
    """Number the captures in start order into ``out``; one summary line each."""
    out.mkdir(parents=True, exist_ok=True)
    lines = []
    files = sorted(raw.glob("*.json"), key=lambda p: int(p.name.split("-", 1)[0]))
    for index, path in enumerate(files, 1):
        data = json.loads(path.read_text())
        event = data.get("hook_event_name", path.stem.rsplit("-", 1)[-1])
        detail = _detail(data)
        name = f"{index:03d}-{event}" + (f"-{detail}" if detail else "") + ".json"
        (out / name).write_text(json.dumps(data, indent=2) + "\n")
        lines.append(f"{event} {detail or '-'} {','.join(sorted(data))}")
    return lines


def run(out: Path, claude: str) -> None:
    if out.exists():
        shutil.rmtree(out)
    work = out / "work"
    raw = out / "raw"
    raw.mkdir(parents=True)
    plugin = make_plugin(work / "plugin")
    repo = make_repo(work / "shop")
    (repo / "sub").mkdir()
    (repo / "sub" / "file.txt").write_text("sub file\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "sub")
    home = work / "home"
    env = {"HUDDLE_CAPTURE_DIR": str(raw), "PROBE_ENV_FILE_MARK": "MARKER-ENVFILE"}

    def session(name: str, *extra: str) -> ClaudeSession:
        return ClaudeSession(
            plugin, repo, out / name, home=home, env=env, extra_args=extra, claude_bin=claude
        )

    with session("main") as main:
        main.start()
        _settle(raw)
        assert main.turn(full_probe(repo), timeout=120)["result"] == "all done"
        _settle(raw)
        assert main.turn(f"/{PLUGIN}:probe hello world")["result"] == "from-command"
        _settle(raw)
        main.turn("/compact", timeout=120)
        _settle(raw)
        assert main.turn("after compact")["result"] == "ok"
        _settle(raw)
        parent = main.session_id
        main.close(timeout=30)
    _settle(raw)
    with session("resumed", "--resume", parent) as resumed:
        assert resumed.turn("resumed")["result"] == "ok"
        _settle(raw)
        resumed.close(timeout=30)
    _settle(raw)
    with session("fork", "--resume", parent, "--fork-session") as fork:
        assert fork.turn("forked")["result"] == "ok"
        _settle(raw)
        fork.close(timeout=30)
    _settle(raw)
    lines = collect(raw, out / "events")
    (out / "order.txt").write_text("".join(line + "\n" for line in lines))
    version = subprocess.run([claude, "--version"], capture_output=True, text=True).stdout
    (out / "version.txt").write_text(version)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--claude", help="the claude binary (default: as the tests find it)")
    args = parser.parse_args()
    claude = args.claude or find_claude()
    if not claude:
        raise SystemExit("claude binary not found")
    if os.sep in claude:  # the sessions run in another folder
        claude = os.path.abspath(claude)
    run(args.out.resolve(), claude)
    print((args.out / "order.txt").read_text(), end="")


if __name__ == "__main__":
    main()
