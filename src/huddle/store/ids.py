"""Session ids come from Claude Code as UUIDs; nothing else may become part of a path.

Checked by hand rather than with a regular expression: compiling one costs every hook more than
the check itself.
"""

from __future__ import annotations

_HEX = frozenset("0123456789abcdefABCDEF")
_DASHES = (8, 13, 18, 23)


def is_session_id(value: object) -> bool:
    """`value` is a UUID in its 8-4-4-4-12 form (either case), and nothing else."""
    if not isinstance(value, str) or len(value) != 36:
        return False
    for index, char in enumerate(value):
        if index in _DASHES:
            if char != "-":
                return False
        elif char not in _HEX:
            return False
    return True
