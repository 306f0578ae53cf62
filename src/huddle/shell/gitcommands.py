"""Which git commands in a Bash command line would move HEAD or rewrite the index or worktree.

PreToolUse on Bash calls `inspect` on every command the model runs, so a command without "git"
in it returns at once, and `huddle.shell`, which reads the line the way bash would (and `re`),
loads only when it has. Git's own global options (`-C`, `--work-tree`, `--git-dir`, ...) and
GIT_WORK_TREE / GIT_DIR decide where git acts. Nothing here touches the disk or raises.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from huddle.shell.commands import Command
    from huddle.shell.words import Word

    Reader = Callable[[list[str]], tuple[str, str] | None]

__all__ = ["GitAction", "inspect"]

MAX_COMMAND_TEXT = 200
_MAX_SHOWN = 60  # longest path or revision quoted in an effect


class GitAction:
    """One git invocation that changes what other sessions see in a worktree."""

    __slots__ = ("verb", "directory", "effect", "command", "uncertain")

    def __init__(
        self, verb: str, directory: str, effect: str, command: str, uncertain: bool = False
    ) -> None:
        self.verb = verb  # e.g. "stash", "checkout", "reset --hard", "commit -a"
        self.directory = directory  # absolute, normalised: where git acts
        self.effect = effect  # what it does to other people's uncommitted work there
        self.command = command  # the invocation's own text, at most 200 characters
        # True when `directory` is a guess: `cd` to a variable or home, `--git-dir`, ...
        self.uncertain = uncertain

    def __repr__(self) -> str:
        return (
            f"GitAction(verb={self.verb!r}, directory={self.directory!r}, "
            f"command={self.command!r}, uncertain={self.uncertain!r})"
        )


def inspect(command: str, cwd: str) -> list[GitAction]:
    """Every git invocation in `command` (run from `cwd`) that rewrites shared worktree state."""
    if "git" not in command:
        return []
    found: list[GitAction] = []
    try:
        for action in _actions(command, os.path.normpath(cwd)):
            found.append(action)
    except Exception:  # a guard that crashes the hook protects nobody; keep what was found
        pass
    return found


def _actions(command: str, cwd: str) -> Iterator[GitAction]:
    """`inspect` without its last-resort `except`."""
    from huddle.shell import commands  # the reader, and `re`: only for a line that names git

    for simple in commands.walk(command, cwd, wanted="git"):
        if simple.name == "git":
            action = _git(simple)
            if action is not None:
                yield action


# --- effects ------------------------------------------------------------------------------------

SWITCH = "switches the worktree to another branch under everyone working in it"
SWITCH_NEW = "switches the worktree to a new branch under everyone working in it"
SWITCH_FORCE = (
    "switches the worktree to another branch under everyone working in it, "
    "discarding every uncommitted change"
)
DISCARD_ALL = "discards every uncommitted change in the worktree"
DISCARD_ALL_MOVE = "discards every uncommitted change in the worktree and moves HEAD to {rev}"
UNSTAGE_ALL = "unstages every staged change in the worktree, other sessions' included"
UNSTAGE_ALL_MOVE = "moves HEAD to {rev} and unstages every staged change, other sessions' included"
MOVE_SOFT = "moves HEAD to {rev}, leaving the index and the files as they are"
MOVE_KEEP = "moves HEAD to {rev}, unstages every staged change and rewrites the files that differ"
UNSTAGE_PATHS = "unstages changes to {paths}"
STAGE_FROM = "sets the staged version of {paths} to the one in {rev}"
DISCARD_PATHS = "discards unstaged edits to {paths}"
OVERWRITE = "overwrites {paths} with the committed version"
OVERWRITE_FROM = "overwrites {paths} with the version in {rev}"
STASH = "takes every uncommitted change in the worktree out of it, other sessions' edits included"
STASH_UNTRACKED = (
    "takes every uncommitted change and untracked file in the worktree out of it, "
    "other sessions' included"
)
STASH_ALL = (
    "takes every uncommitted change, untracked and ignored file in the worktree out of it, "
    "other sessions' included"
)
STASH_STAGED = "takes every staged change in the worktree out of it, other sessions' included"
STASH_PATHS = "takes uncommitted changes to {paths} out of the worktree, other sessions' included"
STASH_PATCH = "takes chosen uncommitted changes out of the worktree"
_SHARED = "stashes are shared by all worktrees, so it may be another session's"
STASH_POP = "applies {stash} to the worktree's files and deletes it; " + _SHARED
STASH_APPLY = "applies {stash} to the worktree's files; " + _SHARED
STASH_DROP = "deletes {stash}; " + _SHARED
STASH_CLEAR = "deletes every stash in the repository, other sessions' included"
STASH_BRANCH = (
    "switches the worktree to a new branch and applies {stash} there, under everyone working in it"
)
HISTORY = "rewrites files and moves HEAD in the worktree"
COMMIT_ALL = "commits every modified tracked file, other sessions' unfinished edits included"
CLEAN = "deletes untracked files{under}, ones other sessions created included"
CLEAN_WITH_IGNORED = (
    "deletes untracked and ignored files{under}, ones other sessions created included"
)
CLEAN_IGNORED = "deletes ignored files{under}, ones other sessions created included"


# --- git ----------------------------------------------------------------------------------------

_GLOBAL_WITH_VALUE = frozenset(
    ("-C", "-c", "--git-dir", "--work-tree", "--namespace", "--config-env", "--super-prefix")
    + ("--attr-source", "--list-cmds")
)
_GLOBAL_ONLY = frozenset(
    ("-h", "--help", "-v", "--version", "--html-path", "--man-path", "--info-path")
)


def _git(command: Command) -> GitAction | None:
    """What a `git ...` command does to shared worktree state; None when it leaves it alone."""
    env, args = command.env, command.argv[1:]
    work_tree: tuple[Word, str] | None = None
    if "GIT_WORK_TREE" in env:
        work_tree = env["GIT_WORK_TREE"], env["GIT_WORK_TREE"].value.partition("=")[2]
    git_dir = "GIT_DIR" in env
    i, n = 0, len(args)
    while i < n:
        option, equals, value = args[i].value.partition("=")
        if not option.startswith("-"):
            break
        if option in _GLOBAL_ONLY or (option == "--exec-path" and not equals):
            return None
        if option in _GLOBAL_WITH_VALUE and not equals:
            i += 1
            if i >= n:
                return None
            value = args[i].value
            if option == "-C":  # each -C is relative to the one before, as in git
                command.enter(args[i])
        if option == "--work-tree":
            work_tree = args[i], value
        elif option == "--git-dir":
            git_dir = True
        i += 1
    if i >= n:
        return None
    if work_tree is not None:
        command.enter(*work_tree)
    elif git_dir:
        command.uncertain = True  # the repository is elsewhere: its worktree may be too
    reader = _VERBS.get(args[i].value)
    if reader is None:
        return None
    values = [word.value for word in args[i + 1 :]]
    if values and values[0] in ("-h", "--help"):
        return None
    result = reader(values)
    if result is None:
        return None
    quoted = command.source()
    if len(quoted) > MAX_COMMAND_TEXT:
        quoted = quoted[: MAX_COMMAND_TEXT - 1] + "…"
    return GitAction(result[0], command.cwd, result[1], quoted, command.uncertain)


class _Args:
    """A git command's arguments sorted into options, operands and paths after `--`."""

    __slots__ = ("options", "operands", "paths", "dashdash")

    def __init__(
        self,
        values: list[str],
        short_with_value: str = "",
        long_with_value: frozenset[str] = frozenset(),
        short_glued: str = "",
    ) -> None:
        self.options: dict[str, str] = {}  # "-a" / "--all" -> its value ("" when none)
        self.operands: list[str] = []
        self.paths: list[str] = []
        self.dashdash = False
        only_operands = False
        i, n = 0, len(values)
        while i < n:
            value = values[i]
            i += 1
            if self.dashdash:
                self.paths.append(value)
            elif value == "--":
                self.dashdash = True
            elif only_operands or not value.startswith("-") or value == "-":
                self.operands.append(value)
            elif value == "--end-of-options":
                only_operands = True
            elif value.startswith("--"):
                name, equals, attached = value.partition("=")
                if name in long_with_value and not equals and i < n:
                    attached = values[i]
                    i += 1
                self.options[name] = attached
            else:
                for at in range(1, len(value)):
                    flag = value[at]
                    rest = value[at + 1 :]
                    if flag in short_with_value:
                        if not rest and i < n:
                            rest = values[i]
                            i += 1
                        self.options["-" + flag] = rest
                        break
                    if flag in short_glued:
                        self.options["-" + flag] = rest
                        break
                    self.options["-" + flag] = ""

    def has(self, *names: str) -> bool:
        return any(name in self.options for name in names)

    def value(self, *names: str) -> str | None:
        for name in names:
            if name in self.options:
                return self.options[name]
        return None


