"""The `huddle` command and its error boundary.

Expected problems print one line and exit 1; anything unexpected prints a short line, logs the
traceback, and exits 3; Ctrl-C exits 130.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from huddle import __version__, log
from huddle.cli.errors import UserError
from huddle.store.paths import Outside
from huddle.vocab import MESSAGE_KINDS

UNEXPECTED = 3
MISSING_DEPENDENCY = 4


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="huddle",
        description="Parallel Claude Code sessions in one repository see each other.",
    )
    p.add_argument("--version", action="version", version=f"huddle {__version__}")
    verbs = p.add_subparsers(dest="verb", metavar="COMMAND")
    verbs.required = True

    en = verbs.add_parser("enable", help="turn huddle on in this repository")
    en.add_argument(
        "--keep-state",
        action="store_true",
        help="keep a .claude/sessions found here that huddle did not make (else it is set aside)",
    )
    off = verbs.add_parser("disable", help="turn huddle off here and delete its state")
    off.add_argument("--yes", action="store_true", help="do not ask before deleting")

    for name, text in (("sessions", "list this repository's sessions"), ("status", None)):
        s = verbs.add_parser(name, help=text or argparse.SUPPRESS)
        s.add_argument("--json", action="store_true", help="print a JSON array")
        s.add_argument("--all", action="store_true", help="include ended and gone sessions")

    n = verbs.add_parser("name", help="rename this session")
    n.add_argument("new")
    n.add_argument("--session", help="act for this session (name or id) instead")

    d = verbs.add_parser("doing", help="share what this session is working on")
    d.add_argument("text", nargs="*")
    d.add_argument("--clear", action="store_true", help="share no task")
    d.add_argument("--stdin", action="store_true", help="read the text from standard input")
    d.add_argument("--session", help="act for this session (name or id) instead")

    lk = verbs.add_parser("lock", help="lock a file or glob against other sessions' edits")
    lk.add_argument("pattern", help="a path or a glob, relative to the current directory")
    lk.add_argument("--ttl", help="how long (600, 30m, 2h; default: the lock_ttl setting)")
    lk.add_argument("--reason", default="", help="shown to sessions whose edits it stops")

    ul = verbs.add_parser("unlock", help="release a lock")
    ul.add_argument("pattern", nargs="?")
    ul.add_argument(
        "--force", action="store_true", help="break another holder's lock (the holder is told)"
    )
    ul.add_argument("--all", action="store_true", help="release every lock you hold")

    ls = verbs.add_parser("locks", help="list the locks that are in force")
    ls.add_argument("--json", action="store_true")

    sd = verbs.add_parser("send", help="send a message to one session")
    sd.add_argument("to", nargs="?", help="a session name, id prefix, branch or worktree name")
    sd.add_argument("text", nargs="*")
    sd.add_argument("--kind", choices=MESSAGE_KINDS, default="fyi")
    sd.add_argument(
        "--urgent",
        action="store_true",
        help="shown between the recipient's tool calls, not only at its next prompt",
    )
    sd.add_argument("--reply-to", metavar="ID", help="the id of the message this answers")
    sd.add_argument(
        "--stdin",
        action="store_true",
        help="read 'TO TEXT' from standard input (any quotes are fine there)",
    )

    nt = verbs.add_parser("note", help="tell every other session in this repository")
    nt.add_argument("text", nargs="*")
    nt.add_argument("--stdin", action="store_true", help="read the text from standard input")

    ib = verbs.add_parser("inbox", help="this session's new notes and messages")
    ib.add_argument("--all", action="store_true", help="earlier ones too")
    ib.add_argument("--json", action="store_true")

    st = verbs.add_parser("sent", help="what you sent, and whether it was delivered")
    st.add_argument("--json", action="store_true")

    lg = verbs.add_parser("log", help="the repository's notes and messages")
    lg.add_argument("--since", help="only the last 30m, 2h, 1d, ...")
    lg.add_argument("--until", help="only what is older than 30m, 2h, 1d, ...")
    lg.add_argument("--grep", help="only items whose text contains this")
    lg.add_argument("--json", action="store_true")

    _task_parser(verbs)

    cf = verbs.add_parser("config", help="show or change this repository's settings")
    cf.add_argument("name", nargs="?")
    cf.add_argument("value", nargs="?")
    cf.add_argument("--json", action="store_true")

    cm = verbs.add_parser(
        "commands", help="the short slash commands /sessions, /note and /message (default: show)"
    )
    cm.add_argument("step", nargs="?", choices=("install", "remove", "show"), default="show")

    doc = verbs.add_parser("doctor", help="check the installation and this repository")
    doc.add_argument("--json", action="store_true")

    rn = verbs.add_parser(
        "run", help="run a command; when it exits, tell this session (and --notify NAME)"
    )
    rn.add_argument("--notify", metavar="NAME", help="tell this session too")
    rn.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND [ARGS...]")

    demo = verbs.add_parser("demo", help="play two sessions in a scratch repository")
    demo.add_argument("--keep", action="store_true", help="keep the scratch repository")

    h = verbs.add_parser("hook", help="run a hook handler (what hooks.json runs)")
    h.add_argument("event")
    return p


def _task_parser(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    tk = verbs.add_parser("task", help="the shared task board (default: list)")
    steps = tk.add_subparsers(dest="step", metavar="STEP")
    ta = steps.add_parser("add", help="put a task on the board; prints its id")
    ta.add_argument("title", nargs="+")
    ta.add_argument("--detail", default="", help="more about it")
    tl = steps.add_parser("list", help="open and claimed tasks")
    tl.add_argument("--json", action="store_true")
    tl.add_argument("--all", action="store_true", help="done ones too")
    tc = steps.add_parser("claim", help="take a task (a session does this)")
    tc.add_argument("id")
    td = steps.add_parser("done", help="mark a task done and tell the other sessions")
    td.add_argument("id")
    td.add_argument("--note", default="", help="what to tell them")
    td.add_argument("--force", action="store_true", help="even if another session claimed it")
    tr = steps.add_parser("release", help="put a claimed task back to open")
    tr.add_argument("id")
    tr.add_argument("--force", action="store_true", help="even if another session claimed it")


def _task(args: argparse.Namespace) -> int:
    from huddle.cli import tasks_cmd

    if args.step == "add":
        return tasks_cmd.add(" ".join(args.title), args.detail)
    if args.step == "claim":
        return tasks_cmd.claim(args.id)
    if args.step == "done":
        return tasks_cmd.done(args.id, args.note, args.force)
    if args.step == "release":
        return tasks_cmd.release(args.id, args.force)
    # `huddle task` alone lists, so `/huddle:task` with no arguments is useful.
    return tasks_cmd.list_tasks(getattr(args, "json", False), getattr(args, "all", False))


def dispatch(args: argparse.Namespace) -> int:
    verb = args.verb
    if verb == "enable":
        from huddle.cli import enable

        return enable.enable(args.keep_state)
    if verb == "disable":
        from huddle.cli import enable

        return enable.disable(args.yes)
    if verb in ("sessions", "status"):
        from huddle.cli import sessions_cmd

        return sessions_cmd.run(args.json, args.all)
    if verb == "name":
        from huddle.cli import own_cmd

        return own_cmd.rename(args.new, args.session)
    if verb == "doing":
        from huddle.cli import own_cmd

        text = " ".join(sys.stdin.read().split() if args.stdin else args.text)
        if not text and not args.clear:
            raise UserError('say what: huddle doing "fixing the login form" (or --clear)')
        return own_cmd.doing(text, args.clear, args.session)
    if verb in ("lock", "unlock", "locks"):
        from huddle.cli import locks_cmd

        if verb == "lock":
            return locks_cmd.lock(args.pattern, args.ttl, args.reason)
        if verb == "unlock":
            return locks_cmd.unlock(args.pattern, args.force, args.all)
        return locks_cmd.list_locks(args.json)
    if verb in ("send", "note", "inbox", "sent", "log"):
        return _messages(args)
    if verb == "task":
        return _task(args)
    if verb == "config":
        from huddle.cli import config_cmd

        return config_cmd.run(args.name, args.value, args.json)
    if verb == "commands":
        from huddle.cli import commands_cmd

        step = {"install": commands_cmd.install, "remove": commands_cmd.remove}
        return step.get(args.step, commands_cmd.show)()
    if verb == "doctor":
        from huddle.cli import doctor

        return doctor.run(args.json)
    if verb == "run":
        from huddle.cli import run_cmd

        return run_cmd.run(args.command, args.notify)
    if verb == "demo":
        from huddle.cli import demo

        return demo.run(keep=args.keep)
    if verb == "hook":
        from huddle.handlers import entry

        entry.main(args.event)
    raise AssertionError(verb)


def _messages(args: argparse.Namespace) -> int:
    from huddle.cli import messages_cmd

    if args.verb == "send":
        if args.stdin:
            if args.to is not None:
                raise UserError("with --stdin, give TO and the text on standard input")
            return messages_cmd.send(None, [], args.kind, args.urgent, args.reply_to, True)
        return messages_cmd.send(args.to, args.text, args.kind, args.urgent, args.reply_to, False)
    if args.verb == "note":
        return messages_cmd.note(args.text, args.stdin)
    if args.verb == "inbox":
        return messages_cmd.show_inbox(args.all, args.json)
    if args.verb == "sent":
        return messages_cmd.sent(args.json)
    return messages_cmd.log(args.since, args.grep, args.json, args.until)


FREE_TEXT = ("send", "note", "doing")


ARGS_STDIN = "--args-stdin"


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line. Options may also come between a message's name and its text
    (`huddle send bob --kind answer "..."`): argparse alone would refuse the text.

    `huddle VERB --args-stdin` reads the rest of the command line from standard input: what a
    slash command's user typed, split into words like a shell does but never expanded, so `$`,
    backticks and a lone apostrophe reach huddle as typed.
    """
    words = list(sys.argv[1:] if argv is None else argv)
    if len(words) == 2 and words[1] == ARGS_STDIN:
        words = [words[0], *typed_words(sys.stdin.read())]
    command = parser()
    args, extra = command.parse_known_args(words)
    if extra and args.verb in FREE_TEXT and not any(word.startswith("-") for word in extra):
        args.text = [*args.text, *extra]
    elif extra:
        command.error(f"unrecognized arguments: {' '.join(extra)}")
    return args


