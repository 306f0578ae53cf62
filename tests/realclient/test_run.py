"""`huddle run` through the real Claude Code client, with the project's own plugin loaded.

Session A's model starts ``huddle run -- sh -c 'sleep 1; echo boom >&2; exit 3'`` as a
background Bash task (``run_in_background``, which the client honours: the tool result says
"Command running in background" and the turn ends while the command still runs).

Observed with client 2.1.332: when a background task exits, the client starts a turn of its own
(a ``<task-notification>`` system reminder, no user text), and UserPromptSubmit runs for it. So
A's next model request after the command ends is that turn's, and it already carries huddle's
message; the user's next turn must not get it again. Ordering is deterministic: huddle delivers
the message before it exits, and the client notices the exit only after that.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import make_repo

from .huddle_support import Lab, last_tool_result, state_dir, wait_for
from .test_messages import huddle_items, turn_hook_entries
from .test_peers import started

pytestmark = pytest.mark.realclient

SCRIPT = "sleep 1; echo boom >&2; exit 3"
COMMAND = f"huddle run -- sh -c '{SCRIPT}'"


def test_a_background_run_tells_the_session_how_it_ended(lab: Lab) -> None:
    repo = make_repo(lab.root / "shop")
    lab.enable(repo)
    with lab.session(repo, "a") as a:
        started(a, repo)
        call = json.dumps({"command": COMMAND, "run_in_background": True})
        assert a.turn(f"TOOL Bash {call}\nREPLY started")["result"] == "started"
        assert last_tool_result(a).startswith("Command running in background with ID:")
        before = len(a.api.conversation_requests())
        mail = state_dir(repo) / "mail" / a.session_id

        def delivered() -> list[Path]:
            return sorted(mail.glob("*/*.urgent.json"))

        # In A's inbox (new/, or cur/ once a hook has shown it): stored as urgent, kind done.
        [path] = wait_for(delivered, "huddle run's message in A's inbox", timeout=30)
        stored = json.loads(path.read_text())
        assert (stored["kind"], stored["urgent"]) == ("done", True)

        # The client's own turn for the finished task: A's next model request.
        a.wait_turn(timeout=30)
        body = a.api.conversation_requests()[before]
        assert "<task-notification>" in json.dumps(body["messages"][-2:])
        items = huddle_items(turn_hook_entries(body), "UserPromptSubmit")
        assert len(items) == 1, items
        [item] = items
        assert ", urgent done: " in item, item
        assert f"`sh -c '{SCRIPT}'` finished: exit status 3 after" in item, item
        assert item.endswith('Last output: boom"'), item
        assert [p.parent.name for p in delivered()] == ["cur"]  # claimed: shown once

        # The user's next turn: not shown again.
        assert a.turn("carry on")["result"] == "ok"
        body = a.api.last_conversation_request()
        assert huddle_items(turn_hook_entries(body), "UserPromptSubmit") == []
