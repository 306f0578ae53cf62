"""A local mock of the Anthropic Messages API, scripted from the prompt.

The real ``claude`` client talks to whatever ``ANTHROPIC_BASE_URL`` names. ``MockAPI`` serves
``POST /v1/messages`` on 127.0.0.1, records every request body, and plays a "model" whose
answer depends only on the request:

* The *prompt* is the newest ``role: "user"`` message that holds text which is neither a
  tool_result nor a ``<system-reminder>`` block. For a plugin slash command it is the expanded
  body (the same message also holds a ``<command-message>`` block).
* ``n`` is the number of assistant messages with tool_use blocks after the prompt.
* Prompt lines ``TOOL <Name> <json>`` are the tool calls of round 0, ``TOOL2 ...`` of round 1,
  ``TOOL3 ...`` of round 2, and so on. Directives may sit anywhere in a larger text; leading
  whitespace is ignored.
* If round ``n`` has tool lines and every name is in the request's ``tools`` list, the reply is
  those tool_use blocks (fresh ids) with ``stop_reason: "tool_use"``. Otherwise it is text (the
  ``REPLY <text>`` line if any, else ``ok``) with ``end_turn``. Deferred tools (for example
  NotebookEdit, WebFetch) are not in ``tools`` until ToolSearch loads them, so they fall back
  to text.

What client 2.1.332 sends (observed):

* Only ``POST /v1/messages?beta=true`` with ``"stream": true``, once per model call of the
  main agent loop; every such request carries the full ``tools`` list. No title, quota or
  count_tokens requests happen with ``CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1``. The model
  calls of a subagent (the Agent tool) look the same, with ``cc_is_subagent=true`` in the
  billing line of the system prompt: ``conversation_requests()`` counts them too.
* The one side request seen is the summary call of ``/compact``: it looks like a conversation
  call (same system prompt and ``tools``) with the summary instructions appended as a text block
  to the newest user message. The mock answers it with ``<analysis>``/``<summary>`` tags; without
  a ``<summary>`` block the client asks a second time. Then SessionStart runs with
  ``source: "compact"`` and the next request starts with the summary as a user message.
* ``conversation_requests()`` keeps requests to ``/v1/messages`` that have a non-empty
  ``tools`` list and are not compaction summaries; ``requests()`` has everything.
* The first user message is ``[<system-reminder> attribution block, prompt text]``. A slash
  command turn is ``[<command-message>/<command-name>/<command-args> block, expanded body]``
  where the body already holds the output of its ``!`` lines.
* Hook output arrives as ``role: "system"`` entries in ``messages`` (content is a string, or a
  list of text blocks in the newest entry, which carries ``cache_control``). One system entry
  follows the user turn or tool_result it belongs to, and joins several items with a blank
  line (``"\\n\\n"``):

  - ``SessionStart:startup hook success: <stdout>`` (plain stdout)
  - ``SessionStart hook additional context: <text>``, followed in the same entry by the
    client's ``# Environment`` section, then ``UserPromptSubmit hook additional context: <text>``
    of the first prompt, then ``Today's date is ...``
  - ``UserPromptSubmit hook success: <stdout>``, ``UserPromptSubmit hook additional context: ...``
  - ``PreToolUse:Write hook additional context: <text>`` and
    ``PostToolUse:Write hook additional context: <text>`` in the entry after the tool_result
  - additionalContext of several hooks on one PreToolUse call share one header, joined by
    ``"\\n"``; on UserPromptSubmit and PostToolUse each hook's text has its own header. Either
    way the texts come in the order the hooks finished, not the order of hooks.json
  - a PreToolUse deny is an error tool_result (``is_error: true``) whose content is
    ``PreToolUse:Edit hook error: <reason>``; the tool does not run
  - additionalContext of an ``async`` hook arrives on the next turn as a system entry holding
    only the bare text, without any header (``request_text`` finds it, ``hook_entries`` not)

  ``hook_entries`` parses these. A hook text that itself holds a blank line cannot be told
  apart from the next item with certainty; an entry ends where a blank line is followed by
  another hook header or by a known client section (``_CLIENT_SECTIONS``).
* A user line written while a turn is still running does not become a new user message: it is
  folded into the next system entry as ``The user sent a new message while you were
  working:\\n<text>``. Send turns one at a time (``ClaudeSession.turn``).
"""

from __future__ import annotations

import gzip
import http.server
import itertools
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = [
    "HookEntry",
    "MockAPI",
    "Record",
    "conversation_prompt",
    "hook_contexts",
    "hook_entries",
    "is_compaction_request",
    "is_conversation_request",
    "plan_reply",
    "request_text",
]

