"""Each session's inbox, delivered the way Maildir does it: lock-free and crash-safe.

`mail/<session id>/tmp/` holds messages being written; renaming one into `new/` delivers it,
whole or not at all. The recipient's hook moves what it shows the model into `cur/`, so each
message is shown once. Names start with the time, so a listing sorts in delivery order.
"""

from __future__ import annotations

import itertools
import json
import os

from huddle.store import atomic

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

FOLDER = "mail"
_counter = itertools.count()


def _box(state: str, session_id: str, part: str) -> str:
    return os.path.join(state, FOLDER, session_id, part)


def deliver(state: str, recipient: str, message: dict[str, Any], now: float) -> str:
    """Put `message` into the recipient's inbox; the name it is known by."""
    name = f"{int(now * 1e6):019d}.{os.getpid()}.{next(_counter)}.json"
    tmp, new = _box(state, recipient, "tmp"), _box(state, recipient, "new")
    for folder in (tmp, new, _box(state, recipient, "cur")):
        os.makedirs(folder, mode=0o700, exist_ok=True)
    data = json.dumps(message, ensure_ascii=False).encode("utf-8")
    atomic.write_bytes(os.path.join(tmp, name), data)
    os.rename(os.path.join(tmp, name), os.path.join(new, name))
    return name


def has_new(state: str, session_id: str) -> bool:
    """Cheap: one directory listing of an inbox that is usually empty or absent."""
    try:
        with os.scandir(_box(state, session_id, "new")) as entries:
            return any(True for _ in entries)
    except (FileNotFoundError, NotADirectoryError):
        return False


def take_new(state: str, session_id: str) -> list[dict[str, Any]]:
    """The new messages, oldest first, each moved to `cur/` as it is taken."""
    new, cur = _box(state, session_id, "new"), _box(state, session_id, "cur")
    try:
        names = sorted(n for n in os.listdir(new) if n.endswith(".json"))
    except (FileNotFoundError, NotADirectoryError):
        return []
    taken = []
    for name in names:
        try:
            message = atomic.read_json_object(os.path.join(new, name), limit=65536)
            os.rename(os.path.join(new, name), os.path.join(cur, name))
        except FileNotFoundError:
            continue  # taken by a concurrent hook of the same session
        except atomic.Corrupt:
            os.replace(os.path.join(new, name), os.path.join(cur, name + ".bad"))
            continue
        taken.append(message)
    return taken
