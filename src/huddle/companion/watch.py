"""The companion's loop: sleep on cheap checks, deliver what waits when the session can take it.

It sleeps until a file changes in the session's inbox or the state directory (changes.py:
inotify, or a look every TICK seconds where there is none), then looks at the modification times
of the inbox, the session's record and the settings (three stat calls), and thinks again only
when one of them changed or a time it set itself has come. Every CHECK_EVERY it checks that its
client still runs (pid and start time: a SIGKILLed client leaves its monitor behind), that
huddle is still enabled here, and, when the session's record changed, which session the client
runs now.

What it delivers, and when:
- The session is idle (its Stop hook ran): the items that wake it under the `wake` setting
  (talk/wake.py), gathered for GATHER seconds so that a burst makes one wake, and at most one
  wake every WAKE_EVERY seconds. The client starts a turn with them; that turn's
  UserPromptSubmit hook shows whatever else waits, as at any prompt.
- The session is working: urgent items only, at most every mailbox.URGENT_EVERY seconds
  (shared with the PostToolUse hook), once they have waited URGENT_GRACE seconds (the
  PostToolUse hook of an edit or Bash call shows them first when it can). The client shows
  them after the running tool call, whatever tool it is; the rest waits for the turn to end.
- A session that says it works but has done nothing for STALE_WORKING seconds may have had its
  turn cut short (Esc ends a turn without a Stop hook): it counts as idle.

Each item is claimed (mailbox.claim) before it is written out, so a hook racing for it cannot
show it again; one that cannot be written out (the client is gone) is put back.
"""

from __future__ import annotations

import os
import time

from huddle.companion import follow
from huddle.companion.changes import POLL
from huddle.store import companions, config, mailbox
from huddle.store.layout import MAIL, MARKER
from huddle.talk import inbox, wake
from huddle.vocab import IDLE, WORKING

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

TICK = POLL
CHECK_EVERY = 1.0
LOOK_AGAIN = 10.0  # seconds between searches for the client's session while it has none here
GATHER = 0.3
WAKE_EVERY = 3.0
URGENT_GRACE = 2.0
STALE_WORKING = 120.0
CONSIDERED = 500  # waiting items looked at, oldest first; more wait for the next delivery
RETHINK = 2.0
CLIENT_GONE, DELIVERED, TURNED_OFF = 0, 2, 3  # exit codes: 2 is what asyncRewake wakes on


class Client:
    """The Claude Code process a companion serves."""

    __slots__ = ("pid", "started", "host")

    def __init__(self, pid: int, started: str, host: str) -> None:
        self.pid, self.started, self.host = pid, started, host

    def runs(self) -> bool:
        from huddle.peers import procs

        return procs.start_time(self.pid) == self.started


