"""SessionStart: write the heartbeat, tidy old records, and tell the session who else is here.

After compaction, resume, /clear or a fork the session is also told its own coordination state
(restore.py); after /clear it first takes over what the session it replaced held (lineage.py).
"""

from __future__ import annotations

import os

from huddle import log
from huddle.handlers import own, stop
from huddle.handlers.output import additional_context
from huddle.peers import departures, sessions
from huddle.plugin import bootstrap
from huddle.talk import digest, inbox, restore
from huddle.vocab import CLEAR, COMPACT, FORK, GONE, OVER, RESTORING, RESUME, STARTUP

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from huddle.handlers.context import Context
    from huddle.store.records import Heartbeat


def handle(context: Context) -> dict[str, Any] | None:
    if not trusted(context):
        return None
    bootstrap.start_if_needed()
    bootstrap.remember_interpreter()
    share_data_dir()
    departures.look_for_crashes(context.state_dir, context.session_id, context.now)
    given_back = last_given_back(context) if context.event.source == RESUME else None
    everyone = sessions.load_all(context.state_dir, context.now)
    peers = [s for s in everyone if s.live and s.session_id != context.session_id]
    try:
        me = own.register(context)
    except OSError as exc:
        # The session still learns about its peers when its own record cannot be written.
        log.write(f"SessionStart: could not write the heartbeat of {context.session_id}: {exc!r}")
        me = None
    else:
        sessions.sweep(context.state_dir, everyone, context.now)
        stop.take_baseline(context)
    source = context.event.source
    main = context.location.main_worktree
    if me is not None and source in RESTORING:
        own_state = restored(context, me, source, alone=not peers, given_back=given_back)
        room = restore.BUDGET - len(own_state or "") - 2
        parts = [own_state, digest.startup(peers, None, main, context.now, budget=room)]
    else:
        parts = [digest.startup(peers, me, main, context.now)]
        if source in (STARTUP, "") and me is not None:
            parts.append(digest.recent_notes(context.state_dir, context.session_id, context.now))
    # Whatever waits for the session shares one injection's budget with the rest.
    room = inbox.BUDGET - sum(len(p) for p in parts if p)
    parts.append(
        inbox.show_waiting(context.state_dir, context.session_id, context.now, budget=room)
    )
    text = "\n\n".join(p for p in parts if p)
    return additional_context("SessionStart", text) if text else None


def trusted(context: Context) -> bool:
    """False, and huddle turned off here, when git tracks files in the state directory: a pull
    or a checkout could write into it whatever the repository holds."""
    from huddle.repo import tracked

    found = tracked.state_files(context.location)
    if not found:
        return True
    from huddle.store import directory

    directory.unmark(context.location.common_dir)
    log.write(
        f"SessionStart: huddle is now off in {context.location.main_worktree}: git tracks "
        f"{len(found)} file(s) in its state directory ({found[0]}, ...); `huddle doctor` says more"
    )
    return False


def last_given_back(context: Context) -> str | None:
    """For a resumed session: what its last end (clean or not) gave back, as a line."""
    from huddle.display import clock
    from huddle.store import atomic, heartbeats

    try:
        before = heartbeats.read_raw(context.state_dir, context.session_id)
    except (FileNotFoundError, atomic.Corrupt):
        return None
    released, ended_at = before.get("released"), before.get("ended_at")
    if before.get("state") not in OVER or not isinstance(released, str):
        return None
    when = f" ({clock(ended_at)})" if isinstance(ended_at, (int, float)) else ""
    how = "its process died" if before.get("state") == GONE else "it ended"
    return (
        f"- when this session last ended{when}, {how} and huddle gave back what it held: "
        f"{released}. Lock or claim again what you still need."
    )


def restored(
    context: Context, me: Heartbeat, source: str, alone: bool, given_back: str | None = None
) -> str | None:
    """The session's own state after compaction, resume, /clear or a fork."""
    from huddle.peers import lineage
    from huddle.store import config, heartbeats

    state_dir, now = context.state_dir, context.now
    pid = sessions.current_pid()
    since: float | None = None
    inboxes: tuple[str, ...] = (me.session_id,)
    origin = None
    if source == COMPACT:
        since = me.context_since or me.started_at
    elif source == CLEAR:
        old = lineage.predecessor(state_dir, me.session_id, pid, now)
        if old is not None:
            take_over(context, me, old)
            since = old.get("context_since") or old.get("started_at")
            inboxes = (old["session_id"], me.session_id)
    elif source == FORK:
        parent = lineage.fork_parent(state_dir, me.session_id, pid)
        if parent is not None:
            origin = lineage.fork_origin_lines(state_dir, parent, now)
    record = heartbeats.read_raw(state_dir, me.session_id)
    text = restore.digest(
        state_dir,
        record,
        source,
        now,
        lease_ttl=config.load(state_dir)["lease_ttl"],
        since=since if isinstance(since, (int, float)) else None,
        inboxes=inboxes,
        origin=origin or given_back,
        alone=alone,
    )
    if source in (COMPACT, CLEAR):

        def mark(data: dict[str, Any]) -> None:
            data["context_since"] = now

        own.update(context, mark)
    return text


def take_over(context: Context, me: Heartbeat, old: dict[str, Any]) -> None:
    """After /clear: the new session gets the old one's name, task summary, files and holdings."""
    from huddle.peers import lineage
    from huddle.store import names

    name = old.get("name")
    if isinstance(name, str) and name != me.name:
        try:
            sessions.rename(context.state_dir, me, name, context.now)
        except (names.NameTaken, ValueError):
            pass  # a live session took the name meanwhile: keep the new one

    def inherit(data: dict[str, Any]) -> None:
        for key in ("task", "files", "contacts"):
            if old.get(key) and not data.get(key):
                data[key] = old[key]

    record = own.update(context, inherit)
    lineage.take_over(context.state_dir, old, record, context.now)


def share_data_dir() -> None:
    """Tell the session's later Bash calls where the plugin's data is.

    Claude Code gives Bash tool calls neither CLAUDE_PLUGIN_DATA nor CLAUDE_PLUGIN_ROOT; without
    this, `huddle` run by the model could not find the plugin's venv or log.
    """
    env_file = os.environ.get("CLAUDE_ENV_FILE")
    data = os.environ.get("CLAUDE_PLUGIN_DATA")
    if not env_file or not data:
        return
    line = "export HUDDLE_PLUGIN_DATA='" + data.replace("'", "'\\''") + "'\n"
    try:
        with open(env_file, encoding="utf-8") as handle:
            if line in handle.read():
                return
    except FileNotFoundError:
        pass
    with open(env_file, "a", encoding="utf-8") as handle:
        handle.write(line)