def _shown(value: str) -> str:
    return value if len(value) <= _MAX_SHOWN else value[: _MAX_SHOWN - 1] + "…"


_EVERYTHING = frozenset((".", "./", ":/", ":", "*", ":/*", ":(top)"))


def _paths(paths: list[str]) -> str:
    if not paths or any(p in _EVERYTHING for p in paths):
        return "every file"
    shown = [_shown(p) for p in paths[:3]]
    if len(paths) > 3:
        return ", ".join(shown) + f" and {len(paths) - 3} more"
    return " and ".join(shown) if len(shown) == 2 else ", ".join(shown)


def _checkout(values: list[str]) -> tuple[str, str] | None:
    args = _Args(values, "bB", frozenset(("--orphan", "--conflict", "--pathspec-from-file")))
    pathish = args.has("-p", "--patch", "--pathspec-from-file", "--ours", "--theirs")
    if len(args.operands) == 1 and not args.dashdash and _looks_like_path(args.operands[0]):
        pathish = True  # `git checkout .` or `git checkout src/app.py`
    if args.paths or pathish or len(args.operands) >= 2:
        if args.dashdash or len(args.operands) >= 2:
            rev = args.operands[0] if args.operands else None
            paths = args.paths if args.dashdash else args.operands[1:]
        else:
            rev, paths = None, args.operands
        return "checkout --", _overwrite(paths, rev, "-p" in args.options)
    new = args.has("-b", "-B", "--orphan")
    if not (args.operands or new or args.has("--detach")):
        if args.has("-f", "--force"):
            return "checkout -f", DISCARD_ALL
        return None
    if args.has("-f", "--force"):
        return "checkout", SWITCH_FORCE
    return "checkout", SWITCH_NEW if new and not args.operands else SWITCH


