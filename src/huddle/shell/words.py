"""Shell words: a Bash command line split into words and operators, as bash would split it.

Quotes, escapes, `$(...)` and backticks (their commands kept with the word they stand in),
heredocs, redirections (their targets dropped: they are not arguments) and comments. `split` never
raises: a line whose quote never closes is read again with quotes taken as plain characters, which
finds more commands rather than fewer.
"""

from __future__ import annotations

import re

__all__ = ["MAX_DEPTH", "Word", "split"]

MAX_DEPTH = 32  # nested $(...), eval and `sh -c`: deeper than any real command goes


class Word:
    """One shell word: its value after quote removal, and where it stands in the text."""

    __slots__ = ("value", "start", "end", "literal", "subs")

    def __init__(
        self,
        value: str,
        start: int,
        end: int,
        literal: bool,
        subs: list[list[Word | str]] | None,
    ) -> None:
        self.value = value  # after quote removal
        self.start = start  # span in the text it came from
        self.end = end
        self.literal = literal  # no $ expansion or command substitution in it
        self.subs = subs  # command substitutions inside it, each a token list


def split(text: str) -> list[Word | str]:
    """The words and operators (; & && || | |& newline ( )) of `text`, in order."""
    try:
        return _Lexer(text, quotes=True).run()
    except _Unbalanced:
        return _Lexer(text, quotes=False).run()


class _Unbalanced(Exception):
    """A quote never closes: bash would refuse the line, so it is read again without quotes."""


_BLANKS = " \t\r\f\v\x00"  # NUL cannot reach a shell at all; read it as a space
_PLAIN_RUN = re.compile(r"[^\s\x00'\"\\$`;&|()<>#]+")  # characters that stand for themselves


class _Lexer:
    """Splits a command line into words and operators, recursing into `$(...)` and backticks."""

    def __init__(self, text: str, quotes: bool) -> None:
        self.text = text
        self.quotes = quotes

    def run(self) -> list[Word | str]:
        """Words and operators: ; & && || | |& newline ( )."""
        return self.tokens(0, 0, "")[0]

    def tokens(self, pos: int, depth: int, closer: str) -> tuple[list[Word | str], int]:
        """Tokens from `pos` up to `closer` (")" or "`"; "" for the end), and where they stop."""
        text, n = self.text, len(self.text)
        out: list[Word | str] = []
        parts: list[str] = []
        start = -1  # where the current word began; -1 when there is none
        literal = True
        subs: list[list[Word | str]] = []
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
                out.append(Word(value, start, end, literal, subs or None))
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
            match = _PLAIN_RUN.match(text, i)
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
    ) -> tuple[int, bool, list[list[Word | str]]]:
        """Reads a "..." body from `i`; returns the index after it, literalness, substitutions."""
        text, n = self.text, len(self.text)
        literal = True
        found: list[list[Word | str]] = []
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
    ) -> tuple[int, bool, list[list[Word | str]]]:
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

    def substitution(self, i: int, depth: int, closer: str) -> tuple[int, list[list[Word | str]]]:
        if depth >= MAX_DEPTH:
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
