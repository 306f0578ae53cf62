"""Who the MCP server speaks for.

Inside Claude Code (CLAUDE_CODE_SESSION_ID in its environment) it is the session that started it,
followed across /clear, compaction and resume: the newest live session of the same Claude Code
process, which is the server's parent (Claude Code gives an MCP server no CLAUDE_PID).

Any other client is a peer of its own: at its first call it is registered with a session id of
its own, named after the client and the branch, its kind the client's name, and live while the
client's process (the server's parent) lives.
"""

from __future__ import annotations

import os
import re
import time
import uuid

from huddle.cli.here import location
from huddle.companion import follow
from huddle.peers import procs, sessions
from huddle.repo import gitfiles
from huddle.store.ids import is_session_id


class Speaker:
    def __init__(self) -> None:
        given = os.environ.get("CLAUDE_CODE_SESSION_ID", "")
        self.session_id: str | None = given if is_session_id(given) else None
        self.client_pid = (sessions.current_pid() or os.getppid()) if self.session_id else None
        self.inside_claude_code = self.session_id is not None
        self.kind = ""

    def current(self, client_name: str | None) -> str | None:
        """The session id to speak as now; None when huddle is not enabled here (the verbs
        then say so)."""
        state_dir = _state_dir()
        if state_dir is None:
            return self.session_id
        if self.inside_claude_code:
            return self._followed(state_dir)
        if self.session_id is None:
            self.session_id = self._register(state_dir, client_name or "mcp")
        return self.session_id

    def _followed(self, state_dir: str) -> str | None:
        pid = self.client_pid
        started = procs.start_time(pid) if pid else None
        if pid is None or started is None or self.session_id is None:
            return self.session_id
        found = follow.current(state_dir, self.session_id, pid, started, procs.host())
        if found is not None:
            self.session_id = found
        return self.session_id

    def _register(self, state_dir: str, client_name: str) -> str:
        kind = _plain(client_name) or "mcp"
        loc = location()
        branch = gitfiles.branch(loc)
        session_id = str(uuid.uuid4())
        sessions.register(
            state_dir,
            session_id,
            loc,
            os.getcwd(),
            os.getppid(),  # the client: the session lives while it does
            time.time(),
            kind=kind,
            name=f"{kind}-{sessions.default_name(loc, branch)}",
        )
        self.kind = kind
        return session_id

    def end(self) -> None:
        """The client went away: an agent registered here ends as a Claude Code session does."""
        if self.inside_claude_code or self.session_id is None:
            return
        state_dir = _state_dir()
        if state_dir is not None:
            from huddle.peers import ending

            ending.end(state_dir, self.session_id, time.time(), "mcp_client_exit")


def _state_dir() -> str | None:
    try:
        return gitfiles.enabled_state_dir(gitfiles.locate(os.getcwd()))
    except gitfiles.NotARepository:
        return None


def _plain(name: str) -> str:
    """A client's name as a session name part: letters, digits and dashes, at most 20."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:20]