def _overwrite(paths: list[str], rev: str | None, patch: bool) -> str:
    shown = ("chosen parts of " if patch else "") + _paths(paths)
    if rev is None:
        return DISCARD_PATHS.format(paths=shown)
    if rev == "HEAD":
        return OVERWRITE.format(paths=shown)
    return OVERWRITE_FROM.format(paths=shown, rev=_shown(rev))


def _switch(values: list[str]) -> tuple[str, str] | None:
    args = _Args(values, "cC", frozenset(("--create", "--force-create", "--orphan", "--conflict")))
    new = args.has("-c", "-C", "--create", "--force-create", "--orphan")
    if not (args.operands or new or args.has("--detach")):
        return None
    if args.has("-f", "--force", "--discard-changes"):
        return "switch", SWITCH_FORCE
    return "switch", SWITCH_NEW if new and not args.operands else SWITCH


_RESET_MODES = ("--soft", "--mixed", "--hard", "--keep", "--merge")


def _looks_like_path(value: str) -> bool:
    """A guess, for a lone operand that git would look up among refs and then files."""
    if value in _EVERYTHING or value.startswith(("./", "../", "/", ":")) or "*" in value:
        return True
    if "~" in value or "^" in value or "@{" in value or value.startswith("refs/"):
        return False
    extension = value.rpartition("/")[2].rpartition(".")[2]
    return "." in value.rpartition("/")[2] and extension.isalnum() and not extension.isdigit()


