"""`huddle send`, `note`, `inbox`, `sent` and `log`: notes and messages between sessions."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from huddle.cli.errors import UserError
from huddle.cli.here import all_sessions, here, iso, resolve, sender_of
from huddle.display import ago, clean
from huddle.peers.sessions import Session
from huddle.store import config, history, mailbox, senders
from huddle.talk import messages
from huddle.vocab import IDLE


def _text(words: list[str], from_stdin: bool) -> str:
    text = sys.stdin.read() if from_stdin else " ".join(words)
    return text.strip()


def send(
    to: str | None,
    words: list[str],
    kind: str,
    urgent: bool,
    reply_to: str | None,
    from_stdin: bool,
) -> int:
    h = here()
    text = _text(words, from_stdin)
    if to is None:  # `--stdin` with the recipient as the first word of the text
        to, _, text = text.partition(" ")
        text = text.strip()
    if not to or not text:
        raise UserError('say to whom and what: huddle send NAME "text"')
    everyone = all_sessions(h)
    recipient = resolve(everyone, to, h.session_id)
    try:
        message = messages.send(
            h.state_dir,
            sender_of(h, everyone),
            recipient,
            text,
            kind=kind,
            urgent=urgent,
            reply_to=reply_to,
        )
    except senders.Throttled as exc:
        raise _flooded(exc) from None
    except senders.Repeated as exc:
        print(
            f'not sent again: you sent exactly this to "{recipient.name}" {ago(exc.ago)}',
            file=sys.stderr,
        )
        return 0
    urgency = "urgent " if urgent else ""
    if recipient.live:
        when = _when_shown(h.state_dir, recipient, message)
        print(f'sent {urgency}{kind} {message["id"]} to "{recipient.name}"; {when}')
    else:
        print(
            f'sent {urgency}{kind} {message["id"]} to "{recipient.name}", which is not live '
            f"({recipient.state}); it is kept and shown if that session resumes"
        )
    return 0


def _when_shown(state_dir: str, recipient: Session, message: dict[str, Any]) -> str:
    """When the recipient sees the message: woken by its companion, or at its next chance."""
    from huddle.peers.liveness import companion_of
    from huddle.talk import wake

    urgent = message.get("urgent") is True
    woken = companion_of(state_dir, recipient.record.to_json()) is not None and wake.wakes(
        wake.reach(message), config.load(state_dir)["wake"]
    )
    if not woken:
        return f"it is shown {'between its tool calls' if urgent else 'at its next prompt'}"
    if recipient.state == IDLE:
        return "it wakes the session now"
    return f"it is shown {'between its tool calls' if urgent else 'when its turn ends'}"


def _flooded(exc: senders.Throttled) -> UserError:
    return UserError(
        f"not sent: more than {exc.args[0]} items a minute from you "
        "(the send_rate setting); wait a little"
    )


def note(words: list[str], from_stdin: bool) -> int:
    h = here()
    text = _text(words, from_stdin)
    if not text:
        raise UserError('say what: huddle note "renamed getLabel to t()"')
    everyone = all_sessions(h)
    try:
        _, recipients = messages.note(h.state_dir, sender_of(h, everyone), everyone, text)
    except senders.Throttled as exc:
        raise _flooded(exc) from None
    except senders.Repeated as exc:
        print(f"not sent again: you sent exactly this note {ago(exc.ago)}", file=sys.stderr)
        return 0
    live = [s.name for s in recipients if s.live]
    print(
        f"note sent to {len(recipients)} session(s)"
        + (f"; live now: {', '.join(live)}" if live else "; none is live now")
        + ". Sessions that start in the next 24 hours see it too."
    )
    return 0


def _row(name: str, message: dict[str, Any], state: str | None = None) -> dict[str, Any]:
    return {
        "id": message.get("id"),
        "kind": message.get("kind"),
        "urgent": bool(message.get("urgent")),
        "from": message.get("from_name"),
        "from_session": message.get("from_session"),
        "to": message.get("to_name"),
        "reply_to": message.get("reply_to"),
        "at": iso(message["at"]) if isinstance(message.get("at"), (int, float)) else None,
        "text": message.get("text", ""),
        **({"state": state} if state else {}),
    }


def show_inbox(show_all: bool, as_json: bool) -> int:
    h = here()
    if h.session_id is None:
        raise UserError(
            "an inbox belongs to a session; from a terminal, `huddle log` shows "
            "every note and message"
        )
    now = time.time()
    rows = []
    if show_all:
        for name in mailbox.delivered(h.state_dir, h.session_id):
            message = mailbox.read_any(h.state_dir, h.session_id, name)
            if message is not None:
                rows.append(_row(name, message, "read"))
    for name in mailbox.waiting(h.state_dir, h.session_id):
        message = mailbox.read_new(h.state_dir, h.session_id, name)
        if message is not None and mailbox.claim(h.state_dir, h.session_id, name, now):
            rows.append(_row(name, message, "new"))
    empty = "No new notes or messages." + ("" if show_all else " (--all shows earlier ones)")
    return _print(rows, as_json, empty)


def _line(row: dict[str, Any]) -> str:
    what = "note" if row["kind"] == "note" else f"{row['kind']} {row['id']}"
    if row["urgent"]:
        what = "urgent " + what
    reply = f" re {row['reply_to']}" if row.get("reply_to") else ""
    to = f" -> {row['to']}" if row.get("to") and row["kind"] != "note" else ""
    return (
        f"[{row['at']}] {what}{reply} from {clean(str(row['from']), 40)}{to}: "
        f"{clean(str(row['text']), 100000)}"
    )


def sent(as_json: bool) -> int:
    h = here()
    me = sender_of(h, all_sessions(h))
    rows = []
    for name, message in history.items(h.state_dir):
        if message.get("from_session") != h.session_id or (
            h.session_id is None and message.get("from_name") != me.name
        ):
            continue
        targets = message.get("to_sessions") or []
        times = [mailbox.delivered_at(h.state_dir, str(t), name) for t in targets]
        row = _row(name, message)
        row["recipients"] = len(targets)
        row["delivered"] = sum(1 for t in times if t is not None)
        row["delivered_at"] = (
            iso(max(t for t in times if t is not None)) if row["delivered"] else None
        )
        rows.append(row)
    if as_json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    if not rows:
        print("Nothing sent yet.")
        return 0
    for row in rows:
        if row["recipients"] == 1:
            status = f"delivered {row['delivered_at']}" if row["delivered"] else "waiting"
        else:
            status = f"delivered to {row['delivered']} of {row['recipients']}"
        print(f"{_line(row)}  [{status}]")
    return 0


def log(since: str | None, grep: str | None, as_json: bool, until: str | None = None) -> int:
    """The history from `since` ago to `until` ago (durations: 30m, 2h, 1d), matching `grep`."""
    h = here()
    now = time.time()
    try:
        start = now - config.parse_duration(since) if since else 0.0
        end = now - config.parse_duration(until) if until else None
    except (ValueError, OverflowError):
        raise UserError("--since and --until take a duration like 30m, 2h or 1d") from None
    rows = []
    for name, message in history.items(h.state_dir, start):
        if grep and grep.lower() not in str(message.get("text", "")).lower():
            continue
        at = message.get("at")
        if end is not None and isinstance(at, (int, float)) and at > end:
            continue
        rows.append(_row(name, message))
    return _print(rows, as_json, "No notes or messages" + (" match." if grep else " yet."))


def _print(rows: list[dict[str, Any]], as_json: bool, empty: str) -> int:
    if as_json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    elif not rows:
        print(empty)
    else:
        for row in rows:
            print(_line(row))
    return 0
