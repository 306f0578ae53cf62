"""Which git commands in a Bash command line would move HEAD or rewrite the index or worktree.

PreToolUse on Bash calls `inspect` on every command the model runs, so a command without "git"
in it returns at once and the tokenizer (and `re`) load only when it has. The command is read
the way bash would read it, closely enough for a warning: quotes, escapes, `$(...)`, backticks,
heredocs, redirections, subshells, `cd` chains, wrappers such as `env` or `sudo`, and git's own
global options. Nothing here touches the disk or raises: a command bash could not parse is read
again with quotes taken as plain characters, which finds more git invocations rather than fewer.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from re import Pattern

    Reader = Callable[[list[str]], tuple[str, str] | None]

__all__ = ["GitAction", "inspect"]

MAX_COMMAND_TEXT = 200
_MAX_DEPTH = 32  # nested $(...), eval and `sh -c`: deeper than any real command goes
_SCRIPT_DEPTH = 8  # what one level of `eval` or `sh -c` counts towards _MAX_DEPTH
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
        _inspect(command, _Shell(os.path.normpath(cwd)), found, 0)
    except Exception:  # a guard that crashes the hook protects nobody; keep what was found
        pass
    return found


def _inspect(command: str, shell: _Shell, found: list[GitAction], depth: int) -> None:
    try:
        tokens = _Lexer(command, quotes=True).run()
    except _Unbalanced:
        tokens = _Lexer(command, quotes=False).run()
    _walk(tokens, command, shell, found, depth)


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


# --- tokens -------------------------------------------------------------------------------------


class _Unbalanced(Exception):
    """A quote never closes: bash would refuse the line, so it is read again without quotes."""


class _Word:
    __slots__ = ("value", "start", "end", "literal", "subs")

    def __init__(
        self,
        value: str,
        start: int,
        end: int,
        literal: bool,
        subs: list[list[_Word | str]] | None,
    ) -> None:
        self.value = value  # after quote removal
        self.start = start  # span in the text it came from
        self.end = end
        self.literal = literal  # no $ expansion or command substitution in it
        self.subs = subs  # command substitutions inside it, each a token list


_BLANKS = " \t\r\f\v\x00"  # NUL cannot reach a shell at all; read it as a space
_RUN: Pattern[str] | None = None


def _plain_run() -> Pattern[str]:
    global _RUN
    if _RUN is None:
        import re  # already loaded in the hook process by json; never on the no-git path

        _RUN = re.compile(r"[^\s\x00'\"\\$`;&|()<>#]+")
    return _RUN


class _Lexer:
    """Splits a command line into words and operators, recursing into `$(...)` and backticks."""

    def __init__(self, text: str, quotes: bool) -> None:
        self.text = text
        self.quotes = quotes
        self.run_re = _plain_run()

    def run(self) -> list[_Word | str]:
        """Words and operators: ; & && || | |& newline ( )."""
        return self.tokens(0, 0, "")[0]

    def tokens(self, pos: int, depth: int, closer: str) -> tuple[list[_Word | str], int]:
        """Tokens from `pos` up to `closer` (")" or "`"; "" for the end), and where they stop."""
        text, n = self.text, len(self.text)
        out: list[_Word | str] = []
        parts: list[str] = []
        start = -1  # where the current word began; -1 when there is none
        literal = True
        subs: list[list[_Word | str]] = []
        redirect = ""  # "" or "target" or "heredoc" / "heredoc-": the next word is not an arg
        heredocs: list[tuple[str, bool]] = []
        parens = 0
        i = pos

        def flush(end: int) -> None:
            nonlocal start, literal, subs, redirect
            if start < 0:
                return
            value = "".join(parts)
            if redirect.startswith("heredoc"):
                heredocs.append((value, redirect == "heredoc-"))
            elif not redirect:
                out.append(_Word(value, start, end, literal, subs or None))
            parts.clear()
            start, literal, subs, redirect = -1, True, [], ""

        while i < n:
            c = text[i]
            if c == "\n":
                flush(i)
                out.append("\n")
                i = self.skip_heredocs(i + 1, heredocs)
                heredocs = []
                continue
            if c in _BLANKS:
                flush(i)
                i += 1
                continue
            if closer == "`" and c == "`":
                flush(i)
                return out, i + 1
            if c == "#" and start < 0:
                newline = text.find("\n", i)
                i = n if newline < 0 else newline
                continue
            if c == "\\":
                if text.startswith("\n", i + 1):
                    i += 2  # line continuation
                    continue
                if start < 0:
                    start = i
                parts.append(text[i + 1 : i + 2])
                i += 2
                continue
            if c == "'" or c == '"':
                if start < 0:
                    start = i
                if not self.quotes:
                    i += 1  # the quote characters alone go; what they held is read as words
                    continue
                if c == "'":
                    close = text.find("'", i + 1)
                    if close < 0:
                        raise _Unbalanced
                    parts.append(text[i + 1 : close])
                    i = close + 1
                else:
                    i, plain, found = self.double_quoted(i + 1, depth, parts)
                    literal = literal and plain
                    subs += found
                continue
            if c == "$" or c == "`":
                if start < 0:
                    start = i
                i, plain, found = self.expansion(i, depth, parts)
                literal = literal and plain
                subs += found
                continue
            if c in ";&|":
                flush(i)
                two = text[i : i + 2]
                if c == "&" and text.startswith(">", i + 1):
                    i = i + 3 if text.startswith(">>", i + 1) else i + 2
                    redirect = "target"
                    continue
                if two in ("&&", "||", "|&"):
                    out.append(two)
                    i += 2
                elif c == ";":
                    out.append(";")  # also ;; ;& ;;& of `case`
                    i += 2 if two in (";;", ";&") else 1
                    if text.startswith("&", i):
                        i += 1
                else:
                    out.append(c)
                    i += 1
                continue
            if c == "(":
                if start >= 0 and parts and parts[-1].endswith("="):
                    end = self.skip_balanced(i + 1, depth)  # array assignment: a=(x y)
                    parts.append(text[i:end])
                    literal = False
                    i = end
                    continue
                flush(i)
                out.append("(")
                parens += 1
                i += 1
                continue
            if c == ")":
                flush(i)
                if closer == ")" and parens == 0:
                    return out, i + 1
                if parens:
                    parens -= 1
                out.append(")")
                i += 1
                continue
            if c in "<>":
                if text.startswith("(", i + 1):  # process substitution <(...) >(...)
                    if start < 0:
                        start = i
                    begin = i
                    i, found = self.substitution(i + 2, depth, ")")
                    parts.append(text[begin:i])
                    literal = False
                    subs += found
                    continue
                if start >= 0 and not redirect and "".join(parts).isdigit():
                    parts.clear()  # the fd number of 2>file belongs to the redirection
                    start, literal, subs = -1, True, []
                flush(i)
                i, redirect = self.redirection(i)
                continue
            if start < 0:
                start = i
            match = self.run_re.match(text, i)
            if match is None:
                parts.append(c)
                i += 1
            else:
                parts.append(match.group())
                i = match.end()
        flush(n)
        return out, n

    def redirection(self, i: int) -> tuple[int, str]:
        text = self.text
        for op, kind in (
            ("<<<", "target"),
            ("<<-", "heredoc-"),
            ("<<", "heredoc"),
            (">>", "target"),
            ("<>", "target"),
            ("<&", "target"),
            (">&", "target"),
            (">|", "target"),
        ):
            if text.startswith(op, i):
                return i + len(op), kind
        return i + 1, "target"

    def skip_heredocs(self, i: int, heredocs: list[tuple[str, bool]]) -> int:
        text, n = self.text, len(self.text)
        for delimiter, strip_tabs in heredocs:
            while i < n:
                newline = text.find("\n", i)
                end = n if newline < 0 else newline
                line = text[i:end]
                i = end + 1
                if (line.lstrip("\t") if strip_tabs else line) == delimiter:
                    break
        return min(i, n)

    def double_quoted(
        self, i: int, depth: int, parts: list[str]
    ) -> tuple[int, bool, list[list[_Word | str]]]:
        """Reads a "..." body from `i`; returns the index after it, literalness, substitutions."""
        text, n = self.text, len(self.text)
        literal = True
        found: list[list[_Word | str]] = []
        while i < n:
            c = text[i]
            if c == '"':
                return i + 1, literal, found
            if c == "\\":
                following = text[i + 1 : i + 2]
                if following == "\n":
                    pass
                elif following in ('"', "\\", "$", "`"):
                    parts.append(following)
                else:
                    parts.append("\\" + following)
                i += 2
            elif c == "$" or c == "`":
                i, plain, inner = self.expansion(i, depth, parts)
                literal = literal and plain
                found += inner
            else:
                close = i + 1
                while close < n and text[close] not in '"\\$`':
                    close += 1
                parts.append(text[i:close])
                i = close
        raise _Unbalanced

    def expansion(
        self, i: int, depth: int, parts: list[str]
    ) -> tuple[int, bool, list[list[_Word | str]]]:
        """Reads what starts with `$` or a backtick at `i`."""
        text = self.text
        if text[i] == "`":
            end, found = self.substitution(i + 1, depth, "`")
            parts.append(text[i:end])
            return end, False, found
        following = text[i + 1 : i + 2]
        if text.startswith("((", i + 1):
            end = self.skip_balanced(i + 3, depth, needed=2)
        elif following == "(":
            end, found = self.substitution(i + 2, depth, ")")
            parts.append(text[i:end])
            return end, False, found
        elif following == "{":
            end = self.skip_balanced(i + 2, depth, opener="{", closer="}")
        elif following == "'" and self.quotes:
            return self.ansi_c(i + 2, parts), True, []
        elif following == '"' and self.quotes:
            return self.double_quoted(i + 2, depth, parts)
        else:
            end = i + 1
        parts.append(text[i:end])
        return end, False, []

    def substitution(self, i: int, depth: int, closer: str) -> tuple[int, list[list[_Word | str]]]:
        if depth >= _MAX_DEPTH:
            if closer == "`":
                close = self.text.find("`", i)
                return (len(self.text) if close < 0 else close + 1), []
            return self.skip_balanced(i, depth), []
        inner, end = self.tokens(i, depth + 1, closer)
        return end, [inner]

    def skip_balanced(
        self, i: int, depth: int, opener: str = "(", closer: str = ")", needed: int = 1
    ) -> int:
        """The index after the `closer` that balances `needed` already-open `opener`s."""
        text, n = self.text, len(self.text)
        level = needed
        while i < n:
            c = text[i]
            if c == "\\":
                i += 2
                continue
            if c == "'" and self.quotes:
                close = text.find("'", i + 1)
                i = n if close < 0 else close + 1
                continue
            if c == opener:
                level += 1
            elif c == closer:
                level -= 1
                if level <= 0:
                    return i + 1
            i += 1
        return n

    def ansi_c(self, i: int, parts: list[str]) -> int:
        text, n = self.text, len(self.text)
        escapes = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "e": "\x1b"}
        while i < n:
            c = text[i]
            if c == "'":
                return i + 1
            if c == "\\" and i + 1 < n:
                parts.append(escapes.get(text[i + 1], "\\" + text[i + 1]))
                i += 2
                continue
            parts.append(c)
            i += 1
        raise _Unbalanced


# --- the shell: which directory each command runs in --------------------------------------------


class _Shell:
    __slots__ = ("cwd", "uncertain", "oldpwd", "dirs")

    def __init__(
        self, cwd: str, uncertain: bool = False, oldpwd: str = "", dirs: list[str] | None = None
    ) -> None:
        self.cwd = cwd
        self.uncertain = uncertain
        self.oldpwd = oldpwd  # "" while unknown
        self.dirs = dirs if dirs is not None else []  # pushd's stack

    def copy(self) -> _Shell:
        return _Shell(self.cwd, self.uncertain, self.oldpwd, list(self.dirs))

    def cd(self, target: str) -> None:
        self.oldpwd, self.cwd = self.cwd, os.path.normpath(os.path.join(self.cwd, target))


_KEYWORDS = frozenset(
    ("!", "{", "}", "if", "then", "elif", "else", "fi", "do", "done", "while", "until", "esac")
)
_SHELLS = frozenset(("sh", "bash", "zsh", "dash", "ksh"))


def _walk(
    tokens: Sequence[_Word | str], text: str, shell: _Shell, found: list[GitAction], depth: int
) -> None:
    saved: list[_Shell] = []  # shells to return to at each `)`
    words: list[_Word] = []
    previous = ""
    for token in [*tokens, ";"]:
        if isinstance(token, _Word):
            words.append(token)
            continue
        if token == "(":
            saved.append(shell)
            if not words:  # `f() {...}`: a "(" after a word declares a function, no subshell
                shell = shell.copy()
            words = []
            previous = token
            continue
        if words:
            piped = previous in ("|", "|&") or token in ("|", "|&", "&")
            # a pipeline's parts and background jobs run in subshells: their cd does not last
            _command(words, text, shell.copy() if piped else shell, found, depth)
            words = []
        if token == ")" and saved:
            shell = saved.pop()
        previous = token


def _is_assignment(word: _Word, text: str) -> bool:
    name, equals, _ = text[word.start : word.end].partition("=")
    return bool(equals) and name.isidentifier() and name.isascii()


def _plain_path(word: _Word, text: str) -> str | None:
    """The word as a directory name, or None when only the shell would know it."""
    raw = text[word.start : word.end]
    if not word.literal or raw.startswith("~") or any(ch in raw for ch in "*?["):
        return None
    return word.value


# For each wrapper: options that take a value, options after which nothing runs, how many
# plain arguments come before the command, and options that change directory.
_WRAPPERS: dict[str, tuple[frozenset[str], frozenset[str], int, frozenset[str]]] = {
    "command": (frozenset(), frozenset(("-v", "-V")), 0, frozenset()),
    "exec": (frozenset(("-a",)), frozenset(), 0, frozenset()),
    "env": (
        frozenset(("-u", "--unset", "-C", "--chdir", "-S", "--split-string")),
        frozenset(("-S", "--split-string")),
        0,
        frozenset(("-C", "--chdir")),
    ),
    "sudo": (
        frozenset(
            ("-u", "-g", "-h", "-p", "-r", "-t", "-U", "-C", "-D", "-T", "--user", "--group")
            + ("--host", "--prompt", "--role", "--type", "--other-user", "--close-from")
            + ("--chdir", "--command-timeout")
        ),
        frozenset(("-e", "--edit", "-l", "--list", "-v", "--validate", "-k", "-K")),
        0,
        frozenset(("-D", "--chdir")),
    ),
    "doas": (frozenset(("-u", "-C")), frozenset(), 0, frozenset()),
    "time": (frozenset(("-o", "-f", "--output", "--format")), frozenset(), 0, frozenset()),
    "nohup": (frozenset(), frozenset(), 0, frozenset()),
    "nice": (frozenset(("-n", "--adjustment")), frozenset(), 0, frozenset()),
    "ionice": (frozenset(("-c", "-n", "-p", "-P", "-u")), frozenset(), 0, frozenset()),
    "timeout": (frozenset(("-s", "-k", "--signal", "--kill-after")), frozenset(), 1, frozenset()),
    "stdbuf": (frozenset(("-i", "-o", "-e")), frozenset(), 0, frozenset()),
    "setsid": (frozenset(), frozenset(), 0, frozenset()),
    "chronic": (frozenset(), frozenset(), 0, frozenset()),
    "unbuffer": (frozenset(), frozenset(), 0, frozenset()),
    "noglob": (frozenset(), frozenset(), 0, frozenset()),
    "nocorrect": (frozenset(), frozenset(), 0, frozenset()),
}
_ENV_AFTER = frozenset(("env", "sudo"))  # wrappers that take NAME=value before the command


def _command(
    words: list[_Word], text: str, shell: _Shell, found: list[GitAction], depth: int
) -> None:
    for word in words:
        for sub in word.subs or ():
            if depth < _MAX_DEPTH:
                _walk(sub, text, shell.copy(), found, depth + 1)
    place = _Place(shell.cwd, shell.uncertain)
    env: dict[str, _Word] = {}
    i, n = 0, len(words)
    while i < n:
        word = words[i]
        if _is_assignment(word, text):
            env[word.value.partition("=")[0]] = word
            i += 1
            continue
        if word.value in _KEYWORDS:
            i += 1
            continue
        spec = _WRAPPERS.get(word.value)
        if spec is None:
            break
        i = _skip_wrapper(word.value, spec, words, i + 1, text, place, env)
        if i < 0:
            return
    if i >= n:
        return
    name = words[i].value.rpartition("/")[2]
    args = words[i + 1 :]
    if name == "git":
        _git(words[i], args, text, place, env, found)
    elif name in ("cd", "pushd", "popd"):
        _change_directory(name, args, text, shell)
    elif depth < _MAX_DEPTH and (name == "eval" or name in _SHELLS):
        script = _script(name, args)
        if script is not None and "git" in script:
            # The script is its own text, so the spans of its words point into it. Each level
            # reads the whole text again, so scripts in scripts stop after a few levels.
            _inspect(script, _Shell(place.cwd, place.uncertain), found, depth + _SCRIPT_DEPTH)


class _Place:
    """Where one command runs: a directory, and whether that is a guess."""

    __slots__ = ("cwd", "uncertain")

    def __init__(self, cwd: str, uncertain: bool) -> None:
        self.cwd = cwd
        self.uncertain = uncertain

    def enter(self, word: _Word, text: str, value: str | None = None) -> None:
        """Follows a relative or absolute directory, or marks the place a guess."""
        path = _plain_path(word, text) if value is None else value
        if path is None or (value is not None and (not word.literal or path.startswith("~"))):
            self.uncertain = True
        elif path:
            self.cwd = os.path.normpath(os.path.join(self.cwd, path))


def _skip_wrapper(
    name: str,
    spec: tuple[frozenset[str], frozenset[str], int, frozenset[str]],
    words: list[_Word],
    i: int,
    text: str,
    place: _Place,
    env: dict[str, _Word],
) -> int:
    """The index of the wrapped command after `name`'s options; -1 when nothing runs."""
    with_value, stoppers, leading, chdirs = spec
    n = len(words)
    while i < n and words[i].value.startswith("-") and words[i].value != "-":
        option, equals, attached = words[i].value.partition("=")
        i += 1
        if option == "--":
            break
        if option in stoppers:
            return -1
        if option in with_value and not equals:
            if i >= n:
                return -1
            if option in chdirs:
                place.enter(words[i], text)
            i += 1
        elif option in chdirs:
            place.enter(words[i - 1], text, attached)
    i += leading
    if name in _ENV_AFTER:
        while i < n and _is_assignment(words[i], text):
            env[words[i].value.partition("=")[0]] = words[i]
            i += 1
    return i


