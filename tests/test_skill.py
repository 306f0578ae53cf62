"""skills/huddle/SKILL.md: valid frontmatter, and only commands the CLI really has."""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path

import pytest

from huddle.cli.main import parser

SKILL = Path(__file__).resolve().parents[1] / "skills" / "huddle" / "SKILL.md"

REQUIRED = (
    "huddle doing",
    "huddle send",
    "huddle lock",
    "huddle unlock",
    "huddle task claim",
    "huddle task done",
    "huddle run",
)

# `huddle WORD` (and `huddle task STEP`) as a command, not the word in a sentence: inside code.
INVOCATION = re.compile(r"(?:^|[\s(;|&])huddle[ \t]+([a-z][\w-]*)(?:[ \t]+([a-z][\w-]*))?")


def _text() -> str:
    return SKILL.read_text(encoding="utf-8")


def _frontmatter(text: str) -> tuple[dict[str, str], str]:
    assert text.startswith("---\n"), "SKILL.md must open with a frontmatter block"
    head, sep, body = text[4:].partition("\n---\n")
    assert sep, "the frontmatter block is not closed"
    fields = {}
    for line in head.splitlines():
        key, colon, value = line.partition(":")
        assert colon and key.strip(), f"not a 'key: value' line: {line!r}"
        fields[key.strip()] = value.strip()
    return fields, body


def _code(text: str) -> list[str]:
    """The fenced blocks' lines and the inline code spans of a Markdown text."""
    pieces: list[str] = []
    outside: list[str] = []
    fenced = False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif fenced:
            pieces.append(line)
        else:
            outside.append(line)
    # An inline span may wrap onto the next line of its paragraph: read it as one line.
    spans = re.findall(r"`([^`]+)`", "\n".join(outside))
    pieces += [" ".join(span.split()) for span in spans if "\n\n" not in span]
    return pieces


def _verbs() -> dict[str, argparse.ArgumentParser]:
    found = [a for a in parser()._actions if isinstance(a, argparse._SubParsersAction)]
    assert len(found) == 1
    return dict(found[0].choices)


def _steps(verbs: dict[str, argparse.ArgumentParser]) -> set[str]:
    found = [a for a in verbs["task"]._actions if isinstance(a, argparse._SubParsersAction)]
    assert len(found) == 1
    return set(found[0].choices)


def test_frontmatter_names_the_skill_and_says_when_to_use_it():
    fields, body = _frontmatter(_text())
    assert fields.get("name") == "huddle"
    description = fields.get("description", "")
    # A plain YAML scalar: no quoting needed, nothing that would end or split it.
    assert description and description[0] not in "'\"[{>|&*!%@`#"
    assert ": " not in description and " #" not in description
    for words in ("Claude Code sessions", "worktree", "compaction", "message", "locked"):
        assert words in description, words
    assert body.strip()


def test_the_skill_stays_short():
    assert len(_text().splitlines()) <= 120


@pytest.mark.parametrize("command", REQUIRED)
def test_the_skill_teaches_the_command(command):
    code = _code(_text())
    assert any(re.search(rf"(?:^|\s){re.escape(command)}(?:\s|$)", c) for c in code), command


def test_every_huddle_command_in_the_skill_is_a_real_one():
    verbs = _verbs()
    steps = _steps(verbs)
    mentioned = [m for piece in _code(_text()) for m in INVOCATION.findall(piece)]
    assert mentioned, "no `huddle ...` command found in the skill"
    unknown = sorted({verb for verb, _ in mentioned if verb not in verbs})
    assert not unknown, f"not huddle subcommands: {unknown}"
    unknown = sorted({step for verb, step in mentioned if verb == "task" and step not in steps})
    assert not unknown, f"not `huddle task` steps: {unknown}"


def test_every_command_line_in_the_skill_parses(capsys):
    """Each code span that is a whole `huddle ...` command line is accepted as written."""
    lines = [c.strip() for c in _code(_text()) if re.match(r"huddle[ \t]+[a-z]", c.strip())]
    assert lines
    rejected = []
    for line in lines:
        try:
            parser().parse_args(shlex.split(line)[1:])
        except SystemExit:
            rejected.append(line)
    capsys.readouterr()
    assert not rejected, f"the CLI rejects these command lines: {rejected}"
