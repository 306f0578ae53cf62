"""The MockAPI script and request helpers, without the real client (shapes as observed)."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from .mockapi import MockAPI, hook_contexts, plan_reply, request_text

TOOLS = [{"name": "Write"}, {"name": "Edit"}, {"name": "Bash"}]
REMINDER = {"type": "text", "text": "<system-reminder>\nAttribution\n</system-reminder>\n"}


def _user(*texts: str) -> dict[str, Any]:
    return {"role": "user", "content": [REMINDER, *({"type": "text", "text": t} for t in texts)]}


def _tool_round(name: str, result: str, is_error: bool = False) -> list[dict[str, Any]]:
    use = {"type": "tool_use", "id": "toolu_1", "name": name, "input": {}}
    tool_result: dict[str, Any] = {
        "type": "tool_result",
        "tool_use_id": "toolu_1",
        "content": result,
    }
    if is_error:
        tool_result["is_error"] = True
    return [{"role": "assistant", "content": [use]}, {"role": "user", "content": [tool_result]}]


PROMPT = 'do it\nTOOL Write {"file_path": "/x", "content": "1"}\nTOOL2 Bash {"command": "true"}'


def test_rounds_follow_tool_use_count() -> None:
    first = {"messages": [_user(PROMPT)], "tools": TOOLS}
    assert plan_reply(first).tool_calls == [("Write", {"file_path": "/x", "content": "1"})]
    second = {"messages": [_user(PROMPT), *_tool_round("Write", "done")], "tools": TOOLS}
    assert plan_reply(second).tool_calls == [("Bash", {"command": "true"})]
    third = {"messages": second["messages"] + _tool_round("Bash", "done"), "tools": TOOLS}
    assert plan_reply(third).tool_calls == []
    assert plan_reply(third).text == "ok"


def test_unknown_tool_and_reply_line() -> None:
    body = {"messages": [_user("TOOL NotebookEdit {}\nREPLY fine")], "tools": TOOLS}
    reply = plan_reply(body)
    assert (reply.tool_calls, reply.text) == ([], "fine")


def test_slash_command_body_is_the_prompt() -> None:
    meta = "<command-message>p:c</command-message>\n<command-name>/p:c</command-name>\n"
    body = {"messages": [_user(meta, "Body\nREPLY from-body\n")], "tools": TOOLS}
    assert plan_reply(body).text == "from-body"


def test_hook_contexts_split_system_entries() -> None:
    first_system = (
        "SessionStart:startup hook success: plain\n\n"
        "SessionStart hook additional context: A1\nA2\n\n"
        "# Environment\nlots of text\n\n"
        "UserPromptSubmit hook additional context: U\n\nToday's date is 2026-01-01."
    )
    messages = [
        _user("hi"),
        {"role": "system", "content": first_system},
        *_tool_round("Edit", "PreToolUse:Edit hook error: nope", is_error=True),
        {
            "role": "system",
            "content": [{"type": "text", "text": "PostToolUse:Edit hook additional context: P"}],
        },
    ]
    assert hook_contexts({"messages": messages}) == [
        "SessionStart:startup hook success: plain",
        "SessionStart hook additional context: A1\nA2",
        "UserPromptSubmit hook additional context: U",
        "PreToolUse:Edit hook error: nope",
        "PostToolUse:Edit hook additional context: P",
    ]
    assert "nope" in request_text({"messages": messages})


def _post(url: str, body: dict[str, Any]) -> bytes:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read()


def test_server_streams_and_records(tmp_path: Any) -> None:
    log = tmp_path / "api.jsonl"
    body = {"messages": [_user(PROMPT)], "tools": TOOLS, "stream": True}
    with MockAPI(log_file=log) as api:
        stream = _post(f"{api.base_url}/v1/messages?beta=true", body).decode()
        plain = json.loads(_post(f"{api.base_url}/v1/messages", {**body, "stream": False}))
        assert json.loads(_post(f"{api.base_url}/v1/other", {})) == {}
        assert len(api.requests()) == 2
    events = [line[len("event: ") :] for line in stream.splitlines() if line.startswith("event: ")]
    assert events[0] == "message_start" and events[-1] == "message_stop"
    assert '"partial_json"' in stream and '"stop_reason": "tool_use"' in stream
    assert plain["stop_reason"] == "tool_use" and plain["content"][0]["name"] == "Write"
    assert len(log.read_text().splitlines()) == 2