class Watch:
    def __init__(
        self,
        state_dir: str,
        enabled_mark: str,
        client: Client,
        session_id: str | None,
        send: Callable[[str], None],
        record: dict[str, Any],
        *,
        once: bool = False,
        also: Callable[[float], int | None] | None = None,
    ) -> None:
        """`once`: end (DELIVERED) after the first delivery; `also`: one more check, whose
        exit code, when it gives one, ends the loop."""
        self.state_dir = state_dir
        self.enabled_mark = enabled_mark
        self.client = client
        self.session_id = session_id
        self.send = send
        self.record = record  # this companion's record in companions/
        self.once = once
        self.also = also
        self.delivered = False
        self.key = companions.key(client.host, client.pid, client.started)
        self.reaches: dict[str, str] = {}  # waiting item -> its reach, read once
        self.first_seen: float | None = None  # when the oldest wake-worthy item was seen
        self.last_wake = 0.0
        self.next_check = 0.0
        self.next_search = 0.0
        self.trouble: tuple[str, float] = ("", 0.0)
        self.seen: tuple[int, int, int] | None = None  # the mtimes when it last thought
        self.due = 0.0  # when it must think again even if nothing changed
        self.followed: tuple[int, int] | None = None  # what the session was followed from

    # ------------------------------------------------------------------ the loop

    def run(self) -> int:
        """Until the client is gone (CLIENT_GONE) or huddle is turned off here (TURNED_OFF)."""
        from huddle.companion.changes import Changes

        changes = Changes()
        changes.watch(self.state_dir)
        while True:
            now = time.time()
            try:
                # Watched once they exist: the first delivery makes them.
                changes.watch(os.path.join(self.state_dir, MAIL))
                if self.session_id is not None:
                    changes.watch(os.path.dirname(self.inbox()))
                    changes.watch(self.inbox())
                if now >= self.next_check:
                    self.next_check = now + CHECK_EVERY
                    ended = self.check(now)
                    if ended is not None:
                        return ended
                self.step(now)
                if self.once and self.delivered:
                    return DELIVERED
            except Exception as exc:  # noqa: BLE001 - an exiting monitor is never restarted
                from huddle.companion.sink import Gone

                if isinstance(exc, Gone):
                    return CLIENT_GONE
                self.complain(exc, now)
            changes.wait(min(self.next_check, self.due) - time.time())

    def check(self, now: float) -> int | None:
        if not self.client.runs():
            return CLIENT_GONE
        if not os.path.exists(self.enabled_mark):
            return TURNED_OFF
        if self.also is not None:
            ended = self.also(now)
            if ended is not None:
                return ended
        if self.session_id is None:
            if now < self.next_search:
                return None
        elif self.followed == self._follow_key():
            return None  # no record changed or came: it is still the client's session
        found = follow.current(
            self.state_dir,
            self.session_id or "",
            self.client.pid,
            self.client.started,
            self.client.host,
        )
        if found is None:
            self.next_search = now + LOOK_AGAIN
        elif found != self.session_id:
            self.session_id = found
            self.reaches.clear()
            self.seen = None
            self.save(session_id=found)
        self.followed = self._follow_key() if self.session_id else None
        return None

    def _follow_key(self) -> tuple[int, int]:
        """Its session's record, and the folder where a new session's record would appear."""
        return _mtime(self._record_path()), _mtime(self.state_dir)

    def inbox(self) -> str:
        """The session's `new/` folder (made by the first delivery to it: not here, since the
        state directory may be going away)."""
        return mailbox.box(self.state_dir, self.session_id or "", "new")

    def _record_path(self) -> str:
        from huddle.store import heartbeats

        return heartbeats.path_for(self.state_dir, self.session_id or "")

    def complain(self, exc: Exception, now: float) -> None:
        """Log a failure once a minute at most: the loop goes on."""
        from huddle import log

        said = f"companion: {exc!r}"
        if said != self.trouble[0] or now - self.trouble[1] > 60:
            log.write(said, with_traceback=True)
            self.trouble = (said, now)

    # ------------------------------------------------------------------ one tick

    def step(self, now: float) -> None:
        session_id = self.session_id
        if session_id is None:
            return
        seen = (
            _mtime(self.inbox()),
            _mtime(self._record_path()),
            _mtime(os.path.join(self.state_dir, MARKER)),
        )
        if seen == self.seen and now < self.due:
            return  # nothing changed, and nothing it waits for has come
        # Looked at again within RETHINK seconds whatever happens: a file system whose times are
        # coarse can make two changes look like one.
        self.seen, self.due = seen, now + RETHINK
        names = mailbox.waiting(self.state_dir, session_id)
        if not names:
            self.first_seen = None
            self.reaches.clear()
            return
        record = follow.record_of(self.state_dir, session_id)
        if record is None:
            return
        state = record.get("state")
        last = record.get("last_activity")
        stale = not isinstance(last, (int, float)) or now - last > STALE_WORKING
        if state == WORKING and not stale:
            assert isinstance(last, (int, float))
            self.think_again(last + STALE_WORKING)
            self.urgent_between_tools(session_id, names, now)
        elif state in (IDLE, WORKING):
            self.wake_if_due(session_id, names[:CONSIDERED], now)

    def think_again(self, at: float) -> None:
        """Think again by `at` even if nothing changes: a time it waits for comes then."""
        self.due = min(self.due, at)

    def urgent_between_tools(self, session_id: str, names: list[str], now: float) -> None:
        urgent = [n for n in names if mailbox.is_urgent(n)]
        if not urgent:
            return
        ready = [n for n in urgent if now - (mailbox.posted_at(n) or now) >= URGENT_GRACE]
        if len(ready) < len(urgent):
            self.think_again(now + TICK)
        if not ready:
            return
        if mailbox.recently_interrupted(self.state_dir, session_id, now, mailbox.URGENT_EVERY):
            self.think_again(now + CHECK_EVERY)
            return
        urgent = ready
        if self.deliver(session_id, urgent, now, wake.busy_head):
            mailbox.mark_interrupted(self.state_dir, session_id, now)

    def wake_if_due(self, session_id: str, names: list[str], now: float) -> None:
        setting = config.load(self.state_dir)["wake"]
        due = [n for n in names if wake.wakes(self.reach(session_id, n), setting)]
        if not due:
            self.first_seen = None
            return
        if self.first_seen is None:
            self.first_seen = now
        if now - self.first_seen < GATHER or now - self.last_wake < WAKE_EVERY:
            self.think_again(max(self.first_seen + GATHER, self.last_wake + WAKE_EVERY))
            return
        if self.deliver(session_id, due, now, wake.woken_head):
            self.last_wake = now
            self.first_seen = None
            self.think_again(now + WAKE_EVERY)  # what did not fit wakes it again then

    def reach(self, session_id: str, name: str) -> str:
        """The item's reach, read from it once (it cannot change while it waits)."""
        known = self.reaches.get(name)
        if known is None:
            message = mailbox.read_new(self.state_dir, session_id, name)
            known = wake.reach(message) if message is not None else wake.ALL
            if len(self.reaches) > 4 * CONSIDERED:
                self.reaches.clear()  # items claimed elsewhere: forget them all, read again
            self.reaches[name] = known
        return known

    def deliver(
        self,
        session_id: str,
        names: list[str],
        now: float,
        head: Callable[[list[dict[str, Any]]], str],
    ) -> bool:
        """Claim `names` and write them out as one event; False when nothing was left."""
        from huddle.companion.sink import BUDGET

        taken = inbox.take(self.state_dir, session_id, names, now, BUDGET)
        for name in taken.names:
            self.reaches.pop(name, None)
        if not taken.lines:
            return False
        if taken.left:
            self.think_again(now + TICK)
        text = inbox.frame(taken.lines, taken.left, head(taken.messages))
        try:
            self.send(text)
        except BaseException:
            for name in taken.names:
                mailbox.unclaim(self.state_dir, session_id, name)
            raise
        self.delivered = True
        delivered = int(self.record.get("delivered", 0)) + len(taken.names)
        self.save(delivered_at=now, delivered=delivered)
        return True

    def save(self, **changes: Any) -> None:
        self.record.update(changes)
        companions.write(self.state_dir, self.key, self.record)


def _mtime(path: str) -> int:
    """The file's modification time in ns; 0 when it is not there."""
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return 0