def _reset(values: list[str]) -> tuple[str, str] | None:
    args = _Args(values, "", frozenset(("--pathspec-from-file",)))
    mode = next((m for m in _RESET_MODES if m in args.options), None)
    rev: str | None = None
    paths = args.paths
    if args.dashdash:
        rev = args.operands[0] if args.operands else None
    elif args.operands:
        if _looks_like_path(args.operands[0]):
            paths = args.operands
        else:
            rev, paths = args.operands[0], args.operands[1:]
    if mode in (None, "--mixed") and (paths or args.has("-p", "--patch", "--pathspec-from-file")):
        shown = ("chosen parts of " if args.has("-p", "--patch") else "") + _paths(paths)
        if rev is not None and rev != "HEAD":
            return "reset --", STAGE_FROM.format(paths=shown, rev=_shown(rev))
        return "reset --", UNSTAGE_PATHS.format(paths=shown)
    mode = mode or "--mixed"
    verb = "reset " + mode
    moved = None if rev in (None, "HEAD", "@") else _shown(rev or "")
    if mode == "--hard":
        return verb, DISCARD_ALL if moved is None else DISCARD_ALL_MOVE.format(rev=moved)
    if mode == "--soft":
        return None if moved is None else (verb, MOVE_SOFT.format(rev=moved))
    if moved is None:
        return verb, UNSTAGE_ALL
    if mode == "--mixed":
        return verb, UNSTAGE_ALL_MOVE.format(rev=moved)
    return verb, MOVE_KEEP.format(rev=moved)


def _stash(values: list[str]) -> tuple[str, str] | None:
    sub = values[0] if values else "push"
    rest = values[1:]
    if sub.startswith("-"):
        args = _stash_push_args(values)
        if args.operands:
            return None  # git refuses: `git stash -u x` does not assume `push`
        return "stash", _stash_push_effect(args)
    if sub in ("push", "save"):
        args = _stash_push_args(rest)
        if sub == "save":
            args.operands = []  # save's words are the message
        return "stash", _stash_push_effect(args)
    if sub in ("pop", "apply", "drop", "branch"):
        args = _Args(rest)
        if sub == "branch":
            if not args.operands:
                return None
            stash = args.operands[1] if len(args.operands) > 1 else "the newest stash"
            return "stash branch", STASH_BRANCH.format(stash=_shown(stash))
        stash = _shown(args.operands[0]) if args.operands else "the newest stash"
        effect = {"pop": STASH_POP, "apply": STASH_APPLY, "drop": STASH_DROP}[sub]
        return "stash " + sub, effect.format(stash=stash)
    if sub == "clear":
        return "stash clear", STASH_CLEAR
    return None  # list, show, create, store, export, import: the worktree stays as it is


def _stash_push_args(values: list[str]) -> _Args:
    return _Args(values, "m", frozenset(("--message", "--pathspec-from-file")))


def _stash_push_effect(args: _Args) -> str:
    paths = args.paths + args.operands
    if args.has("-p", "--patch"):
        return STASH_PATCH
    if args.has("-S", "--staged"):
        return STASH_STAGED
    if args.has("-a", "--all"):
        return STASH_ALL
    if paths and not any(p in _EVERYTHING for p in paths):
        return STASH_PATHS.format(paths=_paths(paths))
    if args.has("-u", "--include-untracked"):
        return STASH_UNTRACKED
    return STASH


