"""The ways into the companion, and its error boundary: whatever goes wrong is logged.

- `main([client pid, its start])`: the companion proper, which hooks/companion runs as the
  plugin's monitor of an interactive session. Its exit code tells the shell around it whether
  the client is gone (0) or the companion should stay away for a while (anything else).
- `wait()`: the waiter, which hooks/wait runs as an asyncRewake Stop hook of a headless
  stream-json session. It delivers once and exits 2, which wakes the session; any other exit
  code wakes nothing.
"""

from __future__ import annotations

import os
import signal
import sys
import time

from huddle.companion.watch import CLIENT_GONE, TURNED_OFF, Client, Watch

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

FAILED = 1
WAIT_TURN = 1.0  # seconds between looks at another companion's lock on the same client
WAITER_LIFE = 3540.0  # under the hook's timeout in hooks.json (3600 s)


def main(argv: list[str]) -> None:
    _boundary(lambda: companion(int(argv[0]), argv[1]), FAILED)


def wait() -> None:
    _boundary(lambda: waiter(sys.stdin.buffer.read(1 << 20)), CLIENT_GONE)


def _boundary(body: Callable[[], int], failed: int) -> None:
    code = failed
    try:
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGHUP, _stop)
        code = body()
    except SystemExit as exc:  # a signal ended it (see _stop)
        code = exc.code if isinstance(exc.code, int) else CLIENT_GONE
    except BaseException as exc:  # noqa: BLE001 - this is the boundary
        from huddle import log

        log.write(f"companion: failed: {exc!r}", with_traceback=True)
    finally:
        os._exit(code)


def _stop(signum: int, frame: object) -> None:
    raise SystemExit(CLIENT_GONE)  # the client ends its monitors and hooks with SIGTERM


def companion(pid: int, seen: str) -> int:
    """`seen`: the client's start as the shell saw it (its spelling may differ from Python's
    where `ps` gives it, so it is read again here)."""
    from huddle.companion.sink import to_monitor
    from huddle.peers import procs

    started = procs.start_time(pid)
    if started is None:
        return CLIENT_GONE
    given = os.environ.get("CLAUDE_CODE_SESSION_ID", "")
    return _serve(pid, started, given, os.getcwd(), "monitor", to_monitor, wait_turn=True)


def waiter(raw: bytes) -> int:
    import json

    from huddle.companion.hangup import Hangup
    from huddle.companion.sink import to_rewake
    from huddle.peers import procs

    try:
        event = json.loads(raw)
        pid = int(os.environ.get("CLAUDE_PID", ""))
    except ValueError as exc:
        from huddle import log

        log.write(f"waiter: ignored bad input: {exc}")
        return CLIENT_GONE
    started = procs.start_time(pid)
    if started is None or not isinstance(event, dict):
        return CLIENT_GONE
    hangup = Hangup(pid)
    if not hangup.watchable:
        return CLIENT_GONE  # it could keep a finished session from exiting: better not wait
    until = time.time() + WAITER_LIFE

    def ended(now: float) -> int | None:
        return CLIENT_GONE if hangup.happened() or now > until else None

    return _serve(
        pid,
        started,
        str(event.get("session_id", "")),
        str(event.get("cwd", "") or os.getcwd()),
        "waiter",
        to_rewake,
        wait_turn=False,
        once=True,
        also=ended,
    )


def _serve(
    pid: int,
    started: str,
    given: str,
    cwd: str,
    mode: str,
    send: Callable[[str], None],
    *,
    wait_turn: bool,
    once: bool = False,
    also: Callable[[float], int | None] | None = None,
) -> int:
    """Serve client `pid`'s session in repository `cwd` until the loop ends; its exit code."""
    from huddle.peers import procs
    from huddle.repo import gitfiles
    from huddle.store import companions, ids

    client = Client(pid, started, procs.host())
    try:
        location = gitfiles.locate(cwd)
    except gitfiles.NotARepository:
        return TURNED_OFF
    if not gitfiles.is_enabled(location):
        return TURNED_OFF
    reason = gitfiles.untrusted_reason(location)
    if reason is not None:
        from huddle import log

        log.write(f"companion: not here: {reason} (`huddle doctor` says more)")
        return TURNED_OFF
    state_dir = location.state_dir
    key = companions.key(client.host, pid, started)
    held = companions.hold(state_dir, key)
    while held is None:  # another companion serves this client: it delivers
        if not wait_turn:
            return CLIENT_GONE
        if not client.runs():
            return CLIENT_GONE
        time.sleep(WAIT_TURN)
        held = companions.hold(state_dir, key)
    session_id = given if ids.is_session_id(given) else None
    record: dict[str, object] = {
        "pid": os.getpid(),
        "pid_start": procs.start_time(os.getpid()),
        "mode": mode,
        "client_pid": pid,
        "client_start": started,
        "host": client.host,
        "session_id": session_id,
        "started_at": time.time(),
        "delivered_at": None,
        "delivered": 0,
    }
    watch = Watch(
        state_dir,
        gitfiles.enabled_mark(location),
        client,
        session_id,
        send,
        record,
        once=once,
        also=also,
    )
    watch.save()
    try:
        return watch.run()
    finally:
        companions.remove(state_dir, key)
