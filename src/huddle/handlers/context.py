"""What a handler gets: the event, where it happened, and the repository's state directory."""

from __future__ import annotations

from huddle.handlers.events import Event
from huddle.repo.gitfiles import Location


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
        from huddle.store import ran

        ran.mark(self.state_dir, self.event.name, self.now)
