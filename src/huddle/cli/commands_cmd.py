"""`huddle commands`: the short slash commands `/sessions`, `/note` and `/message`.

A plugin's commands are namespaced (`/huddle:note`); a user's own, in `~/.claude/commands/`, are
not. `install` puts there a copy of each of the plugin's commands under its short name, marked
as huddle's: the same `huddle` command line, so the same code, found on the PATH Claude Code
gives the session (no version folder is written into them, so a plugin update keeps them
working). A file of the user's under one of those names is never touched; `remove` takes away
only files that carry huddle's mark.
"""

from __future__ import annotations

import os
from pathlib import Path

from huddle.cli.errors import UserError
from huddle.plugin import files
from huddle.store import atomic

SHORT = ("sessions", "note", "message")
MARK = (
    "<!-- huddle: `huddle commands install` put this here; `huddle commands remove` removes it -->"
)


def folder() -> Path:
    """The user's own commands: `$CLAUDE_CONFIG_DIR/commands`, by default ~/.claude/commands."""
    config = os.environ.get("CLAUDE_CONFIG_DIR") or os.path.join(os.path.expanduser("~"), ".claude")
    return Path(config) / "commands"


def is_ours(path: Path) -> bool:
    try:
        return MARK in path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return False


def text_for(name: str) -> str:
    """The plugin's own `/huddle:<name>`, marked as huddle's, after its front matter."""
    root = files.root()
    if root is None:
        raise UserError(
            "the short commands are copies of the plugin's: run this from the plugin "
            "(`huddle` inside a Claude Code session, or the plugin checkout's bin/huddle)"
        )
    source = Path(root) / files.COMMANDS / f"{name}.md"
    text = source.read_text(encoding="utf-8")
    head, sep, body = text.partition("\n---\n")
    if not text.startswith("---\n") or not sep:
        raise UserError(f"{source} has no front matter")
    return f"{head}{sep}{MARK}\n{body}"


def state() -> dict[str, str]:
    """For each short name: "ours", "stale" (ours, from an older plugin), "theirs" (the user's
    own file) or "missing"."""
    where = folder()
    found = {}
    for name in SHORT:
        path = where / f"{name}.md"
        if not path.exists():
            found[name] = "missing"
        elif not is_ours(path):
            found[name] = "theirs"
        else:
            found[name] = "stale" if _differs(path, name) else "ours"
    return found


def _differs(path: Path, name: str) -> bool:
    if files.root() is None:
        return False  # nothing to compare with
    try:
        return path.read_text(encoding="utf-8") != text_for(name)
    except (OSError, UserError):
        return False


def install() -> int:
    where = folder()
    texts = {name: text_for(name) for name in SHORT}
    where.mkdir(parents=True, exist_ok=True)
    done, kept = [], []
    for name, now in state().items():
        if now == "theirs":
            kept.append(name)
            continue
        atomic.write_bytes(where / f"{name}.md", texts[name].encode("utf-8"))
        done.append(name)
    if done:
        typed = ", ".join(f"/{name}" for name in done)
        print(f"installed {typed} in {where}: type them as well as /huddle:{done[0]} and the rest")
    for name in kept:
        print(f"left your own /{name} alone ({where / (name + '.md')}): /huddle:{name} still works")
    print("They take effect in sessions started from now on; `huddle commands remove` undoes it.")
    return 0


def remove() -> int:
    where = folder()
    gone = []
    for name, now in state().items():
        if now in ("ours", "stale"):
            (where / f"{name}.md").unlink()
            gone.append(f"/{name}")
        elif now == "theirs":
            print(f"left your own /{name} alone ({where / (name + '.md')})")
    print(f"removed {', '.join(gone)}" if gone else "no short command of huddle's is installed")
    return 0


def show() -> int:
    where = folder()
    for name, now in state().items():
        words = {
            "ours": "installed",
            "stale": "installed, from an older huddle: `huddle commands install` updates it",
            "theirs": "yours (not huddle's): /huddle:" + name + " is huddle's",
            "missing": "not installed",
        }[now]
        print(f"/{name}: {words}")
    if "missing" in state().values():
        print(f"`huddle commands install` puts them in {where}")
    return 0


def hint() -> str | None:
    """One line offering the short names, when they are not all there."""
    try:
        now = state()
    except OSError:
        return None
    if all(value != "missing" for value in now.values()):
        return None
    return (
        "To type /note, /message and /sessions rather than /huddle:note and the rest: "
        "`huddle commands install` (once per machine)"
    )
