"""store/ids.py: only a UUID in its 8-4-4-4-12 form is a session id."""

from __future__ import annotations

import random
import re
import uuid

import pytest

from huddle.store.ids import is_session_id

# The definition the hand-written check must agree with.
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def test_real_ids_in_either_case() -> None:
    for _ in range(100):
        made = str(uuid.uuid4())
        assert is_session_id(made) and is_session_id(made.upper())


@pytest.mark.parametrize(
    "value",
    [
        "",
        None,
        5,
        b"00000000-0000-0000-0000-000000000000",
        "../../x",
        "00000000-0000-0000-0000-000000000000\n",
        "00000000-0000-0000-0000-00000000000",
        "00000000_0000-0000-0000-000000000000",
        "0000000g-0000-0000-0000-000000000000",
        "٠٠٠٠٠٠٠٠-0000-0000-0000-000000000000",  # digits, but not ASCII ones
        "00000000-0000-0000-0000-000000000000/..",
        "uuid/../00000000-0000-0000-0000-0000",
    ],
)
def test_anything_else_is_not(value: object) -> None:
    assert not is_session_id(value)


def test_it_agrees_with_the_regular_expression_on_mangled_ids() -> None:
    chance = random.Random(7)
    alphabet = "0123456789abcdefABCDEF-gxZ/.\n\0 é٣"
    for _ in range(20_000):
        chars = list(str(uuid.UUID(int=chance.getrandbits(128))))
        for _ in range(chance.randint(0, 3)):
            where = chance.randrange(len(chars) + 1)
            move = chance.random()
            if move < 0.5 and where < len(chars):
                chars[where] = chance.choice(alphabet)
            elif move < 0.75:
                chars.insert(where, chance.choice(alphabet))
            elif where < len(chars):
                del chars[where]
        value = "".join(chars)
        assert is_session_id(value) == (UUID.fullmatch(value) is not None), repr(value)
