"""`huddle enable` and `huddle disable`: opt a repository in or out."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from huddle.cli.errors import UserError
from huddle.cli.here import calling_session, location
from huddle.peers import sessions
from huddle.repo import gitfiles
from huddle.store import atomic, directory

EXCLUDE_LINE = "/.claude/sessions/"


def enable() -> int:
    loc = location()
    reason = gitfiles.refuse_reason(loc)
    if reason:
        raise UserError(f"huddle will not enable here: {reason}")
    state_dir = Path(loc.state_dir)
    directory.make(str(state_dir))
    if not gitfiles.is_own_path(loc):
        raise UserError(
            f"{state_dir} leads somewhere else through a symlink; huddle will not use it"
        )
    already = not directory.mark_enabled(str(state_dir), time.time())
    _add_exclude(loc)
    joined = _register_caller(loc, state_dir)
    if already:
        print(f"huddle is already enabled in {loc.main_worktree}")
    else:
        print(f"huddle is enabled in {loc.main_worktree}")
    print(f"  state: {state_dir} (kept out of git by .git/info/exclude)")
    if joined:
        print(f'  this session joined as "{joined}"')
    print("  Claude Code sessions in this repository and its worktrees now see each other.")
    return 0


def _register_caller(loc: gitfiles.Location, state_dir: Path) -> str | None:
    """Enabling from inside a session makes that session known at once."""
    session_id = calling_session()
    if session_id is None:
        return None
    record = sessions.register(
        str(state_dir), session_id, loc, os.getcwd(), sessions.current_pid(), time.time()
    )
    return record.name


def _exclude_file(loc: gitfiles.Location) -> Path:
    return Path(loc.common_dir) / "info" / "exclude"


def _add_exclude(loc: gitfiles.Location) -> None:
    path = _exclude_file(loc)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    if EXCLUDE_LINE in text.splitlines():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix = "" if not text or text.endswith("\n") else "\n"
    atomic.write_bytes(path, (text + prefix + EXCLUDE_LINE + "\n").encode("utf-8"))
    os.chmod(path, 0o644)


def _remove_exclude(loc: gitfiles.Location) -> None:
    path = _exclude_file(loc)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return
    if EXCLUDE_LINE in lines:
        kept = [line for line in lines if line != EXCLUDE_LINE]
        atomic.write_bytes(path, ("\n".join(kept) + "\n" if kept else "").encode("utf-8"))
        os.chmod(path, 0o644)


def disable(yes: bool) -> int:
    loc = location()
    state_dir = Path(loc.state_dir)
    if gitfiles.enabled_state_dir(loc) is None:
        if os.path.islink(state_dir):
            raise UserError(f"{state_dir} is a symlink; remove it yourself if it is not wanted")
        print(f"huddle is not enabled in {loc.main_worktree}; nothing to do")
        return 0
    everyone = sessions.load_all(str(state_dir), time.time())
    live = [s.name for s in everyone if s.live]
    files = directory.count_files(str(state_dir))
    print(f"Disabling huddle in {loc.main_worktree} deletes {state_dir}:")
    print(f"  {len(everyone)} session record(s), {files} file(s) in all")
    if live:
        print(f"  live sessions lose their shared state: {', '.join(live)}")
    if not yes:
        if not sys.stdin.isatty():
            raise UserError("nothing was deleted; run `huddle disable --yes` to go ahead")
        answer = input("Delete it? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            print("nothing was deleted")
            return 1
    directory.remove(str(state_dir))
    _remove_exclude(loc)
    print("huddle is disabled here; `huddle enable` turns it on again")
    return 0
