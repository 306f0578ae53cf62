"""Per-repository settings, kept in the state directory's marker file `huddle.json`.

Hooks read them with one small file read; anything missing or malformed falls back to the
default, so a hand-edited file can never stop a hook.
"""

from __future__ import annotations

from huddle.store import atomic, paths
from huddle.store.layout import MARKER

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# name: (default, kind, help). Kinds: "seconds" (a positive int), "count", or a tuple of choices.
SETTINGS: dict[str, tuple[Any, Any, str]] = {
    "lease_ttl": (600, "seconds", "how long an edit keeps a soft lease on a file"),
    "lock_ttl": (7200, "seconds", "default lifetime of an explicit lock"),
    "warn_every": (300, "seconds", "least time between two same warnings (file and peer)"),
    "git_guard": (
        "warn",
        ("warn", "deny", "off"),
        "git commands that move HEAD or rewrite the worktree while another session works in it",
    ),
    "recent_files": (20, "count", "how many recently touched files a session lists"),
    "history_days": (7, "count", "days that notes and messages are kept for `huddle log`"),
    "send_rate": (20, "count", "notes and messages one sender may send per minute"),
    "wake": (
        "direct",
        ("all", "direct", "urgent", "off"),
        "what wakes a session idle at its prompt: urgent items and its `huddle run` results"
        " (urgent), also messages to it (direct), also notes and notices (all), or nothing",
    ),
}


# Longer is a typo, and a lock's end that far away is past what clocks and dates can show.
MAX_SECONDS = 366 * 86400


class BadSetting(ValueError):
    """A setting name or value that huddle does not accept."""


def load(state_dir: str) -> dict[str, Any]:
    """Every setting, with defaults for what the file lacks or holds wrongly."""
    try:
        stored = atomic.read_json_object(paths.join(state_dir, MARKER))
    except (OSError, atomic.Corrupt):
        stored = {}
    values = {}
    for name, (default, kind, _) in SETTINGS.items():
        value = stored.get(name, default)
        values[name] = value if _fits(kind, value) else default
    return values


def _fits(kind: Any, value: Any) -> bool:
    if isinstance(kind, tuple):
        return value in kind
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        return False
    return kind != "seconds" or value <= MAX_SECONDS


def parse(name: str, text: str) -> Any:
    """The value `text` stands for, for setting `name`; BadSetting if it is not one."""
    if name not in SETTINGS:
        raise BadSetting(f"no setting is called {name!r} (settings: {', '.join(SETTINGS)})")
    _, kind, _ = SETTINGS[name]
    if isinstance(kind, tuple):
        if text not in kind:
            raise BadSetting(f"{name} is one of {', '.join(kind)}")
        return text
    try:
        value = parse_duration(text) if kind == "seconds" else int(text)
    except (ValueError, OverflowError):  # OverflowError: "infm"
        raise BadSetting(
            f"{name} takes a positive {'duration' if kind == 'seconds' else 'number'}"
            " (like 600, 10m, 2h)"
        ) from None
    if value <= 0:
        raise BadSetting(f"{name} must be positive")
    if kind == "seconds" and value > MAX_SECONDS:
        raise BadSetting(f"{name} is at most {MAX_SECONDS // 86400}d")
    return value


def parse_duration(text: str) -> int:
    """Seconds from `90`, `90s`, `10m`, `2h` or `1d`."""
    text = text.strip().lower()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


def store(state_dir: str, name: str, value: Any) -> None:
    path = paths.join(state_dir, MARKER)
    try:
        stored = atomic.read_json_object(path)
    except (OSError, atomic.Corrupt):
        stored = {}
    stored[name] = value
    atomic.write_json(path, stored)
