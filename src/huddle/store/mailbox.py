"""Each session's inbox, delivered the way Maildir does it: lock-free and crash-safe.

`mail/<session id>/tmp/` holds messages being written; renaming one into `new/` delivers it,
whole or not at all, so a sender killed mid-write leaves at most a stray file in `tmp/`. The
recipient claims a message by renaming it from `new/` into `cur/`: of two hooks of the same
session racing for it, only one rename succeeds, so each message is shown exactly once. The
claim's time is written on the `cur/` file (its mtime), which is how a sender learns when its
message was delivered. Names start with the time, so a listing sorts in delivery order, and
urgent messages carry `.urgent` in their name, so they are found without reading anything.
"""

from __future__ import annotations

import itertools
import os

from huddle.store import atomic, paths
from huddle.store.ids import is_session_id
from huddle.store.layout import FILE_MODE, MAIL, URGENT_SHOWN

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

URGENT = ".urgent"
NOTE = ".note"
URGENT_EVERY = 30.0  # seconds: urgent items interrupt a busy session at most this often
_counter = itertools.count()


def box(state_dir: str, session_id: str, part: str) -> str:
    """The session's inbox folder `part` (tmp, new, cur or bad)."""
    if not is_session_id(session_id):
        raise ValueError(f"not a session id: {session_id!r}")
    return paths.join(state_dir, MAIL, session_id, part)


def name_for(message_id: str, now: float, urgent: bool, note: bool = False) -> str:
    """Time first, for order; urgency and notes marked, so they are found without reading."""
    mark = URGENT if urgent else NOTE if note else ""
    return f"{int(now * 1e6):019d}.{message_id}{mark}.json"


def deliver(state_dir: str, recipient: str, name: str, data: bytes) -> None:
    """Put a message (its JSON bytes) into the recipient's inbox under `name`."""
    tmp, new = box(state_dir, recipient, "tmp"), box(state_dir, recipient, "new")
    for folder in (tmp, new, box(state_dir, recipient, "cur")):
        atomic.make_dirs(folder)
    aside = os.path.join(tmp, f"{name}.{os.getpid()}.{next(_counter)}")
    atomic.write_bytes(aside, data)
    os.rename(aside, os.path.join(new, name))


def waiting(state_dir: str, session_id: str) -> list[str]:
    """Names of the messages not yet shown, oldest first. Cheap: one listing of a folder that
    is usually empty, however long the history."""
    try:
        names = os.listdir(box(state_dir, session_id, "new"))
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(n for n in names if n.endswith(".json"))


def is_urgent(name: str) -> bool:
    return name.endswith(URGENT + ".json")


def posted_at(name: str) -> float | None:
    """When the message named `name` was posted, from its name (see name_for)."""
    try:
        return int(name[:19]) / 1e6
    except ValueError:
        return None


def read_new(state_dir: str, session_id: str, name: str) -> dict[str, Any] | None:
    """A waiting message; None if it is gone (claimed meanwhile) or was set aside as corrupt."""
    path = os.path.join(box(state_dir, session_id, "new"), name)
    try:
        return atomic.read_json_object(path, limit=1 << 20)
    except FileNotFoundError:
        return None
    except atomic.Corrupt as exc:
        set_aside(state_dir, session_id, name, str(exc))
        return None


def set_aside(state_dir: str, session_id: str, name: str, reason: str) -> None:
    from huddle import log

    bad = box(state_dir, session_id, "bad")
    atomic.make_dirs(bad)
    try:
        os.rename(os.path.join(box(state_dir, session_id, "new"), name), os.path.join(bad, name))
    except FileNotFoundError:
        return
    log.write(f"set aside the unreadable message {name} for {session_id}: {reason}")


def claim(state_dir: str, session_id: str, name: str, now: float) -> bool:
    """Mark a waiting message delivered; False if another hook of the session claimed it."""
    target = os.path.join(box(state_dir, session_id, "cur"), name)
    try:
        os.rename(os.path.join(box(state_dir, session_id, "new"), name), target)
    except FileNotFoundError:
        return False
    try:
        os.utime(target, (now, now), follow_symlinks=False)
    except OSError:
        pass  # the delivery time is a courtesy to the sender; the claim is what counts
    return True


def unclaim(state_dir: str, session_id: str, name: str) -> None:
    """Put a claimed message back to waiting: it could not be shown after all."""
    try:
        os.rename(
            os.path.join(box(state_dir, session_id, "cur"), name),
            os.path.join(box(state_dir, session_id, "new"), name),
        )
    except FileNotFoundError:
        pass


def delivered_at(state_dir: str, session_id: str, name: str) -> float | None:
    """When the recipient was shown the message, or None while it waits."""
    try:
        return os.stat(os.path.join(box(state_dir, session_id, "cur"), name)).st_mtime
    except OSError:
        return None


def read_any(state_dir: str, session_id: str, name: str) -> dict[str, Any] | None:
    for part in ("new", "cur"):
        try:
            return atomic.read_json_object(os.path.join(box(state_dir, session_id, part), name))
        except (OSError, atomic.Corrupt):
            continue
    return None


def delivered(state_dir: str, session_id: str) -> list[str]:
    try:
        names = os.listdir(box(state_dir, session_id, "cur"))
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(n for n in names if n.endswith(".json"))


def sweep_tmp(state_dir: str, now: float, older_than: float) -> int:
    """Remove what senders killed mid-write left in inboxes' `tmp/` folders."""
    from huddle.store.tidy import remove_older_than

    try:
        root = paths.join(state_dir, MAIL)
        inboxes = os.listdir(root)
    except OSError:
        return 0
    return sum(
        remove_older_than(tmp, now, older_than)
        for tmp in (os.path.join(root, s, "tmp") for s in inboxes if is_session_id(s))
        # A link is never followed: whatever it points at is not huddle's.
        if not os.path.islink(tmp) and not os.path.islink(os.path.dirname(tmp))
    )


def recently_interrupted(state_dir: str, session_id: str, now: float, every: float) -> bool:
    """Whether urgent messages were shown to the session between tool calls in the last
    `every` seconds (they interrupt a busy session at most that often)."""
    try:
        return now - os.stat(_urgent_shown(state_dir, session_id)).st_mtime < every
    except FileNotFoundError:
        return False


def mark_interrupted(state_dir: str, session_id: str, now: float) -> None:
    marker = _urgent_shown(state_dir, session_id)
    os.close(os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, FILE_MODE))
    os.utime(marker, (now, now), follow_symlinks=False)


def _urgent_shown(state_dir: str, session_id: str) -> str:
    return os.path.join(os.path.dirname(box(state_dir, session_id, "new")), URGENT_SHOWN)


def forget(state_dir: str, session_id: str) -> None:
    """The session's whole inbox, read and unread (when its record is swept)."""
    import shutil

    if is_session_id(session_id):
        shutil.rmtree(paths.join(state_dir, MAIL, session_id), ignore_errors=True)
