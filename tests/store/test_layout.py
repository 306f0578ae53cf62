"""store/layout.py: the map of the state directory, and `encode`, which makes a file's
worktree-relative path into one file name there."""

from __future__ import annotations

import hashlib
import os
import random
import re
from pathlib import Path

import pytest

from huddle.store import layout
from huddle.store.layout import encode
from tests.helpers import new_session_id

LIMIT = 200  # bytes of an encoded name before it is hashed instead

KEYS = [
    "a.py",
    "src/app.py",
    "src/deep/er/file.txt",
    "a%2Fb",
    "100%",
    "%",
    "%%2F/%25",
    ".env",
    ".git/config",
    "..",
    ".",
    "...",
    "./x",
    "../x",
    "/etc/passwd",
    "a/",
    "//",
    "~x",
    "space in name.md",
    "ünïcode/日本語.txt",
    "tab\there",
    "back\\slash",
    "%2E.hidden",
]


def decode(name: str) -> str:
    """The inverse of `encode` for names that were not hashed."""
    return re.sub(r"%(25|2F|2E)", lambda m: {"25": "%", "2F": "/", "2E": "."}[m[1]], name)


def random_keys(count: int) -> list[str]:
    rng = random.Random(20240611)
    alphabet = "ab./%2FE5~-_ ü日"
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 30))) for _ in range(count)]


@pytest.mark.parametrize("key", KEYS)
def test_encode_is_reversible_never_hidden_and_never_a_path(key: str) -> None:
    name = encode(key)
    assert decode(name) == key
    assert "/" not in name
    assert not name.startswith(".")
    assert name not in ("", ".", "..")
    assert os.path.basename(name) == name


def test_encode_exact_names() -> None:
    assert encode("src/app.py") == "src%2Fapp.py"
    assert encode("100%") == "100%25"
    assert encode(".env") == "%2Eenv"
    assert encode("..") == "%2E."
    assert encode("a/.b") == "a%2F.b"  # only a leading dot could hide the name
    assert encode("%2F") == "%252F"  # an escape in the key is itself escaped


def test_encode_is_reversible_and_one_to_one_on_many_keys() -> None:
    keys = set(random_keys(5000)) | set(KEYS)
    names = {}
    for key in keys:
        name = encode(key)
        assert "/" not in name and not name.startswith(".")
        assert decode(name) == key
        names[name] = key
    assert len(names) == len(keys)  # no two keys share a file name