_SEQUENCER_LONG_WITH_VALUE = frozenset(
    ("--strategy", "--strategy-option", "--mainline", "--onto", "--exec", "--message", "--file")
    + ("--cleanup", "--into-name", "--rebase-merges", "--empty")
)


def _sequencer(name: str, short_with_value: str, harmless: tuple[str, ...]) -> Reader:
    """Reads rebase, merge, cherry-pick and revert: all move HEAD and rewrite files."""
    needs_operand = name in ("cherry-pick", "revert")  # the others default to the upstream

    def read(values: list[str]) -> tuple[str, str] | None:
        args = _Args(values, short_with_value, _SEQUENCER_LONG_WITH_VALUE, short_glued="S")
        for step in ("--continue", "--abort", "--skip"):
            if step in args.options:
                return f"{name} {step}", HISTORY
        if args.has(*harmless):
            return None
        if needs_operand and not args.operands:
            return None
        return name, HISTORY

    return read


def _pull(values: list[str]) -> tuple[str, str] | None:
    if "--dry-run" in values:
        return None  # fetches only
    return "pull", HISTORY


def _restore(values: list[str]) -> tuple[str, str] | None:
    args = _Args(values, "s", frozenset(("--source", "--pathspec-from-file", "--conflict")))
    paths = args.operands + args.paths
    patch = args.has("-p", "--patch")
    if not (paths or patch or args.has("--pathspec-from-file")):
        return None  # git refuses without paths
    staged = args.has("-S", "--staged")
    worktree = args.has("-W", "--worktree") or not staged
    source = args.value("-s", "--source")
    if not worktree:
        shown = ("chosen parts of " if patch else "") + _paths(paths)
        if source is None or source == "HEAD":
            return "restore --staged", UNSTAGE_PATHS.format(paths=shown)
        return "restore --staged", STAGE_FROM.format(paths=shown, rev=_shown(source))
    if source is None:
        source = "HEAD" if staged else None
    return "restore", _overwrite(paths, source, patch)


_COMMIT_LONG_WITH_VALUE = frozenset(
    (
        "--message",
        "--file",
        "--author",
        "--date",
        "--template",
        "--reuse-message",
        "--reedit-message",
        "--fixup",
        "--squash",
        "--trailer",
        "--cleanup",
        "--pathspec-from-file",
    )
)


def _commit(values: list[str]) -> tuple[str, str] | None:
    args = _Args(values, "mFcCt", _COMMIT_LONG_WITH_VALUE, short_glued="Su")
    if args.has("-a", "--all") and not args.has("--dry-run"):
        return "commit -a", COMMIT_ALL
    return None


def _clean(values: list[str]) -> tuple[str, str] | None:
    args = _Args(values, "e", frozenset(("--exclude",)))
    if args.has("-n", "--dry-run") or not args.has("-f", "--force", "-i", "--interactive"):
        return None
    paths = args.operands + args.paths
    under = "" if _paths(paths) == "every file" else " under " + _paths(paths)
    if args.has("-x"):
        effect = CLEAN_WITH_IGNORED
    elif args.has("-X"):
        effect = CLEAN_IGNORED
    else:
        effect = CLEAN
    return "clean", effect.format(under=under)


_VERBS: dict[str, Reader] = {
    "checkout": _checkout,
    "switch": _switch,
    "reset": _reset,
    "stash": _stash,
    "rebase": _sequencer("rebase", "sXxC", ("--quit", "--edit-todo", "--show-current-patch")),
    "merge": _sequencer("merge", "mFsX", ("--quit",)),
    "pull": _pull,
    "cherry-pick": _sequencer("cherry-pick", "mX", ("--quit",)),
    "revert": _sequencer("revert", "mX", ("--quit",)),
    "restore": _restore,
    "commit": _commit,
    "clean": _clean,
}
