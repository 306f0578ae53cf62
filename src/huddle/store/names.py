"""Human-friendly session names, unique within a repository.

A name is held by a claim file `names/<name>` that holds the session id, created only if absent,
so two sessions starting at the same moment can never get the same name. A claim whose holder
has ended or is gone may be taken over.
"""

from __future__ import annotations

import os
import re

from huddle.store import atomic
from huddle.store.ids import is_session_id

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

FOLDER = "names"
MAX_LENGTH = 32
_UNSAFE = re.compile(r"[^a-z0-9._-]+")


class NameTaken(Exception):
    """The name belongs to another session that is still around."""


def slug(text: str) -> str:
    """A name made of lower-case letters, digits, '.', '_' and '-'."""
    cleaned = _UNSAFE.sub("-", text.lower()).strip("-._")
    return cleaned[:MAX_LENGTH].rstrip("-._")


def holder(state: str | os.PathLike[str], name: str) -> str | None:
    try:
        with open(os.path.join(state, FOLDER, name), encoding="utf-8") as handle:
            value = handle.read(64).strip()
    except OSError:
        return None
    return value if is_session_id(value) else None


def claim(
    state: str | os.PathLike[str], name: str, session_id: str, is_stale: Callable[[str], bool]
) -> bool:
    """Give `name` to the session; False if another session still holds it."""
    folder = os.path.join(state, FOLDER)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    path = os.path.join(folder, name)
    for _ in range(3):
        if atomic.create_exclusive(path, session_id.encode()):
            return True
        owner = holder(state, name)
        if owner == session_id:
            return True
        if owner is not None and not is_stale(owner):
            return False
        # Break the stale claim by renaming it away: of several takers, one rename succeeds.
        _break_claim(path, owner)
    return False


def _break_claim(path: str, stale_owner: str | None) -> None:
    """Move a stale claim away; of several takers one rename succeeds.

    If another taker replaced the claim in between, what was moved is put back.
    """
    folder, name = os.path.split(path)
    aside = os.path.join(folder, f".{name}.{os.getpid()}.stale")
    try:
        os.rename(path, aside)
    except FileNotFoundError:
        return
    try:
        with open(aside, encoding="utf-8") as handle:
            moved = handle.read(64).strip()
        if moved != (stale_owner or ""):
            try:
                os.link(aside, path)
            except FileExistsError:
                pass
    finally:
        os.unlink(aside)


def release(state: str | os.PathLike[str], name: str, session_id: str) -> None:
    if holder(state, name) == session_id:
        try:
            os.unlink(os.path.join(state, FOLDER, name))
        except FileNotFoundError:
            pass


def claim_unique(
    state: str | os.PathLike[str], wanted: str, session_id: str, is_stale: Callable[[str], bool]
) -> str:
    """Claim `wanted`, or `wanted-2`, `wanted-3`, ... whichever is first free."""
    base = slug(wanted) or "session"
    for n in range(1, 1000):
        candidate = base if n == 1 else f"{base[: MAX_LENGTH - 4]}-{n}"
        if claim(state, candidate, session_id, is_stale):
            return candidate
    return session_id[:8]
