"""The plugin's own folder around the package: the root holding `.claude-plugin/`, `hooks/`,
`bin/`, `requirements.txt` and this package under `src/`.

An installed plugin and a checkout have that folder. A package installed with pip does not:
then `root()` is None, and what needs the plugin's files (the hooks launcher, the venv build)
says so instead of failing.
"""

from __future__ import annotations

import os

MANIFEST = os.path.join(".claude-plugin", "plugin.json")
HOOKS_JSON = os.path.join("hooks", "hooks.json")
BIN = os.path.join("bin", "huddle")
REQUIREMENTS = "requirements.txt"
COMMANDS = "commands"  # the plugin's slash commands, one `<name>.md` each

# <root>/src/huddle/plugin/files.py
_CANDIDATE = os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
)


def root() -> str | None:
    """The plugin folder this package runs from, or None when it was installed without one."""
    if os.path.isfile(os.path.join(_CANDIDATE, HOOKS_JSON)) and os.path.isfile(
        os.path.join(_CANDIDATE, MANIFEST)
    ):
        return _CANDIDATE
    return None


def package_dir() -> str:
    """Where the `huddle` package itself is, plugin folder or not."""
    return os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
