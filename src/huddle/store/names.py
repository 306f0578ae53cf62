"""Human-friendly session names, unique within a repository.

A name is held by a claim file `names/<name>` that holds the session id, created only if absent,
so two sessions starting at the same moment can never get the same name. A claim whose holder
has ended or is gone may be taken over.
"""

from __future__ import annotations

import os
import re

from huddle.store import atomic, guard, paths
from huddle.store.ids import is_session_id
from huddle.store.layout import GUARD, NAMES

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

MAX_LENGTH = 32
_UNSAFE = re.compile(r"[^a-z0-9._-]+")


class NameTaken(Exception):
    """The name belongs to another session that is still around."""


def slug(text: str) -> str:
    """A name made of lower-case letters, digits, '.', '_' and '-'."""
    cleaned = _UNSAFE.sub("-", text.lower()).strip("-._")
    return cleaned[:MAX_LENGTH].rstrip("-._")


def holder(state_dir: str | os.PathLike[str], name: str) -> str | None:
    try:
        value = _read_claim(paths.join(state_dir, NAMES, name))
    except OSError:
        return None
    return value if is_session_id(value) else None


def _read_claim(path: str) -> str:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)  # a link is no claim
    with open(fd, encoding="utf-8") as handle:
        return handle.read(64).strip()


def claim(
    state_dir: str | os.PathLike[str], name: str, session_id: str, is_stale: Callable[[str], bool]
) -> bool:
    """Give `name` to the session; False if another session still holds it."""
    folder = paths.join(state_dir, NAMES)
    atomic.make_dirs(folder)
    path = os.path.join(folder, name)
    for _ in range(3):
        if atomic.create_exclusive(path, session_id.encode()):
            return True
        owner = holder(state_dir, name)
        if owner == session_id:
            return True
        if owner is not None and not is_stale(owner):
            return False
        _break_claim(path, owner)
    return False


def _break_claim(path: str, stale_owner: str | None) -> None:
    """Remove the claim, but only while it still holds `stale_owner` (None: no session id).

    Everyone who removes a claim holds the folder's lock, and a claim cannot be created while
    one is in place, so what was checked is what gets removed: a fresh claim that another
    taker made a moment ago is never touched, and no two takers can both win.
    """
    with guard.exclusive(_guard_path(os.path.dirname(path)), timeout=None):
        try:
            found = _read_claim(path)
        except FileNotFoundError:
            return
        if (found if is_session_id(found) else None) == stale_owner:
            os.unlink(path)


def _guard_path(folder: str) -> str:
    # slug() never makes a name that starts with a dot, so the lock file is no name.
    return os.path.join(folder, GUARD)


def release(state_dir: str | os.PathLike[str], name: str, session_id: str) -> None:
    folder = paths.join(state_dir, NAMES)
    if holder(state_dir, name) != session_id:
        return
    with guard.exclusive(_guard_path(folder), timeout=None):
        if holder(state_dir, name) == session_id:
            os.unlink(os.path.join(folder, name))


def claim_unique(
    state_dir: str | os.PathLike[str], wanted: str, session_id: str, is_stale: Callable[[str], bool]
) -> str:
    """Claim `wanted`, or `wanted-2`, `wanted-3`, ... whichever is first free."""
    base = slug(wanted) or "session"
    for n in range(1, 1000):
        candidate = base if n == 1 else f"{base[: MAX_LENGTH - 4]}-{n}"
        if claim(state_dir, candidate, session_id, is_stale):
            return candidate
    return session_id[:8]