_DIRECTIVE = re.compile(r"^\s*TOOL(\d*)\s+(\S+)\s+(.*?)\s*$")
_REPLY = re.compile(r"^\s*REPLY\s(.*)$")
_REMINDER_PREFIX = "<system-reminder>"
_COMPACT_MARKER = "create a detailed summary of the conversation so far"
COMPACT_SUMMARY = (
    "<analysis>mock analysis</analysis>\n<summary>mock summary of the conversation</summary>"
)

# "<Event>[:<detail>] hook <kind>: <text>", as the client words hook output.
_HOOK_HEADER = re.compile(
    r"^(?P<label>[A-Za-z]+(?::[^\s:]+)?) hook "
    r"(?P<kind>additional context|success|error|blocking error from command|"
    r"stopped continuation): ",
    re.MULTILINE,
)
# Paragraphs the client itself puts into the same system entry as hook output.
_CLIENT_SECTIONS = (
    "# Environment",
    "Today's date is",
    "The date has changed",
    "The user sent a new message while you were working",
    "This is how Claude Code surfaces messages",
)


# ---------------------------------------------------------------- reading requests


def _blocks(content: Any) -> list[dict[str, Any]]:
    """A message's content as a list of blocks (a plain string becomes one text block)."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if isinstance(content, list):
        return [b for b in content if isinstance(b, dict)]
    return []


def _tool_result_text(block: dict[str, Any]) -> str:
    return "\n".join(
        b.get("text", "") for b in _blocks(block.get("content")) if b.get("type") == "text"
    )


def _system_text(body: dict[str, Any]) -> str:
    return "\n".join(
        b.get("text", "") for b in _blocks(body.get("system")) if b.get("type") == "text"
    )


def request_text(body: dict[str, Any], include_system: bool = False) -> str:
    """All text the model is shown in one request, flattened, one block per line group.

    Covers text blocks of every message (user, assistant and the client's ``system`` entries)
    and the content of tool_result blocks. The system prompt only with ``include_system``.
    """
    parts: list[str] = [_system_text(body)] if include_system else []
    for message in body.get("messages") or []:
        for block in _blocks(message.get("content")):
            if block.get("type") == "text":
                parts.append(block.get("text", ""))
            elif block.get("type") == "tool_result":
                parts.append(_tool_result_text(block))
    return "\n".join(parts)


def tool_names(body: dict[str, Any]) -> list[str]:
    return [t.get("name", "") for t in body.get("tools") or [] if isinstance(t, dict)]


def _last_user_text(body: dict[str, Any]) -> str:
    messages = [m for m in body.get("messages") or [] if m.get("role") == "user"]
    if not messages:
        return ""
    return "\n".join(
        b.get("text", "") for b in _blocks(messages[-1].get("content")) if b.get("type") == "text"
    )


def is_compaction_request(body: dict[str, Any]) -> bool:
    """The summary request of /compact (or auto-compact): same shape as a conversation call,
    with the summary instructions appended to the newest user message."""
    return _COMPACT_MARKER in _last_user_text(body)


def is_conversation_request(body: dict[str, Any], path: str = "/v1/messages") -> bool:
    """True for a model call of the main agent loop: it offers the tools and is no summary."""
    return (
        path.split("?", 1)[0] == "/v1/messages"
        and bool(tool_names(body))
        and not is_compaction_request(body)
    )


@dataclass(frozen=True)
class HookEntry:
    """One piece of hook output as the model sees it, e.g. ``PreToolUse:Edit`` / ``error``."""

    label: str  # event, with ":<tool>" or ":<source>" where the client adds one
    kind: str  # "additional context", "success", "error", ...
    text: str

    @property
    def event(self) -> str:
        return self.label.split(":", 1)[0]

    def __str__(self) -> str:
        return f"{self.label} hook {self.kind}: {self.text}"


def _split_entries(text: str) -> list[HookEntry]:
    """Cut one system entry (or tool_result) into the hook items it holds."""
    headers = list(_HOOK_HEADER.finditer(text))
    entries = []
    for i, match in enumerate(headers):
        end = headers[i + 1].start() if i + 1 < len(headers) else len(text)
        body = text[match.end() : end]
        for section in _CLIENT_SECTIONS:
            cut = body.find("\n\n" + section)
            if cut != -1:
                body = body[:cut]
        entries.append(HookEntry(match.group("label"), match.group("kind"), body.rstrip("\n")))
    return entries


def hook_entries(body: dict[str, Any]) -> list[HookEntry]:
    """Hook output in one request, oldest first: system entries, reminders and tool errors."""
    entries: list[HookEntry] = []
    for message in body.get("messages") or []:
        for block in _blocks(message.get("content")):
            if block.get("type") == "text":
                entries.extend(_split_entries(block.get("text", "")))
            elif block.get("type") == "tool_result":
                entries.extend(_split_entries(_tool_result_text(block)))
    return entries


def hook_contexts(body: dict[str, Any]) -> list[str]:
    """Texts injected by hooks, each with its header, e.g.
    ``"PreToolUse:Write hook additional context: MARKER"`` or
    ``"PreToolUse:Edit hook error: <deny reason>"``."""
    return [str(entry) for entry in hook_entries(body)]


# ---------------------------------------------------------------- the scripted model


def _prompt_text(message: dict[str, Any]) -> str | None:
    """The user-written text of a message, or None if it is a tool result or only reminders."""
    if message.get("role") != "user":
        return None
    blocks = _blocks(message.get("content"))
    if any(b.get("type") == "tool_result" for b in blocks):
        return None
    texts = [
        b.get("text", "")
        for b in blocks
        if b.get("type") == "text" and not b.get("text", "").lstrip().startswith(_REMINDER_PREFIX)
    ]
    texts = [t for t in texts if t.strip()]
    return "\n".join(texts) if texts else None


def conversation_prompt(body: dict[str, Any]) -> tuple[str, int]:
    """The prompt of the current turn and how many tool_use rounds followed it."""
    messages = body.get("messages") or []
    for index in range(len(messages) - 1, -1, -1):
        prompt = _prompt_text(messages[index])
        if prompt is not None:
            rounds = sum(
                1
                for m in messages[index + 1 :]
                if m.get("role") == "assistant"
                and any(b.get("type") == "tool_use" for b in _blocks(m.get("content")))
            )
            return prompt, rounds
    return "", 0


@dataclass
class Reply:
    """What the mock model answers: tool calls, or else text."""

    text: str = "ok"
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    error: str | None = None  # a malformed directive; the reply text says so too


def _round_of(digits: str) -> int:
    # "TOOL" and "TOOL1" are round 0, "TOOL2" round 1, ...
    return max(int(digits) - 1, 0) if digits else 0


def plan_reply(body: dict[str, Any]) -> Reply:
    """Decide the model's answer from the request alone (see the module docstring)."""
    if is_compaction_request(body):
        return Reply(text=COMPACT_SUMMARY)
    prompt, rounds = conversation_prompt(body)
    calls: list[tuple[str, dict[str, Any]]] = []
    reply_text = "ok"
    for line in prompt.splitlines():
        if match := _REPLY.match(line):
            reply_text = match.group(1)
        match = _DIRECTIVE.match(line)
        if not match or _round_of(match.group(1)) != rounds:
            continue
        try:
            tool_input = json.loads(match.group(3))
        except json.JSONDecodeError as exc:
            error = f"MOCK-ERROR bad json for {match.group(2)}: {exc}"
            return Reply(text=error, error=error)
        calls.append((match.group(2), tool_input))
    offered = set(tool_names(body))
    if calls and all(name in offered for name, _ in calls):
        return Reply(text="", tool_calls=calls)
    return Reply(text=reply_text)


# ---------------------------------------------------------------- wire format


def _content_blocks(reply: Reply) -> list[dict[str, Any]]:
    if reply.tool_calls:
        return [
            {
                "type": "tool_use",
                "id": f"toolu_mock_{uuid.uuid4().hex[:20]}",
                "name": name,
                "input": args,
            }
            for name, args in reply.tool_calls
        ]
    return [{"type": "text", "text": reply.text}]


def _message(
    body: dict[str, Any], content: list[dict[str, Any]], stop_reason: str | None
) -> dict[str, Any]:
    return {
        "id": f"msg_mock_{uuid.uuid4().hex[:20]}",
        "type": "message",
        "role": "assistant",
        "model": body.get("model", "mock-model"),
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {
            "input_tokens": 1,
            "output_tokens": 1,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
    }


def _sse_events(body: dict[str, Any], reply: Reply) -> list[tuple[str, dict[str, Any]]]:
    """The Server-Sent Events of one streamed answer, in order."""
    blocks = _content_blocks(reply)
    stop_reason = "tool_use" if reply.tool_calls else "end_turn"
    events: list[tuple[str, dict[str, Any]]] = [
        ("message_start", {"type": "message_start", "message": _message(body, [], None)})
    ]
    for index, block in enumerate(blocks):
        start: dict[str, Any]
        if block["type"] == "text":
            start = {"type": "text", "text": ""}
            delta = {"type": "text_delta", "text": block["text"]}
        else:
            start = {**block, "input": {}}
            delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
        events += [
            (
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": start},
            ),
            (
                "content_block_delta",
                {"type": "content_block_delta", "index": index, "delta": delta},
            ),
            ("content_block_stop", {"type": "content_block_stop", "index": index}),
        ]
    events += [
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                "usage": {"output_tokens": 1},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    return events


def _json_reply(body: dict[str, Any], reply: Reply) -> dict[str, Any]:
    return _message(body, _content_blocks(reply), "tool_use" if reply.tool_calls else "end_turn")


# ---------------------------------------------------------------- the server


@dataclass(frozen=True)
class Record:
    """One POST the mock received."""

    path: str
    body: dict[str, Any]
    at: float = field(default_factory=time.monotonic, compare=False)  # when it arrived

    @property
    def is_conversation(self) -> bool:
        return is_conversation_request(self.body, self.path)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # keep test output clean; every request is recorded instead

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while size := int(self.rfile.readline().strip() or b"0", 16):
                data += self.rfile.read(size)
                self.rfile.readline()
            self.rfile.readline()
        else:
            data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Content-Encoding", "").lower() == "gzip":
            data = gzip.decompress(data)
        return data

    def _send_json(self, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("request-id", f"req_mock_{uuid.uuid4().hex[:12]}")
        self.end_headers()
        self.wfile.write(data)

    def _send_stream(self, events: list[tuple[str, dict[str, Any]]]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        # No Content-Length: the end of the stream is the end of the connection.
        self.send_header("Connection", "close")
        self.send_header("request-id", f"req_mock_{uuid.uuid4().hex[:12]}")
        self.end_headers()
        for name, data in events:
            self.wfile.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
        self.wfile.flush()
        self.close_connection = True

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        raw = self._read_body()
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            body = {"_unparsed": raw.decode("utf-8", "replace")}
        path = self.path.split("?", 1)[0]
        if not isinstance(body, dict) or not path.startswith("/v1/messages"):
            self._send_json({})
            return
        self.server.mock.record(Record(self.path, body))
        if path == "/v1/messages/count_tokens":
            self._send_json({"input_tokens": max(len(json.dumps(body)) // 4, 1)})
            return
        if path != "/v1/messages":
            self._send_json({})
            return
        reply = plan_reply(body)
        if body.get("stream"):
            self._send_stream(_sse_events(body, reply))
        else:
            self._send_json(_json_reply(body, reply))

    def _other(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self._send_json({})

    do_GET = do_PUT = do_PATCH = do_DELETE = _other  # noqa: N815


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    mock: MockAPI


class MockAPI:
    """A mock Messages API on 127.0.0.1 with a random free port; use as a context manager."""

    _counter = itertools.count()

    def __init__(self, log_file: str | Path | None = None) -> None:
        self.log_file = Path(log_file) if log_file else None
        self._records: list[Record] = []
        self._changed = threading.Condition()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle

    def start(self) -> MockAPI:
        if self._server is None:
            server = _Server(("127.0.0.1", 0), _Handler)
            server.mock = self
            self._server = server
            self._thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.1},
                name=f"mockapi-{next(self._counter)}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> MockAPI:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("MockAPI is not running")
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        """The value for ANTHROPIC_BASE_URL."""
        return f"http://127.0.0.1:{self.port}"

    # -- recording

    def record(self, record: Record) -> None:
        with self._changed:
            self._records.append(record)
            if self.log_file is not None:
                with self.log_file.open("a", encoding="utf-8") as log:
                    log.write(json.dumps(record.body) + "\n")
            self._changed.notify_all()

    def records(self) -> list[Record]:
        """Every POST to /v1/messages*, oldest first, with its path."""
        with self._changed:
            return list(self._records)

    def requests(self) -> list[dict[str, Any]]:
        """Every recorded request body, side requests included."""
        return [r.body for r in self.records()]

    def conversation_requests(self) -> list[dict[str, Any]]:
        """Bodies of the main agent loop's model calls only."""
        return [r.body for r in self.records() if r.is_conversation]

    def last_conversation_request(self) -> dict[str, Any]:
        bodies = self.conversation_requests()
        if not bodies:
            raise AssertionError("the client made no conversation request")
        return bodies[-1]

    def wait_for_requests(
        self, count: int, timeout: float = 10.0, conversation_only: bool = True
    ) -> list[dict[str, Any]]:
        """Block until at least ``count`` requests arrived; returns them. Raises on timeout."""

        def current() -> list[dict[str, Any]]:
            return [r.body for r in self._records if r.is_conversation or not conversation_only]

        with self._changed:
            if not self._changed.wait_for(lambda: len(current()) >= count, timeout=timeout):
                raise TimeoutError(
                    f"expected {count} requests within {timeout}s, got {len(current())}"
                )
            return current()
