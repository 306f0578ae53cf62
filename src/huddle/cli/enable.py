"""`huddle enable` and `huddle disable`: opt a repository in or out."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from huddle.cli import commands_cmd
from huddle.cli.errors import UserError
from huddle.cli.here import calling_session, location
from huddle.peers import sessions
from huddle.repo import gitfiles, worktrees
from huddle.store import atomic, directory
from huddle.store.layout import STATE_SUBDIR

EXCLUDE_LINE = "/.claude/sessions/"
ASIDE_LINE = "/.claude/sessions.untrusted-*/"  # state directories set aside, kept out too


def enable(keep_state: bool = False) -> int:
    loc = location()
    reason = gitfiles.refuse_reason(loc)
    if reason:
        raise UserError(f"huddle will not enable here: {reason}")
    state_dir = Path(loc.state_dir)
    if os.path.islink(state_dir) or (state_dir.exists() and not state_dir.is_dir()):
        raise UserError(f"{state_dir} is not a plain directory: remove it, then enable again")
    if not gitfiles.is_enabled(loc) and state_dir.exists():
        _found_state(loc, state_dir, keep_state)
    directory.make(str(state_dir))
    if not gitfiles.is_own_path(loc):
        raise UserError(
            f"{state_dir} leads somewhere else through a symlink; huddle will not use it"
        )
    already = not directory.mark_enabled(str(state_dir), loc.common_dir, time.time())
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
    offer = commands_cmd.hint()
    if offer:
        print(f"  {offer}.")
    return 0


def _found_state(loc: gitfiles.Location, state_dir: Path, keep: bool) -> None:
    """A state directory is there, but huddle was never enabled here: it came with the
    repository, or an earlier huddle (which kept no mark in the git directory) made it."""
    contents = directory.Contents(str(state_dir))
    try:
        tracked = worktrees.tracked(loc.main_worktree, "/".join(STATE_SUBDIR))
    except ImportError:
        tracked = ["(GitPython is missing, so huddle cannot ask git)"]
    if tracked:
        raise UserError(
            f"git tracks {len(tracked)} file(s) in {state_dir} ({tracked[0]}, ...): they came "
            "with the repository, and every pull could bring them back. Run "
            "`git rm -r --cached .claude/sessions`, commit, then `huddle enable` again (it sets "
            "what is there aside and starts empty)"
        )
    problems = contents.problems()
    if not problems:
        print(f"Keeping the state an earlier huddle left in {state_dir} ({contents.summary()}).")
        return
    print(f"Found {state_dir}, which huddle did not make here: {contents.summary()}.")
    for problem in problems:
        print(f"  - {problem}")
    if keep:
        if not contents.keepable():
            raise UserError(
                "cannot keep it: a state directory that another user owns or that holds "
                "symlinks is never trusted; run `huddle enable` without --keep-state"
            )
        for folder in contents.open_folders:
            os.chmod(state_dir / folder, 0o700)
        print("  Keeping it, as asked (--keep-state), private to you from now on.")
        return
    moved = directory.set_aside(str(state_dir))
    _add_exclude(loc, ASIDE_LINE)
    print(f"  Moved it to {moved}, untouched (and kept out of git); huddle starts empty.")
    print("  (`huddle enable --keep-state` keeps one instead, when it is yours to keep.)")


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


def _add_exclude(loc: gitfiles.Location, line: str = EXCLUDE_LINE) -> None:
    path = _exclude_file(loc)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    if line in text.splitlines():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix = "" if not text or text.endswith("\n") else "\n"
    atomic.write_bytes(path, (text + prefix + line + "\n").encode("utf-8"))
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
    if not gitfiles.is_enabled(loc):
        print(f"huddle is not enabled in {loc.main_worktree}; nothing to do")
        return 0
    reason = gitfiles.untrusted_reason(loc)
    if reason is not None:
        directory.unmark(loc.common_dir)
        print(f"huddle is disabled in {loc.main_worktree}; {state_dir} was left alone: {reason}")
        return 0
    everyone = sessions.load_all(str(state_dir), time.time())
    live = [s.name for s in everyone if s.live]
    files = directory.Contents(str(state_dir)).files
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
    directory.unmark(loc.common_dir)
    directory.remove(str(state_dir))
    _remove_exclude(loc)
    print("huddle is disabled here; `huddle enable` turns it on again")
    if {"ours", "stale"} & set(commands_cmd.state().values()):
        print(
            "The short commands /sessions, /note and /message stay, for other repositories: "
            "`huddle commands remove` takes them away."
        )
    return 0
