"""`huddle run [--notify NAME] -- COMMAND ...`: run a long command, and say when it is done.

The command's output passes through as it comes; its last lines are kept. When it exits, the
calling session (and NAME) get an urgent "done" message: a busy session sees it between its
tool calls, an idle one at its next prompt. The message is huddle's own notice, so neither the
send rate nor the repeat filter can swallow it: running the same build twice reports twice.
"""

from __future__ import annotations

import os
import selectors
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from types import FrameType

from huddle.cli.errors import UserError
from huddle.cli.here import here, resolve, sender_of
from huddle.peers import sessions
from huddle.store import posting

TAIL_LINES = 20
TAIL_CHARS = 1500  # the message body is shown up to inbox.BODY_LIMIT (2,000) characters
COMMAND_CHARS = 200
KEEP_BYTES = 16384  # raw bytes kept while running; more than TAIL_CHARS of any text needs
NOT_FOUND, NOT_EXECUTABLE = 127, 126
DRAIN = 0.5  # seconds of quiet after the command exited before its output counts as complete
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
NEWLINE = " ⏎ "  # message bodies are one line; this keeps the output's lines apart


def run(argv: Sequence[str], notify: str | None) -> int:
    command = list(argv[1:] if argv and argv[0] == "--" else argv)
    if not command:
        raise UserError("say what to run: huddle run [--notify NAME] -- COMMAND [ARGS...]")
    h = here()
    everyone = sessions.load_all(h.state_dir, time.time())
    targets: dict[str, str] = {}  # session id -> name
    if h.session_id is not None:
        me = next((s for s in everyone if s.session_id == h.session_id), None)
        targets[h.session_id] = me.name if me is not None else "this session"
    if notify is not None:
        other = resolve(everyone, notify, None)
        targets.setdefault(other.session_id, other.name)
    if not targets:
        raise UserError(
            "from a plain terminal there is no session to tell: add --notify NAME "
            "(huddle sessions lists them)"
        )
    started = time.monotonic()
    status, tail = _execute(command)
    took = time.monotonic() - started
    text = report(command, status, took, tail)
    sender = sender_of(h, everyone)
    for session_id, name in targets.items():
        posting.notice(h.state_dir, sender, session_id, name, text, kind="done", urgent=True)
    return exit_code(status)


def _execute(command: list[str]) -> tuple[int | str, str]:
    """Run it, pass its output through, keep the end of it; the status or why it did not start."""
    started: list[subprocess.Popen[bytes]] = []
    early: list[int] = []  # signals that came before the command existed

    def forward(signum: int, frame: FrameType | None) -> None:
        if not started:
            early.append(signum)
            return
        child = started[0]
        if child.returncode is None:  # once reaped, its group id may belong to someone else
            try:
                os.killpg(child.pid, signum)  # what it started too, as a terminal's Ctrl-C does
            except ProcessLookupError:
                pass

    # Set before the command starts, so that no signal can find Python's own handlers. A signal
    # ignored here (`cmd &` in a script ignores SIGINT, nohup SIGHUP) is ignored by the command
    # too: it was meant not to stop it.
    previous = {
        sig: signal.signal(sig, forward)
        for sig in FORWARDED
        if signal.getsignal(sig) is not signal.SIG_IGN
    }
    try:
        try:
            # Its own process group: a terminal's Ctrl-C reaches it once, through us, not twice.
            child = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                preexec_fn=os.setpgrp,  # process_group=0 needs Python 3.11; no threads run here
            )
        except FileNotFoundError:
            print(f"huddle: {command[0]}: command not found", file=sys.stderr)
            return "command not found", ""
        except PermissionError:
            print(f"huddle: {command[0]}: permission denied", file=sys.stderr)
            return "permission denied", ""
        started.append(child)
        for signum in early:
            forward(signum, None)
        kept = _pump(child)
        status = child.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return status, kept.decode("utf-8", "replace")


def _pump(child: subprocess.Popen[bytes]) -> bytearray:
    assert child.stdout is not None and child.stderr is not None
    outs = {child.stdout.fileno(): sys.stdout, child.stderr.fileno(): sys.stderr}
    kept = bytearray()
    with selectors.DefaultSelector() as chooser:
        for fd in outs:
            chooser.register(fd, selectors.EVENT_READ)
        while chooser.get_map():
            ready = chooser.select(timeout=DRAIN)
            if not ready and child.poll() is not None:
                break  # it exited, and what it left running keeps the pipes open but quiet
            for key, _ in ready:
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    chooser.unregister(key.fd)
                    continue
                stream = outs[key.fd]
                stream.flush()
                stream.buffer.write(chunk)
                stream.buffer.flush()
                kept += chunk
                del kept[:-KEEP_BYTES]
    child.stdout.close()
    child.stderr.close()
    return kept


def exit_code(status: int | str) -> int:
    if isinstance(status, str):
        return NOT_FOUND if status == "command not found" else NOT_EXECUTABLE
    return 128 - status if status < 0 else status


def describe(status: int | str) -> str:
    if isinstance(status, str):
        return f"could not start: {status} (exit {exit_code(status)})"
    if status < 0:
        try:
            name = signal.Signals(-status).name
        except ValueError:
            name = f"signal {-status}"
        return f"killed by signal {name}"
    return f"exit status {status}"


def duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    return f"{minutes // 60} h {minutes % 60} min"


def last_lines(output: str) -> str:
    """The last TAIL_LINES lines, cut from the front to TAIL_CHARS characters."""
    lines = [line.rstrip() for line in output.replace("\r", "\n").splitlines()]
    lines = [line for line in lines if line][-TAIL_LINES:]
    text = NEWLINE.join(lines)
    return text if len(text) <= TAIL_CHARS else "…" + text[-(TAIL_CHARS - 1) :]


def report(command: list[str], status: int | str, took: float, output: str) -> str:
    shown = shlex.join(command)
    if len(shown) > COMMAND_CHARS:
        shown = shown[: COMMAND_CHARS - 1] + "…"
    text = f"huddle run: `{shown}` finished: {describe(status)} after {duration(took)}."
    tail = last_lines(output)
    return text + (f" Last output: {tail}" if tail else " It printed nothing.")
