"""The message scenario's postman (bench/hooks.py starts it): writes notes and messages with the
product's own code, so the state directory holds exactly what real senders leave there.

    python bench/mailer.py PLUGIN_ROOT STATE_DIR

runs huddle from PLUGIN_ROOT/src (so each --plugin-root writes its own layout) and reads one JSON
command a line on stdin, answering each with one JSON line on stdout:

* ``{"op": "history", "to": ID, "count": N, "days": D, "notes_every": K}``: N items sent by the
  live sessions other than ID and by a person at a terminal, in turn, spread evenly over the
  last D days; every K-th is a note (to every session that has not ended), the others messages
  to ID. Each goes through ``huddle.talk.messages.send`` / ``note`` (inboxes and history) and
  is then claimed by ID as its hooks do (``mailbox.claim``, a few seconds after it was sent), so
  it sits in ID's ``cur/`` as delivered. To make 10,000 in seconds rather than a minute, this
  skips two things no hook reads: the flood check's per-sender record (``senders/``) and fsync
  (the files are the same, only not forced to disk). Answers the counts on disk.
* ``{"op": "fresh", "to": ID, "count": N}``: N new messages to ID, sent now by its peers in
  turn, left waiting in its ``new/``. Answers ``{"waiting": <names in new/>}``.

The repository's ``send_rate`` must be raised first (`huddle config send_rate ...`): the fresh
messages come faster than a person would send them. Without ``filelock`` (a dependency of the
plugin) the flood check is skipped for them too.
"""

from __future__ import annotations

import json
import os
import sys
import time


def main() -> int:
    root, state = sys.argv[1], sys.argv[2]
    sys.path.insert(0, os.path.join(root, "src"))
    from huddle.peers import sessions
    from huddle.store import mailbox, posting
    from huddle.talk import messages

    serial = 0

    def senders(me: str) -> list[posting.Sender]:
        everyone = sessions.load_all(state, time.time())
        peers = [
            posting.Sender(s.session_id, s.name, s.record.branch)
            for s in everyone
            if s.session_id != me and s.live
        ]
        return [*peers, posting.Sender(None, "benchmark-person", "")]

    def recipient(me: str) -> sessions.Session:
        return next(s for s in sessions.load_all(state, time.time()) if s.session_id == me)

    def history(command: dict) -> dict:
        nonlocal serial
        me = command["to"]
        count, every, days = command["count"], command["notes_every"], command["days"]
        who = senders(me)
        target = recipient(me)
        everyone = sessions.load_all(state, time.time())
        start = time.time() - days * 86400
        step = (days * 86400 - 60) / max(count, 1)
        kinds = ("fyi", "question", "answer", "request", "done")
        check_rate, fsync = messages._check_rate, os.fsync
        messages._check_rate = lambda *args: None
        os.fsync = lambda fd: None
        try:
            for index in range(count):
                serial += 1
                at = start + index * step
                sender = who[index % len(who)]
                text = f"history item {serial}: renamed getLabel{serial} to t{serial}() in app.py"
                if every and index % every == every - 1:
                    message, _ = messages.note(state, sender, everyone, text, now=at)
                else:
                    kind = kinds[index % len(kinds)]
                    message = messages.send(state, sender, target, text, kind=kind, now=at)
                name = mailbox.name_for(
                    message["id"], at, bool(message.get("urgent")), note=message["kind"] == "note"
                )
                if not mailbox.claim(state, me, name, at + 3):
                    raise RuntimeError(f"{name} did not reach {me}'s inbox")
        finally:
            messages._check_rate, os.fsync = check_rate, fsync
        return {
            "delivered": len(mailbox.delivered(state, me)),
            "waiting": len(mailbox.waiting(state, me)),
        }

    try:
        import filelock  # noqa: F401 - the flood check takes the senders' lock
    except ImportError:  # this interpreter lacks the plugin's dependencies: skip the check
        messages._check_rate = lambda *args: None

    def fresh(command: dict) -> dict:
        nonlocal serial
        me = command["to"]
        who = senders(me)[:-1] or senders(me)
        target = recipient(me)
        for index in range(command["count"]):
            serial += 1
            text = f"fresh message {serial}: please keep the whatsapp tab ({index + 1})"
            messages.send(state, who[serial % len(who)], target, text)
        return {"waiting": len(mailbox.waiting(state, me))}

    ops = {"history": history, "fresh": fresh}
    for line in sys.stdin:
        command = json.loads(line)
        try:
            answer = {"ok": True, **ops[command["op"]](command)}
        except Exception as exc:  # reported to the benchmark, which stops with it
            answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(answer), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
