"""store/senders.py: what each sender sent lately, against floods and repeats,
`senders/<sender key>.json`, every change under `senders/.lock`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from huddle.store import senders
from huddle.store.layout import GUARD
from tests.helpers import new_session_id
from tests.store.racing import alternate, race

NOW = 1_700_000_000.0
WINDOW = 600.0
KEY = new_session_id()


def send(state: Path, fingerprint: str, now: float, *, limit: int = 20, key: str = KEY) -> None:
    senders.check(str(state), key, fingerprint, now, limit=limit, window=WINDOW)


def stored(state: Path, key: str = KEY) -> Any:
    return json.loads((state / "senders" / f"{key}.json").read_text())


def test_a_send_is_remembered(tmp_path: Path) -> None:
    send(tmp_path, "f1", NOW)
    send(tmp_path, "f2", NOW + 1)
    assert stored(tmp_path) == {"recent": [[NOW, "f1"], [NOW + 1, "f2"]]}
    names = sorted(p.name for p in (tmp_path / "senders").iterdir())
    assert names == sorted([GUARD, f"{KEY}.json"])
    assert (tmp_path / "senders").stat().st_mode & 0o777 == 0o700


def test_a_repeat_within_the_window_is_dropped(tmp_path: Path) -> None:
    send(tmp_path, "same", NOW)
    with pytest.raises(senders.Repeated) as caught:
        send(tmp_path, "same", NOW + 42)
    assert caught.value.ago == 42
    assert stored(tmp_path) == {"recent": [[NOW, "same"]]}  # the dropped one is not remembered
    send(tmp_path, "other", NOW + 43)
    with pytest.raises(senders.Repeated):
        send(tmp_path, "same", NOW + WINDOW - 1)
    send(tmp_path, "same", NOW + WINDOW)  # the window is over
    assert stored(tmp_path)["recent"] == [[NOW + 43, "other"], [NOW + WINDOW, "same"]]


def test_a_flood_is_refused(tmp_path: Path) -> None:
    for n in range(5):
        send(tmp_path, f"f{n}", NOW + n, limit=5)
    with pytest.raises(senders.Throttled):
        send(tmp_path, "f5", NOW + 10, limit=5)
    assert len(stored(tmp_path)["recent"]) == 5  # a refused send is not counted
    with pytest.raises(senders.Throttled):
        send(tmp_path, "f5", NOW + 59.9, limit=5)
    send(tmp_path, "f5", NOW + 60, limit=5)  # the first send is a minute old now
    with pytest.raises(senders.Throttled):
        send(tmp_path, "f6", NOW + 60.5, limit=5)
    send(tmp_path, "f6", NOW + 61, limit=5)


def test_senders_are_counted_apart(tmp_path: Path) -> None:
    other = "user-alice"
    send(tmp_path, "f", NOW, limit=1)
    send(tmp_path, "f", NOW, limit=1, key=other)
    with pytest.raises(senders.Throttled):
        send(tmp_path, "g", NOW, limit=1)
    assert stored(tmp_path, other) == {"recent": [[NOW, "f"]]}


def test_old_sends_are_forgotten_and_at_most_kept_are_kept(tmp_path: Path) -> None:
    for n in range(senders.KEPT + 5):
        send(tmp_path, f"f{n}", NOW + n * 0.001, limit=10**6)
    recent = stored(tmp_path)["recent"]
    assert len(recent) == senders.KEPT
    assert recent[0][1] == "f5" and recent[-1][1] == f"f{senders.KEPT + 4}"
    send(tmp_path, "late", NOW + WINDOW + 10)
    assert stored(tmp_path) == {"recent": [[NOW + WINDOW + 10, "late"]]}


@pytest.mark.parametrize(
    "content",
    [
        "",
        "{",
        "[]",
        '{"recent": 5}',
        '{"recent": "x"}',
        '{"recent": [5, [1], [1, 2, 3], ["t", "f"], null]}',
    ],
)
def test_a_corrupt_record_counts_as_empty(tmp_path: Path, content: str) -> None:
    (tmp_path / "senders").mkdir()
    (tmp_path / "senders" / f"{KEY}.json").write_text(content)
    send(tmp_path, "f", NOW, limit=1)
    assert stored(tmp_path) == {"recent": [[NOW, "f"]]}


def test_misshapen_entries_are_dropped_and_good_ones_kept(tmp_path: Path) -> None:
    (tmp_path / "senders").mkdir()
    recent = [[NOW - 5, "kept"], ["soon", "x"], [NOW - 1], [NOW - 2, "y", "z"], 7]
    (tmp_path / "senders" / f"{KEY}.json").write_text(json.dumps({"recent": recent}))
    with pytest.raises(senders.Repeated):
        send(tmp_path, "kept", NOW)
    send(tmp_path, "new", NOW)
    assert stored(tmp_path) == {"recent": [[NOW - 5, "kept"], [NOW, "new"]]}


@pytest.mark.parametrize(
    "key", ["", "../x", "a/b", ".", "..", "x" * 65, "a b", "a.json", "ü", "user-josé"]
)
def test_a_bad_key_never_becomes_a_path(tmp_path: Path, key: str) -> None:
    with pytest.raises(ValueError):
        send(tmp_path, "f", NOW, key=key)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("key", ["a", "x" * 64, "user-", "user-bob42", new_session_id().upper()])
def test_good_keys(tmp_path: Path, key: str) -> None:
    send(tmp_path, "f", NOW, key=key)
    assert stored(tmp_path, key) == {"recent": [[NOW, "f"]]}


# --- racing processes ---------------------------------------------------------------------------

RACERS = 8
SENDS = 25
SETUP = """
import json, sys
from huddle.store import senders
state, key, who, limit = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
"""
WORK = """
outcomes = []
for n in range(int(sys.argv[5])):
    try:
        senders.check(state, key, f"{who}-{n}", 1000.0 + n * 0.01, limit=limit, window=600.0)
    except senders.Throttled:
        outcomes.append("throttled")
    else:
        outcomes.append("sent")
print(json.dumps(outcomes))
"""


def test_racing_senders_are_all_counted(tmp_path: Path) -> None:
    argvs = [[str(tmp_path), KEY, str(i), str(10**6), str(SENDS)] for i in range(RACERS)]
    results = race(SETUP, WORK, argvs, hook_like=alternate(RACERS))
    assert results == [["sent"] * SENDS] * RACERS
    fingerprints = [fp for _, fp in stored(tmp_path)["recent"]]
    assert sorted(fingerprints) == sorted(f"{i}-{n}" for i in range(RACERS) for n in range(SENDS))


def test_racing_senders_get_exactly_the_limit(tmp_path: Path) -> None:
    limit = 13
    argvs = [[str(tmp_path), KEY, str(i), str(limit), "3"] for i in range(RACERS)]
    results = race(SETUP, WORK, argvs, hook_like=alternate(RACERS))
    outcomes = [outcome for result in results for outcome in result]
    assert outcomes.count("sent") == limit
    assert outcomes.count("throttled") == 3 * RACERS - limit
    assert len(stored(tmp_path)["recent"]) == limit
