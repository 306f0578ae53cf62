"""Shell commands: each simple command of a Bash command line, and the directory it runs in.

`walk` follows the line as bash would run it, closely enough for a warning: `;`, `&&`, `||`,
pipes and background jobs, subshells, `$(...)` and backticks, `cd`, `pushd` and `popd`, wrappers
such as `env`, `sudo` or `timeout` (with the directory and the variables they set), and the
scripts that `eval` and `sh -c` run. It touches no disk: where only the shell would know the
directory (`cd $DIR`, `cd ~`, `popd` past what it saw), the command is marked uncertain.
"""

from __future__ import annotations

import os

from huddle.shell.words import MAX_DEPTH, Word, split

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

__all__ = ["Command", "walk"]

_SCRIPT_DEPTH = 8  # what one level of `eval` or `sh -c` counts towards MAX_DEPTH


class Command:
    """One simple command: its words without wrappers and assignments, where it runs, its env."""

    __slots__ = ("text", "cwd", "uncertain", "env", "argv", "name")

    def __init__(self, text: str, cwd: str, uncertain: bool) -> None:
        self.text = text  # the text its words' spans point into: the line, or an eval'd script
        self.cwd = cwd  # absolute, normalised
        self.uncertain = uncertain  # True when `cwd` is a guess: `cd` to a variable or home, ...
        self.env: dict[str, Word] = {}  # NAME=value words before it (or after env, sudo) by NAME
        self.argv: list[Word] = []
        self.name = ""  # argv[0] without its directory: "git" for /usr/bin/git

    def enter(self, word: Word, value: str | None = None) -> None:
        """Moves `cwd` to the directory `word` names, or marks it a guess.

        `value` is the directory when it is only part of the word, as in `--work-tree=dir`.
        Wrappers such as `env -C dir` move the command; callers move it too for options such as
        `git -C dir`, so that `cwd` is where the command acts.
        """
        path = _plain_path(word, self.text) if value is None else value
        if path is None or (value is not None and (not word.literal or path.startswith("~"))):
            self.uncertain = True
        elif path:
            self.cwd = os.path.normpath(os.path.join(self.cwd, path))

    def source(self) -> str:
        """The command's own text, from its name to its last argument."""
        return self.text[self.argv[0].start : self.argv[-1].end]


def walk(text: str, cwd: str, wanted: str = "") -> Iterator[Command]:
    """Each simple command in `text`, run from `cwd` (absolute, normalised), in the order bash
    starts them.

    The commands the walk carries out itself are not among them: `cd`, `pushd` and `popd` move
    it, and `eval` and the shells (`sh`, `bash`, ...) stand for their script, whose commands come
    instead when its text is on the line. Such a script is read only when it contains `wanted`:
    the caller's own test of the whole line, which spares reading scripts that cannot matter.
    """
    return _read(text, _Shell(cwd), wanted, 0)


def _read(text: str, shell: _Shell, wanted: str, depth: int) -> Iterator[Command]:
    return _walk(split(text), text, shell, wanted, depth)


class _Shell:
    """What a shell carries from one command to the next: its directory, OLDPWD, pushd's stack."""

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
    tokens: Sequence[Word | str], text: str, shell: _Shell, wanted: str, depth: int
) -> Iterator[Command]:
    saved: list[_Shell] = []  # shells to return to at each `)`
    words: list[Word] = []
    previous = ""
    for token in [*tokens, ";"]:
        if isinstance(token, Word):
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
            yield from _command(words, text, shell.copy() if piped else shell, wanted, depth)
            words = []
        if token == ")" and saved:
            shell = saved.pop()
        previous = token


def _is_assignment(word: Word, text: str) -> bool:
    name, equals, _ = text[word.start : word.end].partition("=")
    return bool(equals) and name.isidentifier() and name.isascii()


def _plain_path(word: Word, text: str) -> str | None:
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
    words: list[Word], text: str, shell: _Shell, wanted: str, depth: int
) -> Iterator[Command]:
    for word in words:
        for sub in word.subs or ():
            if depth < MAX_DEPTH:
                yield from _walk(sub, text, shell.copy(), wanted, depth + 1)
    command = Command(text, shell.cwd, shell.uncertain)
    i, n = 0, len(words)
    while i < n:
        word = words[i]
        if _is_assignment(word, text):
            command.env[word.value.partition("=")[0]] = word
            i += 1
            continue
        if word.value in _KEYWORDS:
            i += 1
            continue
        spec = _WRAPPERS.get(word.value)
        if spec is None:
            break
        i = _skip_wrapper(word.value, spec, words, i + 1, command)
        if i < 0:
            return
    if i >= n:
        return
    command.argv = words[i:]
    command.name = name = words[i].value.rpartition("/")[2]
    args = words[i + 1 :]
    if name in ("cd", "pushd", "popd"):
        _change_directory(name, args, text, shell)
    elif name != "eval" and name not in _SHELLS:
        yield command
    elif depth < MAX_DEPTH:
        script = _script(name, args)
        if script is not None and wanted in script:
            # The script is its own text, so the spans of its words point into it. Each level
            # reads the whole text again, so scripts in scripts stop after a few levels.
            inner = _Shell(command.cwd, command.uncertain)
            yield from _read(script, inner, wanted, depth + _SCRIPT_DEPTH)


def _skip_wrapper(
    name: str,
    spec: tuple[frozenset[str], frozenset[str], int, frozenset[str]],
    words: list[Word],
    i: int,
    command: Command,
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
                command.enter(words[i])
            i += 1
        elif option in chdirs:
            command.enter(words[i - 1], attached)
    i += leading
    if name in _ENV_AFTER:
        while i < n and _is_assignment(words[i], command.text):
            command.env[words[i].value.partition("=")[0]] = words[i]
            i += 1
    return i


def _script(name: str, args: list[Word]) -> str | None:
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


def _change_directory(name: str, args: list[Word], text: str, shell: _Shell) -> None:
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
