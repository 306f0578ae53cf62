"""`huddle doctor`: is everything in place, and what to do about what is not.

Uses the standard library only, so it works before the plugin's dependencies exist.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from huddle import __version__
from huddle.display import ago, worktree_label
from huddle.plugin import bootstrap, files
from huddle.repo import gitfiles
from huddle.store import ran
from huddle.vocab import EVENTS

RUNTIME_MODULES = {"pydantic": "pydantic", "filelock": "filelock", "GitPython": "git", "mcp": "mcp"}
OK, WARN, FAIL = "ok", "warn", "fail"


@dataclass
class Check:
    status: str
    what: str
    detail: str
    fix: str = ""


def run(as_json: bool) -> int:
    checks = [*plugin_checks(), *dependency_checks(), *repository_checks()]
    if as_json:
        print(json.dumps([asdict(c) for c in checks], indent=2))
    else:
        for c in checks:
            mark = {OK: "ok  ", WARN: "warn", FAIL: "FAIL"}[c.status]
            print(f"[{mark}] {c.what}: {c.detail}")
            if c.fix:
                print(f"       fix: {c.fix}")
        problems = sum(c.status != OK for c in checks)
        print("All good." if not problems else f"{problems} thing(s) to look at.")
    return 1 if any(c.status == FAIL for c in checks) else 0


def _commands_check() -> Check:
    from huddle.cli import commands_cmd

    now = commands_cmd.state()
    if all(value == "ours" for value in now.values()):
        return Check(OK, "short commands", f"/sessions, /note, /message in {commands_cmd.folder()}")
    said = {"theirs": "is your own", "missing": "is not installed", "stale": "is out of date"}
    words = ", ".join(f"/{name} {said[value]}" for name, value in now.items() if value != "ours")
    fix = "huddle commands install" if {"missing", "stale"} & set(now.values()) else ""
    return Check(WARN, "short commands", f"{words} (/huddle:<name> always works)", fix)


def plugin_checks() -> list[Check]:
    root = files.root()
    where = root or f"{files.package_dir()} (a package installed with pip, not the plugin)"
    checks = [Check(OK, "huddle", f"version {__version__} running from {where}")]
    installed = _installed_plugins()
    if installed:
        listing = ", ".join(f"{key} {entry.get('version', '?')}" for key, entry in installed)
        checks.append(Check(OK, "plugin installed", listing))
    else:
        checks.append(
            Check(
                WARN,
                "plugin installed",
                "no huddle entry in ~/.claude/plugins/installed_plugins.json",
                "claude plugin marketplace add <huddle checkout or git URL> && "
                "claude plugin install huddle@huddle (or start claude with --plugin-dir)",
            )
        )
    checks.append(_commands_check())
    return checks


def _installed_plugins() -> list[tuple[str, dict[str, object]]]:
    path = Path(os.path.expanduser("~")) / ".claude" / "plugins" / "installed_plugins.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        plugins = data.get("plugins", {})
    except (OSError, ValueError, AttributeError):
        return []
    found: list[tuple[str, dict[str, object]]] = []
    for key, entries in plugins.items():
        if key.split("@")[0] == "huddle" and isinstance(entries, list):
            found.extend((key, e) for e in entries if isinstance(e, dict))
    return found


def dependency_checks() -> list[Check]:
    checks = []
    missing_here = [name for name, mod in RUNTIME_MODULES.items() if not _importable(mod)]
    where = f"this interpreter ({sys.executable})"
    if missing_here:
        checks.append(
            Check(
                WARN,
                "runtime dependencies",
                f"{', '.join(missing_here)} not importable in {where}",
                "the plugin builds them into its own venv at session start; from a checkout: "
                "pip install -e .",
            )
        )
    else:
        checks.append(Check(OK, "runtime dependencies", f"all importable in {where}"))
    checks.append(_venv_check())
    checks.extend(_git_check())
    return checks


def _git_check() -> list[Check]:
    if not _importable("git"):
        return []  # the line above says GitPython is missing
    from huddle.repo import worktrees

    version = worktrees.git_version()
    if version is None:
        return [
            Check(
                WARN,
                "git",
                "no git on the PATH",
                "install git: huddle reads what Bash commands change through `git status`",
            )
        ]
    spelled = ".".join(str(part) for part in version)
    if version < worktrees.MERGE_TREE_VERSION:
        return [
            Check(
                WARN,
                "git",
                f"git {spelled} is older than 2.38, which has `git merge-tree --write-tree`",
                "a newer git lets huddle tell which lines of parallel work will conflict",
            )
        ]
    return [Check(OK, "git", f"git {spelled}")]


def _worktrees_check(main_worktree: str) -> list[Check]:
    if not _importable("git"):
        return []
    import git

    from huddle.repo import worktrees

    try:
        found = worktrees.listing(main_worktree)
    except (git.GitCommandError, git.GitCommandNotFound, git.InvalidGitRepositoryError) as exc:
        return [Check(WARN, "worktrees", f"git could not list them: {exc}".splitlines()[0])]
    names = ", ".join(worktree_label(w.path, main_worktree) for w in found)
    missing = [w for w in found if w.missing]
    if missing:
        gone = ", ".join(worktree_label(w.path, main_worktree) for w in missing)
        return [
            Check(
                WARN,
                "worktrees",
                f"{len(found)} ({names}); the folders of {gone} are gone",
                "git worktree prune",
            )
        ]
    return [Check(OK, "worktrees", f"{len(found)} ({names})")]


def _importable(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _venv_check() -> Check:
    if files.root() is None:
        return Check(OK, "plugin venv", "not used: this huddle was installed with pip")
    venv = bootstrap.venv_dir()
    failed = bootstrap.failure_file()
    if bootstrap.is_current():
        probe = subprocess.run(
            [str(bootstrap.venv_python()), "-c", "import " + ", ".join(RUNTIME_MODULES.values())],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if probe.returncode == 0:
            return Check(OK, "plugin venv", f"{venv} is current and imports every dependency")
        return Check(
            FAIL,
            "plugin venv",
            f"{venv} is broken: {probe.stderr.strip()[-200:]}",
            f"delete {venv}; the next session start builds it again",
        )
    if failed.exists():
        reason = failed.read_text(encoding="utf-8", errors="replace").strip()[-300:]
        return Check(
            WARN,
            "plugin venv",
            f"could not be built: {reason}",
            f"check network access to the package index, then delete {failed} and start a "
            "session (hooks keep working without it)",
        )
    if (bootstrap.data_dir() / "venv.building").exists():
        return Check(WARN, "plugin venv", f"{venv} is being built now", "wait a minute")
    return Check(
        WARN,
        "plugin venv",
        f"{venv} does not exist yet",
        "start a Claude Code session with the plugin; its first SessionStart builds it",
    )


def repository_checks() -> list[Check]:
    try:
        loc = gitfiles.locate(os.getcwd())
    except gitfiles.NotARepository as exc:
        return [Check(WARN, "repository", str(exc), "run doctor inside a git repository")]
    reason = gitfiles.refuse_reason(loc)
    if reason:
        return [Check(FAIL, "repository", f"{loc.main_worktree}: {reason}")]
    state_dir = Path(loc.state_dir)
    checks = [Check(OK, "repository", f"main worktree {loc.main_worktree}")]
    checks.extend(_worktrees_check(loc.main_worktree))
    tracked = _tracked(loc)
    if tracked:
        checks.append(
            Check(
                FAIL,
                "state directory",
                f"git tracks {len(tracked)} file(s) in {state_dir} ({tracked[0]}, ...): every "
                "clone gets them, so huddle never trusts it",
                "git rm -r --cached .claude/sessions, commit, then huddle enable",
            )
        )
        return checks
    if not gitfiles.is_enabled(loc):
        if os.path.islink(state_dir) or (state_dir.exists() and not state_dir.is_dir()):
            checks.append(
                Check(
                    FAIL,
                    "state directory",
                    f"{state_dir} is not a plain directory",
                    f"remove {state_dir}, then run huddle enable",
                )
            )
        elif os.path.lexists(state_dir) and _left_by_an_earlier_huddle(state_dir):
            checks.append(
                Check(
                    WARN,
                    "state directory",
                    f"{state_dir} looks like an earlier huddle's, which kept no mark in "
                    f"{loc.common_dir}: every hook ignores it until huddle is enabled again",
                    "huddle enable (keeps it)",
                )
            )
        elif os.path.lexists(state_dir):
            checks.append(
                Check(
                    WARN,
                    "state directory",
                    f"huddle is not enabled here (no mark in {loc.common_dir}), so every hook "
                    f"ignores the {state_dir} that is there: huddle did not make it here",
                    "huddle enable (sets it aside and starts empty; --keep-state keeps it)",
                )
            )
        else:
            checks.append(
                Check(
                    WARN, "state directory", f"huddle is not enabled ({state_dir})", "huddle enable"
                )
            )
        return checks
    reason = gitfiles.untrusted_reason(loc)
    if reason is not None:
        checks.append(Check(FAIL, "state directory", f"every hook ignores it: {reason}", _fix(loc)))
        return checks
    if not os.access(state_dir, os.W_OK):
        checks.append(
            Check(
                FAIL,
                "state directory",
                f"{state_dir} is not writable",
                f"give yourself write access to {state_dir}",
            )
        )
    else:
        checks.append(Check(OK, "state directory", f"{state_dir} (mode 700, yours)"))
    checks.append(_hooks_check(state_dir))
    checks.append(_wake_check(str(state_dir)))
    return checks


def _left_by_an_earlier_huddle(state_dir: Path) -> bool:
    """What `huddle enable` keeps without asking (git tracking none of it was looked at
    before)."""
    from huddle.store import directory

    return state_dir.is_dir() and not directory.Contents(str(state_dir)).problems()


def _fix(loc: gitfiles.Location) -> str:
    state_dir = loc.state_dir
    if os.path.islink(state_dir) or not gitfiles.is_own_path(loc):
        return f"remove {state_dir} (a link), then huddle enable"
    if not os.path.isdir(state_dir):
        return "huddle enable"
    if os.lstat(state_dir).st_uid != os.getuid():
        return f"remove {state_dir} (it is not yours), then huddle enable"
    return f"chmod 700 {state_dir}"


def _tracked(loc: gitfiles.Location) -> list[str]:
    if not _importable("git"):
        return []
    import git

    from huddle.repo import worktrees
    from huddle.store.layout import STATE_SUBDIR

    try:
        return worktrees.tracked(loc.main_worktree, "/".join(STATE_SUBDIR))
    except (git.GitCommandError, git.GitCommandNotFound):
        return []


def _wake_check(state_dir: str) -> Check:
    """Per live session: whether its companion runs (so it can be woken), and when it last
    delivered."""
    from huddle.display import clock
    from huddle.peers import sessions
    from huddle.peers.liveness import companion_of

    now = time.time()
    live = [s for s in sessions.load_all(state_dir, now) if s.live]
    if not live:
        return Check(OK, "wake", "no live session here")
    parts, asleep = [], []
    for s in live:
        found = companion_of(state_dir, s.record.to_json())
        if found is None:
            asleep.append(s.name)
            parts.append(f"{s.name}: cannot be woken (no companion)")
            continue
        since = found.get("started_at")
        last = found.get("delivered_at")
        said = f"{s.name}: companion since {clock(since) if isinstance(since, float) else '?'}"
        said += f", last delivered {clock(last)}" if isinstance(last, float) else ", none yet"
        parts.append(said)
    if asleep:
        return Check(
            WARN,
            "wake",
            "; ".join(parts),
            "what is sent to those waits for their next prompt: only the interactive client "
            "runs plugin monitors (not `claude -p`)",
        )
    return Check(OK, "wake", "; ".join(parts))


def _hooks_check(state_dir: Path) -> Check:
    now = time.time()
    parts = []
    for event in EVENTS:
        last = ran.last(str(state_dir), event)
        parts.append(f"{event} never" if last is None else f"{event} {ago(now - last)}")
    if all(p.endswith("never") for p in parts):
        return Check(
            WARN,
            "hooks last ran here",
            "never",
            "start a Claude Code session here with the plugin enabled",
        )
    return Check(OK, "hooks last ran here", ", ".join(parts))
