"""Errors the CLI reports as one actionable line (exit 1), rather than as a crash."""

from __future__ import annotations


class UserError(Exception):
    """Something the user can fix; the message says how."""
