"""What a check before a tool call decides: let it go ahead with a warning, or deny it."""

from __future__ import annotations


class Verdict:
    __slots__ = ("deny", "text")

    def __init__(self, deny: bool, text: str) -> None:
        self.deny = deny  # True: the tool call is refused, and `text` says why
        self.text = text  # what the model is shown
