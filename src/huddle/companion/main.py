"""The one way into the companion (hooks/companion runs `main([client pid, its start])`), and
its error boundary: whatever goes wrong is logged, and the exit code tells the shell around it
whether the client is gone (0) or the companion should stay away for a while (anything else).
"""

from __future__ import annotations

import os
import signal
import sys
import time

from huddle.companion.watch import CLIENT_GONE, TURNED_OFF, Client, Watch

FAILED = 1
WAIT_TURN = 1.0  # seconds between looks at another companion's lock on the same client


def main(argv: list[str]) -> None:
    code = FAILED
    try:
        code = run(argv)
    except SystemExit as exc:  # a signal ended it (see _stop)
        code = exc.code if isinstance(exc.code, int) else CLIENT_GONE
    except BaseException as exc:  # noqa: BLE001 - this is the boundary
        from huddle import log

        log.write(f"companion: failed: {exc!r}", with_traceback=True)
    finally:
        os._exit(code)


def _stop(signum: int, frame: object) -> None:
    raise SystemExit(CLIENT_GONE)  # the client ends its monitors with SIGTERM


def run(argv: list[str]) -> int:
    from huddle.companion.sink import to_monitor
    from huddle.peers import procs
    from huddle.repo import gitfiles
    from huddle.store import companions, ids

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGHUP, _stop)
    pid, started = int(argv[0]), argv[1]
    client = Client(pid, started, procs.host())
    try:
        location = gitfiles.locate(os.getcwd())
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
    while held is None:  # another companion serves this client: it delivers, this one waits
        if not client.runs():
            return CLIENT_GONE
        time.sleep(WAIT_TURN)
        held = companions.hold(state_dir, key)
    given = os.environ.get("CLAUDE_CODE_SESSION_ID", "")
    session_id = given if ids.is_session_id(given) else None
    record: dict[str, object] = {
        "pid": os.getpid(),
        "pid_start": procs.start_time(os.getpid()),
        "client_pid": pid,
        "client_start": started,
        "host": client.host,
        "session_id": session_id,
        "started_at": time.time(),
        "delivered_at": None,
        "delivered": 0,
        "python": sys.version.split()[0],
    }
    watch = Watch(
        state_dir,
        gitfiles.enabled_mark(location),
        client,
        session_id,
        to_monitor,
        record,
    )
    watch.save()
    try:
        return watch.run()
    finally:
        companions.remove(state_dir, key)
