"""One heartbeat file per session: `<state dir>/<session_id>.json`.

A session writes only its own file, always whole and atomically. Between rewrites the file's
mtime carries "last activity": touching it is the cheapest heartbeat there is.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from huddle import log
from huddle.records import Heartbeat, load
from huddle.store import atomic
from huddle.store.ids import is_session_id

SUFFIX = ".json"


def path_for(state: Path, session_id: str) -> Path:
    if not is_session_id(session_id):
        raise ValueError(f"not a session id: {session_id!r}")
    return state / f"{session_id}{SUFFIX}"


Parser = Callable[[Any, Any], Any]


def read(state: Path, session_id: str, parse: Parser = load) -> Heartbeat:
    """The session's record; FileNotFoundError if it has none, atomic.Corrupt if unreadable.

    `parse` is records.load (cheap, for hooks) or records.validate (strict, for the CLI).
    """
    path = path_for(state, session_id)
    try:
        record: Heartbeat = parse(Heartbeat, atomic.read_json_object(path))
    except ValueError as exc:  # records.Invalid, or pydantic.ValidationError
        raise atomic.Corrupt(f"{path.name}: {exc}") from None
    if record.session_id != session_id:
        raise atomic.Corrupt(f"{path.name} holds the record of another session")
    record.last_activity = max(record.last_activity, _mtime(path))
    return record


def write(state: Path, record: Heartbeat) -> None:
    atomic.write_json(path_for(state, record.session_id), record.to_json())


def touch(state: Path, session_id: str, now: float) -> bool:
    """Mark activity now without rewriting; False when the session has no record here."""
    try:
        os.utime(path_for(state, session_id), (now, now))
    except FileNotFoundError:
        return False
    return True


def remove(state: Path, session_id: str) -> None:
    try:
        os.unlink(path_for(state, session_id))
    except FileNotFoundError:
        pass


@dataclass(frozen=True)
class Unreadable:
    session_id: str
    reason: str


def scan(state: Path, parse: Parser = load) -> Iterator[Heartbeat | Unreadable]:
    """Every heartbeat in the state directory; a bad one is reported, never fatal."""
    try:
        entries = list(os.scandir(state))
    except OSError as exc:
        log.write(f"cannot list {state}: {exc}")
        return
    for entry in entries:
        name = entry.name
        if not name.endswith(SUFFIX) or not is_session_id(name[: -len(SUFFIX)]):
            continue
        session_id = name[: -len(SUFFIX)]
        try:
            yield read(state, session_id, parse)
        except FileNotFoundError:
            continue  # swept while we looked
        except (OSError, atomic.Corrupt) as exc:
            yield Unreadable(session_id, str(exc))


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
