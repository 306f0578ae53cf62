"""Session ids come from Claude Code as UUIDs; nothing else may become part of a path."""

from __future__ import annotations

import re

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def is_session_id(value: object) -> bool:
    return isinstance(value, str) and _UUID.fullmatch(value) is not None