def test_every_encoded_name_can_be_a_file(tmp_path: Path) -> None:
    longest_plain = "é" * (LIMIT // 2)  # exactly LIMIT bytes: not hashed
    for key in [*KEYS, longest_plain, "x" * 1000]:
        name = encode(key)
        # The longest use: a warning marker, `<encoded file>.<peer session id>`.
        path = tmp_path / f"{name}.{new_session_id()}"
        path.write_text("")
        assert path.parent == tmp_path
    assert len(list(tmp_path.iterdir())) == len(KEYS) + 2


def test_long_keys_are_hashed() -> None:
    key = "d/" * 150 + "file.py"
    name = encode(key)
    assert name == "~" + hashlib.sha256(key.encode("utf-8")).hexdigest()
    assert encode(key) == name  # stable: the same file finds the same name
    assert encode(key + "x") != name
    assert len(name) == 65


def test_the_hashing_limit_is_counted_in_encoded_bytes() -> None:
    assert encode("a" * LIMIT) == "a" * LIMIT
    assert encode("a" * (LIMIT + 1)).startswith("~")
    assert encode("é" * (LIMIT // 2)) == "é" * (LIMIT // 2)  # 200 bytes, 100 characters
    assert encode("é" * (LIMIT // 2) + "a").startswith("~")
    # Escaping makes the name longer: 198 characters with one '/' encode to exactly 200 bytes.
    assert encode("a" * 197 + "/") == "a" * 197 + "%2F"
    assert encode("a" * 198 + "/").startswith("~")


def test_distinct_long_keys_get_distinct_names() -> None:
    keys = [f"{'x' * 250}{n}" for n in range(200)]
    assert len({encode(k) for k in keys}) == len(keys)


# --- the map ----------------------------------------------------------------------------------


def map_lines() -> list[tuple[str, str]]:
    """(path, what it is) for each indented line of the docstring's map."""
    doc = layout.__doc__ or ""
    lines = [line.strip() for line in doc.splitlines() if line.startswith("    ")]
    return [tuple(re.split(r"\s{2,}", line, maxsplit=1)) for line in lines]  # type: ignore[misc]


def map_entries() -> list[str]:
    return [path for path, _ in map_lines()]


def map_components() -> set[str]:
    """Every name in the map's paths, and in paths its descriptions mention."""
    paths = map_entries() + [w for _, what in map_lines() for w in what.split() if "/" in w]
    return {part for path in paths for part in path.split("/") if part}


def named_constants() -> dict[str, str]:
    return {
        name: value
        for name, value in vars(layout).items()
        if name.isupper()
        and isinstance(value, str)
        and name not in ("STATE_PREFIX", "ENABLED_MARK")
    }


def test_the_enabled_mark_is_named_outside_the_state_directory() -> None:
    """It lives in the git directory, which git never clones: the docstring says where."""
    assert f"<git common dir>/{layout.ENABLED_MARK}" in (layout.__doc__ or "")
    assert layout.ENABLED_MARK not in map_components()


def test_the_map_lists_the_expected_entries() -> None:
    for line in map_lines():
        assert len(line) == 2 and all(line), line  # a path, then what it is
    entries = map_entries()
    assert entries[0] == layout.MARKER
    assert ".<session id>.lock" in entries
    assert f"{layout.LEASES}/<file>/<session>.json" in entries
    assert "<session id>" + layout.HEARTBEAT_SUFFIX in entries


@pytest.mark.parametrize("constant", sorted(named_constants()))
def test_the_map_names_every_constant(constant: str) -> None:
    value = named_constants()[constant]
    components = map_components()
    if value.startswith("."):  # a suffix, or a hidden file named by what it belongs to
        assert any(part.endswith(value) for part in components), value
    else:
        assert value in components, value


def test_the_map_names_the_state_directory() -> None:
    assert f"<main worktree>/{'/'.join(layout.STATE_SUBDIR)}/" in (layout.__doc__ or "")
    assert layout.STATE_PREFIX == ".claude/sessions/"


def test_every_top_level_entry_is_a_constant() -> None:
    values = set(named_constants().values())
    for entry in map_entries():
        top = entry.split("/")[0]
        if "<session id>" in top:  # the heartbeat and its lock: named by the session
            continue
        if top.startswith("{"):  # {a,b}/x: the same entry in several folders
            assert set(top.strip("{}").split(",")) <= values, entry
            continue
        assert top in values, entry


def test_per_session_folders_are_named_by_the_session_in_the_map() -> None:
    entries = map_entries()
    for folder in layout.PER_SESSION:
        assert any(e.startswith(f"{folder}/<session>/") for e in entries), folder


def test_constants_are_single_names() -> None:
    for name, value in named_constants().items():
        assert value and "/" not in value, name
        assert value not in (".", ".."), name
    folders = [layout.NAMES, layout.LEASES, layout.LOCKS, layout.TASKS, layout.MAIL]
    folders += [layout.HISTORY, layout.SENDERS, layout.WARNED, layout.TURNS, layout.RAN]
    assert len(set(folders)) == len(folders)
    assert not any(f.startswith(".") for f in folders)
    assert layout.GUARD.startswith(".")  # never mistaken for a name, a task or a lock
    assert (layout.FOLDER_MODE, layout.FILE_MODE) == (0o700, 0o600)
