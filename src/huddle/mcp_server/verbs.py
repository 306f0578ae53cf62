"""One of huddle's verbs, run for the speaker as the `huddle` command runs it: the same parser,
the same code, the same errors. What it prints is the tool's answer; a verb that fails gives
its one-line error (`huddle: ...`), which the server returns as a tool error."""

from __future__ import annotations

import contextlib
import io
import threading

_one_at_a_time = threading.Lock()  # the verbs print to sys.stdout, one process-wide stream


class Done:
    __slots__ = ("code", "out", "err")

    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    @property
    def error(self) -> str:
        """The failure in one line (the verb's last line on stderr)."""
        lines = [line for line in self.err.splitlines() if line.strip()]
        text = lines[-1] if lines else f"failed with exit status {self.code}"
        return text.removeprefix("huddle: ")


def run(argv: list[str], session_id: str | None) -> Done:
    from huddle.cli import main
    from huddle.cli.here import speaking

    out, err = io.StringIO(), io.StringIO()
    with _one_at_a_time, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        speaking.as_session = session_id
        try:
            code = main.main(argv)
        except SystemExit as exc:  # argparse refusing the arguments
            code = exc.code if isinstance(exc.code, int) else 2
        finally:
            speaking.as_session = None
    return Done(code, out.getvalue(), err.getvalue())
