"""`huddle config`: this repository's settings."""

from __future__ import annotations

import json

from huddle.cli.errors import UserError
from huddle.cli.here import here
from huddle.store import config


def run(name: str | None, value: str | None, as_json: bool) -> int:
    h = here()
    if name is not None and value is not None:
        try:
            parsed = config.parse(name, value)
        except config.BadSetting as exc:
            raise UserError(str(exc)) from None
        config.store(h.state_dir, name, parsed)
        print(f"{name} = {parsed}")
        return 0
    values = config.load(h.state_dir)
    if name is not None:
        if name not in config.SETTINGS:
            raise UserError(f"no setting is called {name!r} (settings: {', '.join(values)})")
        print(values[name])
        return 0
    if as_json:
        print(json.dumps(values, indent=2))
        return 0
    for key, (default, kind, text) in config.SETTINGS.items():
        unit = " s" if kind == "seconds" else ""
        note = "" if values[key] == default else f" (default {default})"
        print(f"{key} = {values[key]}{unit}{note}  # {text}")
    return 0
