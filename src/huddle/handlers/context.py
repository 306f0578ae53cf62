"""What a handler gets: the event, where it happened, and the repository's state directory."""

from __future__ import annotations

import os

from huddle.handlers.events import Event
from huddle.repo.gitfiles import Location

RAN_FOLDER = "ran"


class Context:
    __slots__ = ("event", "location", "state_dir", "now", "cwd")

    def __init__(
        self, event: Event, location: Location, state_dir: str, now: float, cwd: str
    ) -> None:
        self.event = event
        self.location = location
        self.state_dir = state_dir  # the state directory
        self.now = now
        self.cwd = cwd

    @property
    def session_id(self) -> str:
        return self.event.session_id

    def mark_ran(self) -> None:
        """Note when this hook last ran in this repository, for `huddle doctor`."""
        path = os.path.join(self.state_dir, RAN_FOLDER, self.event.name)
        try:
            os.utime(path, (self.now, self.now))
        except FileNotFoundError:
            os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
