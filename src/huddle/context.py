"""What a handler gets: the event, where it happened, and the repository's state directory."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from huddle.events import Event
from huddle.repo import Location

RAN_FOLDER = "ran"


@dataclass
class Context:
    event: Event
    location: Location
    state: Path
    now: float
    cwd: str

    @property
    def session_id(self) -> str:
        return self.event.session_id

    def mark_ran(self) -> None:
        """Note when this hook last ran in this repository, for `huddle doctor`."""
        path = self.state / RAN_FOLDER / self.event.name
        try:
            os.utime(path, (self.now, self.now))
        except FileNotFoundError:
            path.parent.mkdir(mode=0o700, exist_ok=True)
            path.touch(mode=0o600)
