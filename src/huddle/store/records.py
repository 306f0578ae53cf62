"""The schema of every stored record, written once as plain dataclasses.

Hooks run on every tool call and cannot pay for importing pydantic, so they read records with
`load`, a cheap structural check of the JSON types. The CLI and `doctor` validate the same
classes strictly with pydantic (`validate`), where a bad record is worth a precise message.
Annotations use `typing` spellings so that Python 3.9 can evaluate them.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import asdict, dataclass, field
from functools import cache
from typing import Any, List, Optional, TypeVar  # noqa: UP035

RECORD_VERSION = 1


# Read by pydantic in `validate`: times must be finite numbers there too, as `load` requires.
_PYDANTIC_CONFIG = {"allow_inf_nan": False}


@dataclass
class TouchedFile:
    path: str  # relative to the worktree root
    at: float

    __pydantic_config__ = _PYDANTIC_CONFIG


@dataclass
class Heartbeat:
    session_id: str
    name: str
    pid: Optional[int]  # noqa: UP045 - the Claude Code process (CLAUDE_PID)
    pid_start: Optional[str]  # noqa: UP045 - that process's start time, from procs.start_time
    host: str
    worktree: str  # absolute path of the session's worktree
    branch: str
    cwd: str
    started_at: float
    last_activity: float
    state: str  # vocab.SESSION_STATES
    task: str = ""
    files: List[TouchedFile] = field(default_factory=list)  # noqa: UP006
    ended_at: Optional[float] = None  # noqa: UP045
    end_reason: Optional[str] = None  # noqa: UP045 - vocab.END_CLEAR, END_CRASHED or SessionEnd's
    context_since: Optional[float] = None  # noqa: UP045 - the last compaction or /clear
    contacts: List[str] = field(default_factory=list)  # noqa: UP006 - sessions it wrote to
    released: Optional[str] = None  # noqa: UP045 - what its end gave back, for a resume
    kind: str = ""  # "" for Claude Code; the MCP client's own name for another agent
    version: int = RECORD_VERSION

    __pydantic_config__ = _PYDANTIC_CONFIG

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


R = TypeVar("R")


class Invalid(ValueError):
    """A record whose fields do not have the types of the schema."""


_JSON_KINDS: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
}


@cache
def _kinds(cls: type) -> dict[str, tuple[tuple[type, ...], bool, bool]]:
    """Per field: accepted JSON types, whether None is allowed, whether it is required."""
    table = {}
    for f in dataclasses.fields(cls):
        spelled = str(f.type)
        optional = spelled.startswith("Optional[")
        inner = spelled[len("Optional[") : -1] if optional else spelled
        kinds = (list,) if inner.startswith("List[") else _JSON_KINDS.get(inner, (dict,))
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        table[f.name] = (kinds, optional, required)
    return table


def load(cls: type[R], data: dict[str, Any]) -> R:
    """Build `cls` from JSON data, checking types cheaply; unknown keys are ignored."""
    values: dict[str, Any] = {}
    for name, (kinds, optional, required) in _kinds(cls).items():  # type: ignore[arg-type]
        if name not in data:
            if required:
                raise Invalid(f"{cls.__name__} lacks {name!r}")
            continue
        value = data[name]
        if value is None and optional:
            values[name] = None
        elif (
            isinstance(value, kinds)
            and not (isinstance(value, bool) and bool not in kinds)
            and (float not in kinds or _is_finite(value))
        ):
            values[name] = value
        else:
            raise Invalid(f"{cls.__name__}.{name} has the wrong type")
    record = cls(**values)
    if isinstance(record, Heartbeat):
        record.files = [load(TouchedFile, item) for item in record.files if isinstance(item, dict)]
    return record


def _is_finite(number: object) -> bool:
    """False for NaN, the infinities and ints too large for a float: Python's json reads them
    all, and any of them in a peer's record would break the arithmetic on times."""
    if not isinstance(number, (int, float)):
        return False
    try:
        return math.isfinite(number)
    except OverflowError:
        return False


def strict_or_cheap() -> Any:
    """`validate` where pydantic is installed, else `load`: the CLI works either way."""
    try:
        import pydantic  # noqa: F401
    except ImportError:
        return load
    return validate


def validate(cls: type[R], data: Any) -> R:
    """Strict validation with pydantic, for the CLI and doctor: the JSON types `load` takes."""
    import json

    from pydantic import TypeAdapter

    adapter = _ADAPTERS.get(cls)
    if adapter is None:
        adapter = _ADAPTERS[cls] = TypeAdapter(cls)
    # Strict validation of the JSON text, not of the dict: strict mode on a dict wants a
    # dataclass instance, and lax mode takes "12" or true for a number.
    result: R = adapter.validate_json(json.dumps(data), strict=True)
    return result


_ADAPTERS: dict[Any, Any] = {}
