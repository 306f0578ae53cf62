"""Fixtures of the store's unit tests."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The usual umask, 022, so that a folder made without an explicit mode is 0o755."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)
