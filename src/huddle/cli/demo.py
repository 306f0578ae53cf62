"""`huddle demo`: watch sessions see each other, without starting Claude Code.

In a scratch directory it makes a repository `shop` with a linked worktree `shop-ui`, enables
huddle, and plays sessions through the entry points Claude Code uses: each hook is the command
hooks/hooks.json registers, run with the event JSON on stdin, and the CLI is bin/huddle. A huddle
installed with pip has no plugin folder: there the hooks are `huddle hook EVENT`, the same
handlers, and the CLI is this interpreter's huddle. A real
stand-in process per session plays the Claude Code process (CLAUDE_PID), so liveness is judged
for real. Each step prints what the session's model would be shown.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from huddle.plugin import files
from huddle.vocab import HOOKED_TOOLS

HOOK_TIMEOUT = 10
SILENT = "(nothing: huddle stays silent)"
KEPT = "Kept the scratch directory:"
TASK = "refactor checkout totals"
FILES = {
    "README.md": "# shop\n\nA tiny shop.\n",
    "cart.py": "def total(items):\n    return sum(price for _, price in items)\n",
    "styles.css": ".buy { color: green; }\n",
}
# Inherited variables that would make the children act for someone else or somewhere else.
_DROP = (
    "CLAUDE_CODE_SESSION_ID",
    "CLAUDE_PID",
    "CLAUDE_PROJECT_DIR",
    "CLAUDE_ENV_FILE",
    "CLAUDE_PLUGIN_ROOT",
    "CLAUDE_PLUGIN_DATA",
    "HUDDLE_PLUGIN_DATA",
)


@dataclass
class Player:
    label: str  # A, B, C
    cwd: Path
    session_id: str
    process: subprocess.Popen[bytes]  # stands in for the Claude Code process
    companion: subprocess.Popen[bytes] | None = None  # what the plugin's monitor runs

    def exit(self) -> None:
        for proc in (self.process, self.companion):
            if proc is not None and proc.poll() is None:
                proc.kill()
            if proc is not None:
                proc.wait()
                if proc.stdout is not None:
                    proc.stdout.close()


class Demo:
    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.repo = scratch / "shop"
        self.worktree = scratch / "shop-ui"
        self.data = scratch / "plugin-data"
        found = files.root()
        self.root = None if found is None else Path(found)
        self.hooks = (
            json.loads((self.root / files.HOOKS_JSON).read_text(encoding="utf-8"))
            if self.root is not None
            else None
        )
        self.sessions: list[Player] = []
        self.steps = 0
        self.denied = False  # whether the last PreToolUse hooks refused the tool call

    # -- running things as Claude Code does -------------------------------------------------

    def env(self, session: Player | None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _DROP and not k.startswith("GIT_")}
        env.update(CLAUDE_PLUGIN_DATA=str(self.data), HUDDLE_NO_BOOTSTRAP="1")
        if self.root is not None:
            env["CLAUDE_PLUGIN_ROOT"] = str(self.root)
        if sys.executable:
            # The scratch data directory has no venv: bin/huddle falls back to this interpreter,
            # which has huddle's dependencies when `huddle demo` itself was run with them.
            env.setdefault("HUDDLE_PYTHON", sys.executable)
        if session is not None:
            env.update(
                CLAUDE_PID=str(session.process.pid),
                CLAUDE_CODE_SESSION_ID=session.session_id,
                CLAUDE_PROJECT_DIR=str(session.cwd),
            )
        return env

    def commands(self, event_name: str, tool: str) -> Iterator[tuple[list[str], float]]:
        """The commands hooks.json registers for the event (and tool): argv and timeout."""
        if self.hooks is None or self.root is None:
            if not tool or tool in HOOKED_TOOLS:
                yield [sys.executable, "-m", "huddle", "hook", event_name], HOOK_TIMEOUT
            return
        for group in self.hooks["hooks"].get(event_name, []):
            matcher = group.get("matcher", "")
            if tool and matcher not in ("", "*") and not re.fullmatch(matcher, tool):
                continue
            for handler in group.get("hooks", []):
                if handler.get("type") != "command":
                    continue
                if "args" in handler:
                    argv = [handler["command"], *handler["args"]]
                else:
                    argv = ["sh", "-c", handler["command"]]
                argv = [part.replace("${CLAUDE_PLUGIN_ROOT}", str(self.root)) for part in argv]
                yield argv, handler.get("timeout", 60)

    def run_hooks(self, session: Player, event_name: str, **fields: Any) -> list[str]:
        """Run the event's hooks for the session: the lines its model would be shown."""
        payload = json.dumps(
            {
                "session_id": session.session_id,
                "transcript_path": str(
                    self.scratch / "transcripts" / f"{session.session_id}.jsonl"
                ),
                "cwd": str(session.cwd),
                "permission_mode": "default",
                "hook_event_name": event_name,
                **fields,
            }
        ).encode()
        shown: list[str] = []
        self.denied = False
        for argv, timeout in self.commands(event_name, fields.get("tool_name", "")):
            try:
                done = subprocess.run(
                    argv,
                    input=payload,
                    cwd=session.cwd,
                    env=self.env(session),
                    capture_output=True,
                    timeout=timeout,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                shown.append(f"(the hook ran past its {timeout} s timeout: Claude Code cancels it)")
                continue
            shown.extend(_shown_by(done))
            self.denied = self.denied or b'"permissionDecision": "deny"' in done.stdout
        return shown

    def hook(self, session: Player, event_name: str, **fields: Any) -> None:
        self.show(session, event_name, self.run_hooks(session, event_name, **fields))

    def tool(
        self,
        session: Player,
        name: str,
        tool_input: dict[str, Any],
        run: Callable[[], dict[str, Any]],
    ) -> None:
        """One tool call as Claude Code makes it: PreToolUse hooks, the tool, PostToolUse hooks."""
        before = self.run_hooks(session, "PreToolUse", tool_name=name, tool_input=tool_input)
        if self.denied:
            self.say(
                f"PreToolUse hook ({name}) refuses the call; the tool does not run, and "
                f"{session.label}'s model is shown, as the tool's error:",
                before,
            )
            return
        if before:
            self.show(session, f"PreToolUse hook ({name})", before)
        response = run()
        after = self.run_hooks(
            session, "PostToolUse", tool_name=name, tool_input=tool_input, tool_response=response
        )
        if before or after:
            self.show(session, f"PostToolUse hook ({name})", after)
        else:
            self.show(session, f"PreToolUse and PostToolUse hooks ({name})", [])

    def huddle(self) -> list[str]:
        """The `huddle` command: the plugin's bin/huddle, or this interpreter's package."""
        if self.root is None:
            return [sys.executable, "-m", "huddle"]
        return [str(self.root / files.BIN)]

    def cli(self, session: Player | None, *args: str) -> None:
        """bin/huddle, from the session's Bash tool, or from a terminal when session is None."""
        command = " ".join(["huddle", *(_quote(a) for a in args)])

        def bash() -> dict[str, Any]:
            done = subprocess.run(
                [*self.huddle(), *args],
                cwd=session.cwd if session else self.repo,
                env=self.env(session),
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            lines = (done.stdout + done.stderr).rstrip("\n").splitlines()
            if done.returncode:
                lines.append(f"(exit status {done.returncode})")
            where = (
                f"{session.label}'s Bash tool; its model sees the output"
                if session
                else ("you, in a terminal")
            )
            self.say(f"$ {command}   ({where})", lines)
            return {"stdout": done.stdout, "stderr": done.stderr, "interrupted": False}

        if session is None:
            bash()
        else:
            self.tool(session, "Bash", {"command": command, "description": "huddle"}, bash)

    def edit(self, session: Player, name: str, old: str, new: str) -> None:
        path = session.cwd / name
        tool_input = {
            "file_path": str(path),
            "old_string": old,
            "new_string": new,
            "replace_all": False,
        }

        def apply() -> dict[str, Any]:
            path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
            self.say(f"{session.label}'s Edit tool changes {name}: {old} -> {new}", [])
            return {"filePath": str(path), "oldString": old, "newString": new}

        self.tool(session, "Edit", tool_input, apply)

    def start(self, label: str, cwd: Path) -> Player:
        # `sleep` plays the Claude Code process; the session's exit kills it.
        process = subprocess.Popen(["sleep", "900"], stdin=subprocess.DEVNULL)
        session = Player(label, cwd, str(uuid.uuid4()), process)
        self.sessions.append(session)
        self.hook(session, "SessionStart", source="startup", model="claude-demo")
        if self.root is not None:
            session.companion = self.start_companion(session)
        return session

    def start_companion(self, session: Player) -> subprocess.Popen[bytes]:
        """The companion, as the interactive client's plugin monitor starts it."""
        assert self.root is not None
        env = self.env(session)
        env.pop("CLAUDE_PLUGIN_ROOT", None)  # a monitor's command text holds these instead
        env.pop("CLAUDE_PLUGIN_DATA", None)
        return subprocess.Popen(
            ["sh", str(self.root / "hooks" / "companion"), str(self.data)],
            cwd=session.cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
        )

    def woken(self, session: Player, timeout: float = 10.0) -> None:
        """What the session's companion writes next: the client would start a turn with it."""
        import select

        companion = session.companion
        if companion is None or companion.stdout is None:
            self.say(f"(no companion runs for {session.label}: it waits for its next prompt)", [])
            return
        ready, _, _ = select.select([companion.stdout], [], [], timeout)
        text = os.read(companion.stdout.fileno(), 1 << 16).decode() if ready else ""
        lines = text.rstrip("\n").splitlines()
        if lines:
            self.say(
                f"{session.label}'s companion wakes it, with no keystroke; "
                f"{session.label}'s model is shown:",
                lines,
            )
        else:
            self.say(f"{session.label}'s companion said nothing within {timeout:.0f} s", [])

    # -- printing -----------------------------------------------------------------------------

    def step(self, title: str) -> None:
        self.steps += 1
        print(f"\n{self.steps}. {title}")

    def say(self, line: str, quoted: list[str]) -> None:
        print(f"   {line}")
        for text in quoted:
            print(f"     | {text}".rstrip())

    def show(self, session: Player, what: str, shown: list[str]) -> None:
        what = what if " " in what else f"{what} hook"
        if shown:
            self.say(f"{what} -> {session.label}'s model is shown:", shown)
        else:
            self.say(f"{what} -> {session.label}'s model is shown: {SILENT}", [])

    # -- the script ---------------------------------------------------------------------------

    def setup(self) -> None:
        print("Setup")
        self.repo.mkdir()
        for name, text in FILES.items():
            (self.repo / name).write_text(text, encoding="utf-8")
        _git(self.repo, "init", "-q")
        _git(self.repo, "symbolic-ref", "HEAD", "refs/heads/main")
        _git(self.repo, "add", ".")
        _git(self.repo, "commit", "-q", "-m", "A tiny shop")
        _git(self.repo, "worktree", "add", "-q", "-b", "ui/fixes", str(self.worktree))
        self.say(f"git repository shop, branch main, one commit: {', '.join(FILES)}", [])
        self.say("linked worktree shop-ui, branch ui/fixes", [])
        self.cli(None, "enable")

    def play(self) -> None:
        self.setup()
        self.step("Player A starts in the main checkout (shop, branch main). It is alone.")
        a = self.start("A", self.repo)

        self.step("A is given a task and shares it.")
        self.hook(a, "UserPromptSubmit", prompt=f"please {TASK}")
        self.cli(a, "doing", TASK)

        self.step("Player B starts in the worktree (shop-ui, branch ui/fixes).")
        b = self.start("B", self.worktree)

        self.step("B is asked for a change, edits styles.css, and finishes its turn.")
        self.hook(b, "UserPromptSubmit", prompt="make the buy button blue")
        self.edit(b, "styles.css", "green", "blue")
        self.hook(b, "Stop", stop_hook_active=False)

        self.step("A edits styles.css too, in the main checkout: B changed it in its worktree.")
        self.hook(a, "UserPromptSubmit", prompt="use the brand colour for the buy button")
        self.edit(a, "styles.css", "green", "purple")

        self.step("A locks cart.py for its refactor; B then tries to edit cart.py.")
        self.cli(a, "lock", "cart.py", "--reason", "reworking how totals are computed")
        self.hook(b, "UserPromptSubmit", prompt="round the totals in cart.py")
        self.edit(b, "cart.py", "sum(", "round(sum(")

        self.step("A finishes its turn and sits idle; B asks A for the file, which wakes A.")
        self.hook(a, "Stop", stop_hook_active=False)
        self.cli(b, "send", "main", "may I change cart.py after your refactor?")
        self.hook(b, "Stop", stop_hook_active=False)
        self.woken(a)
        self.hook(a, "UserPromptSubmit", prompt="(the woken turn)")

        self.step("A lists the sessions of the repository.")
        self.cli(a, "sessions")

        self.step("B's session ends; A lists the sessions again.")
        self.hook(b, "SessionEnd", reason="prompt_input_exit")
        b.exit()
        self.cli(a, "sessions")

        self.step("A new session C starts in the worktree, after B has ended.")
        c = self.start("C", self.worktree)

        self.step("A puts a task on the board; C claims it.")
        self.cli(a, "task", "add", "fix the coupon form")
        self.cli(c, "task", "claim", self.task_id())

        self.step("A's context is compacted: huddle gives A its state back, and B's goodbye.")
        self.hook(a, "SessionStart", source="compact", model="claude-demo")

        self.step("C's Claude Code process is killed; A is told at its next prompt.")
        c.exit()
        self.hook(a, "UserPromptSubmit", prompt="carry on")
        self.cli(a, "task", "list")

        print("\nIn short: a session alone is shown nothing; one that joins is told who else is")
        print("live, on which branch and worktree, doing what. Editing a file a peer is editing")
        print("brings a warning; a locked one is refused; a message wakes an idle session.")
        print("Compaction does not make a session forget what it holds, and when a session dies")
        print("its peers are told, and its locks and tasks are free again.")

    def task_id(self) -> str:
        """The id of the one task on the board."""
        [task] = (self.repo / ".claude" / "sessions" / "tasks").glob("*.json")
        return task.stem


def _shown_by(done: subprocess.CompletedProcess[bytes]) -> list[str]:
    """What Claude Code would put in front of the model from one hook's result."""
    out = done.stdout.decode("utf-8", "replace").strip()
    lines: list[str] = []
    if done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace").strip()[:200]
        lines.append(f"(the hook exited {done.returncode}: {err})")
    if not out:
        return lines
    try:
        data = json.loads(out)
    except ValueError:
        return lines + out.splitlines()  # plain stdout is shown as it is
    specific = data.get("hookSpecificOutput", {}) if isinstance(data, dict) else {}
    text = specific.get("additionalContext") or specific.get("permissionDecisionReason")
    return lines + (str(text).splitlines() if text else [])


def _quote(arg: str) -> str:
    return arg if re.fullmatch(r"[\w./-]+", arg) else '"' + arg.replace('"', '\\"') + '"'


def _git(cwd: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    # The user's own git configuration (signing, hooks, templates) stays out of the scratch repo.
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_AUTHOR_NAME="huddle demo",
        GIT_AUTHOR_EMAIL="demo@huddle.invalid",
        GIT_COMMITTER_NAME="huddle demo",
        GIT_COMMITTER_EMAIL="demo@huddle.invalid",
    )
    subprocess.run(
        ["git", "-c", "commit.gpgsign=false", *args],
        cwd=cwd,
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )


def run(keep: bool) -> int:
    from huddle.cli.errors import UserError

    if shutil.which("git") is None or shutil.which("sleep") is None:
        raise UserError("the demo needs `git` and `sleep` on the PATH")
    scratch = Path(os.path.realpath(tempfile.mkdtemp(prefix="huddle-demo-")))
    demo = Demo(scratch)
    print("huddle demo: Claude Code sessions in one repository, played through huddle's real")
    print(f"hooks and CLI in a scratch directory ({scratch}).")
    if demo.root is None:
        print("(This huddle was installed with pip, without the plugin folder: the hooks run as")
        print("`huddle hook EVENT`, the same handlers hooks/hooks.json runs.)")
    print()
    try:
        demo.play()
    except subprocess.CalledProcessError as exc:
        raise UserError(f"the demo could not set up its repository: {exc}") from None
    finally:
        for session in demo.sessions:
            session.exit()
        if keep:
            print(f"\n{KEPT} {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0
