"""What the CLI needs to know first: which repository, and who is speaking."""

from __future__ import annotations

import os
from dataclasses import dataclass

from huddle.cli.errors import UserError
from huddle.repo import gitfiles
from huddle.store.ids import is_session_id


@dataclass(frozen=True)
class Here:
    location: gitfiles.Location
    state_dir: str  # the state directory
    session_id: str | None  # None: a person at a plain terminal


def location() -> gitfiles.Location:
    try:
        return gitfiles.locate(os.getcwd())
    except gitfiles.NotARepository as exc:
        raise UserError(f"{exc}: huddle works inside a git repository") from None


def here() -> Here:
    """The enabled repository of the working directory, and the calling session if any."""
    loc = location()
    reason = gitfiles.refuse_reason(loc)
    if reason:
        raise UserError(f"huddle cannot be used here: {reason}")
    state_dir = gitfiles.enabled_state_dir(loc)
    if state_dir is None:
        raise UserError(
            f"huddle is not enabled in {loc.main_worktree}: run `huddle enable` there first"
        )
    return Here(loc, state_dir, calling_session())


def calling_session() -> str | None:
    value = os.environ.get("CLAUDE_CODE_SESSION_ID", "")
    return value if is_session_id(value) else None