def _script(name: str, args: list[_Word]) -> str | None:
    """The command text that `eval ...` or `sh -c '...'` runs."""
    if name == "eval":
        return " ".join(word.value for word in args)
    skip = False
    for index, word in enumerate(args):
        value = word.value
        if skip:
            skip = False
        elif value == "--" or not value.startswith(("-", "+")):
            return None
        elif value in ("-o", "+o", "-O", "+O"):
            skip = True  # `bash -o pipefail -c ...`
        elif not value.startswith("--") and "c" in value:
            return args[index + 1].value if index + 1 < len(args) else None
    return None


def _change_directory(name: str, args: list[_Word], text: str, shell: _Shell) -> None:
    operands = [w for w in args if not (w.value.startswith("-") and w.value not in ("-", "--"))]
    if operands and operands[0].value == "--":
        operands = operands[1:]
    if name == "popd":
        if operands or not shell.dirs:
            shell.uncertain = True
        else:
            shell.oldpwd, shell.cwd = shell.cwd, shell.dirs.pop()
        return
    if not operands:
        if name == "pushd" and shell.dirs:
            top = shell.dirs.pop()
            shell.dirs.append(shell.cwd)
            shell.oldpwd, shell.cwd = shell.cwd, top
        else:
            shell.uncertain = True  # home, which a pure function does not look up
        return
    target = operands[0].value
    if name == "pushd" and target[:1] in "+-" and target[1:].isdigit():
        shell.uncertain = True
        return
    if target == "-":
        if shell.oldpwd:
            shell.oldpwd, shell.cwd = shell.cwd, shell.oldpwd
        else:
            shell.uncertain = True
        return
    path = _plain_path(operands[0], text)
    if path is None:
        shell.uncertain = True
        return
    if path:
        if name == "pushd":
            shell.dirs.append(shell.cwd)
        shell.cd(path)


