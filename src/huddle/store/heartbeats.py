"""One heartbeat file per session: `<state dir>/<session_id>.json`.

A session writes only its own file, always whole and atomically. Between rewrites the file's
mtime carries "last activity": touching it is the cheapest heartbeat there is.

Hooks on the hot path use the raw functions (`touch`, `read_raw`, `write_raw`) and never import
the schema module; everything else reads typed records with `read` and `scan`.
"""

from __future__ import annotations

import os

from huddle.store import atomic, paths
from huddle.store.ids import is_session_id
from huddle.store.layout import GUARD
from huddle.store.layout import HEARTBEAT_SUFFIX as SUFFIX

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any

    from huddle.store.records import Heartbeat

    Parser = Callable[[Any, Any], Any]


def path_for(state_dir: str | os.PathLike[str], session_id: str) -> str:
    if not is_session_id(session_id):
        raise ValueError(f"not a session id: {session_id!r}")
    return paths.join(state_dir, session_id + SUFFIX)


def touch(state_dir: str | os.PathLike[str], session_id: str, now: float) -> bool:
    """Mark activity now without rewriting; False when the session has no record here."""
    try:
        os.utime(path_for(state_dir, session_id), (now, now), follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def read_raw(state_dir: str | os.PathLike[str], session_id: str) -> dict[str, Any]:
    """The record as stored, with last_activity brought up to the file's mtime."""
    path = path_for(state_dir, session_id)
    data = atomic.read_json_object(path)
    if data.get("session_id") != session_id:
        raise atomic.Corrupt(f"{os.path.basename(path)} is not a record of this session")
    stamp = data.get("last_activity")
    if isinstance(stamp, (int, float)) and not isinstance(stamp, bool):
        data["last_activity"] = max(stamp, _mtime(path))
    return data


def write_raw(state_dir: str | os.PathLike[str], data: dict[str, Any]) -> None:
    atomic.write_json(path_for(state_dir, data["session_id"]), data)


def update(
    state_dir: str | os.PathLike[str],
    session_id: str,
    change: Callable[[dict[str, Any]], None],
    *,
    activity: bool = True,
) -> dict[str, Any]:
    """Read, change and rewrite the record while holding the session's own lock.

    A session's hooks can run at once (PostToolUse of parallel tools) and so can its `huddle`
    commands; without the lock one rewrite could undo another. With `activity` False the
    rewrite does not count as the session's activity. FileNotFoundError and atomic.Corrupt as
    for read_raw.
    """
    from huddle.store import guard  # not for `touch`, all PreToolUse needs

    with guard.exclusive(_lock_path(state_dir, session_id), timeout=None):
        data = read_raw(state_dir, session_id)
        change(data)
        write_raw(state_dir, data)
        last = data.get("last_activity")
        if not activity and isinstance(last, (int, float)):
            # The file's mtime is the session's last activity: this rewrite is none of it.
            try:
                os.utime(path_for(state_dir, session_id), (last, last), follow_symlinks=False)
            except OSError:
                pass
        return data


def _lock_path(state_dir: str | os.PathLike[str], session_id: str) -> str:
    path_for(state_dir, session_id)  # the same check of the id
    return paths.join(state_dir, "." + session_id + GUARD)  # removed only with the record


def read(
    state_dir: str | os.PathLike[str], session_id: str, parse: Parser | None = None
) -> Heartbeat:
    """The session's record; FileNotFoundError if it has none, atomic.Corrupt if unreadable.

    `parse` is records.load (cheap, the default) or records.validate (strict, pydantic).
    """
    from huddle.store import records

    data = read_raw(state_dir, session_id)
    try:
        record: Heartbeat = (parse or records.load)(records.Heartbeat, data)
    except ValueError as exc:  # records.Invalid, or pydantic's ValidationError
        raise atomic.Corrupt(f"{session_id}{SUFFIX}: {exc}") from None
    return record


def write(state_dir: str | os.PathLike[str], record: Heartbeat) -> None:
    write_raw(state_dir, record.to_json())


def remove(state_dir: str | os.PathLike[str], session_id: str) -> None:
    """Delete the record and its lock file (only for sessions long gone: nobody holds it)."""
    for path in (path_for(state_dir, session_id), _lock_path(state_dir, session_id)):
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


class Unreadable:
    __slots__ = ("session_id", "reason")

    def __init__(self, session_id: str, reason: str) -> None:
        self.session_id = session_id
        self.reason = reason


def scan(
    state_dir: str | os.PathLike[str], parse: Parser | None = None
) -> Iterator[Heartbeat | Unreadable]:
    """Every heartbeat in the state directory; a bad one is reported, never fatal."""
    from huddle import log

    try:
        entries = list(os.scandir(state_dir))
    except OSError as exc:
        log.write(f"cannot list {os.fspath(state_dir)}: {exc}")
        return
    for entry in entries:
        name = entry.name
        if not name.endswith(SUFFIX) or not is_session_id(name[: -len(SUFFIX)]):
            continue
        session_id = name[: -len(SUFFIX)]
        try:
            yield read(state_dir, session_id, parse)
        except FileNotFoundError:
            continue  # swept while we looked
        except (OSError, atomic.Corrupt) as exc:
            yield Unreadable(session_id, str(exc))


def scan_raw(state_dir: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """Every readable record as stored, for hooks: nothing is parsed beyond JSON."""
    try:
        names = os.listdir(state_dir)
    except OSError:
        return
    for name in names:
        if name.endswith(SUFFIX) and is_session_id(name[: -len(SUFFIX)]):
            try:
                yield read_raw(state_dir, name[: -len(SUFFIX)])
            except (OSError, atomic.Corrupt):
                continue


def _mtime(path: str) -> float:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return 0.0