def typed_words(text: str) -> list[str]:
    """Words as a shell would split them (quotes group, nothing expands); plain whitespace
    splitting when the quotes do not pair up (`fix the user's cart`)."""
    import shlex

    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    try:
        return dispatch(args)
    except UserError as exc:
        print(f"huddle: {exc}", file=sys.stderr)
        return 1
    except Outside as exc:  # a symlink in the state directory: refused, and said in one line
        log.write(f"huddle {args.verb}: refused: {exc}")
        print(f"huddle: refused: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except ModuleNotFoundError as exc:
        if exc.name not in ("pydantic", "filelock", "git"):
            return _unexpected(args.verb, exc)
        print(
            f"huddle: its runtime dependency {exc.name} is not installed here. The plugin builds "
            "it at session start; `huddle doctor` says where things stand.",
            file=sys.stderr,
        )
        return MISSING_DEPENDENCY
    except Exception as exc:  # noqa: BLE001 - this is the boundary
        return _unexpected(args.verb, exc)


def _unexpected(verb: str, exc: BaseException) -> int:
    log.write(f"huddle {verb}: {exc!r}", with_traceback=True)
    print(f"huddle: unexpected error: {exc!r} (details in {log.log_path()})", file=sys.stderr)
    return UNEXPECTED


if __name__ == "__main__":
    sys.exit(main())