# --- git ----------------------------------------------------------------------------------------

_GLOBAL_WITH_VALUE = frozenset(
    ("-C", "-c", "--git-dir", "--work-tree", "--namespace", "--config-env", "--super-prefix")
    + ("--attr-source", "--list-cmds")
)
_GLOBAL_ONLY = frozenset(
    ("-h", "--help", "-v", "--version", "--html-path", "--man-path", "--info-path")
)


def _git(
    git_word: _Word,
    args: list[_Word],
    text: str,
    place: _Place,
    env: dict[str, _Word],
    found: list[GitAction],
) -> None:
    work_tree: tuple[_Word, str] | None = None
    if "GIT_WORK_TREE" in env:
        work_tree = env["GIT_WORK_TREE"], env["GIT_WORK_TREE"].value.partition("=")[2]
    git_dir = "GIT_DIR" in env
    i, n = 0, len(args)
    while i < n:
        option, equals, value = args[i].value.partition("=")
        if not option.startswith("-"):
            break
        if option in _GLOBAL_ONLY or (option == "--exec-path" and not equals):
            return
        if option in _GLOBAL_WITH_VALUE and not equals:
            i += 1
            if i >= n:
                return
            value = args[i].value
            if option == "-C":  # each -C is relative to the one before, as in git
                place.enter(args[i], text)
        if option == "--work-tree":
            work_tree = args[i], value
        elif option == "--git-dir":
            git_dir = True
        i += 1
    if i >= n:
        return
    if work_tree is not None:
        place.enter(work_tree[0], text, work_tree[1])
    elif git_dir:
        place.uncertain = True  # the repository is elsewhere: its worktree may be too
    reader = _VERBS.get(args[i].value)
    if reader is None:
        return
    values = [word.value for word in args[i + 1 :]]
    if values and values[0] in ("-h", "--help"):
        return
    result = reader(values)
    if result is None:
        return
    quoted = text[git_word.start : args[-1].end]
    if len(quoted) > MAX_COMMAND_TEXT:
        quoted = quoted[: MAX_COMMAND_TEXT - 1] + "…"
    found.append(GitAction(result[0], place.cwd, result[1], quoted, place.uncertain))


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
