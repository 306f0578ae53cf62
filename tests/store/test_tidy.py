"""store/tidy.py: the one way old entries leave a folder, by mtime, never following symlinks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from huddle.store import atomic, tidy

NOW = 1_700_000_000.0
HOUR = 3600.0


def aged(path: Path, seconds_ago: float) -> Path:
    """Set the mtime of `path` itself (a symlink's own, never its target's)."""
    stamp = NOW - seconds_ago
    os.utime(path, (stamp, stamp), follow_symlinks=False)
    return path


def make(folder: Path, name: str, seconds_ago: float, text: str = "x") -> Path:
    path = folder / name
    path.write_text(text)
    return aged(path, seconds_ago)


def names(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def test_remove_older_than_removes_exactly_the_old_files(tmp_path: Path) -> None:
    make(tmp_path, "old", 2 * HOUR)
    make(tmp_path, "older", 100 * HOUR)
    make(tmp_path, "fresh", 10)
    make(tmp_path, "just-at-the-limit", HOUR)
    make(tmp_path, "future", -HOUR)
    assert tidy.remove_older_than(tmp_path, NOW, HOUR) == 2
    assert names(tmp_path) == ["fresh", "future", "just-at-the-limit"]
    assert tidy.remove_older_than(tmp_path, NOW, HOUR) == 0


def test_remove_older_than_takes_a_str_folder(tmp_path: Path) -> None:
    make(tmp_path, "old", 2 * HOUR)
    assert tidy.remove_older_than(str(tmp_path), NOW, HOUR) == 1
    assert names(tmp_path) == []


def test_remove_older_than_never_removes_directories(tmp_path: Path) -> None:
    empty = tmp_path / "empty-old-dir"
    empty.mkdir()
    aged(empty, 100 * HOUR)
    full = tmp_path / "full-old-dir"
    full.mkdir()
    make(full, "inside-old", 100 * HOUR)
    aged(full, 100 * HOUR)
    assert tidy.remove_older_than(tmp_path, NOW, HOUR) == 0
    assert names(tmp_path) == ["empty-old-dir", "full-old-dir"]
    assert names(full) == ["inside-old"]  # nor what is in them: no recursion


def test_an_old_symlink_is_removed_as_a_link_and_its_target_kept(tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    target = make(tmp_path, "target", 0)
    target_dir = tmp_path / "target-dir"
    target_dir.mkdir()
    make(target_dir, "precious", 100 * HOUR)
    aged_link = folder / "old-link"
    aged_link.symlink_to(target)
    aged(aged_link, 100 * HOUR)
    dir_link = folder / "old-dir-link"
    dir_link.symlink_to(target_dir, target_is_directory=True)
    aged(dir_link, 100 * HOUR)
    dangling = folder / "dangling"
    dangling.symlink_to(tmp_path / "nothing-here")
    aged(dangling, 100 * HOUR)
    assert tidy.remove_older_than(folder, NOW, HOUR) == 3
    assert names(folder) == []
    assert target.read_text() == "x"
    assert names(target_dir) == ["precious"]


def test_a_fresh_symlink_to_an_old_file_is_kept_and_so_is_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    target = make(tmp_path, "old-target", 100 * HOUR)
    link = folder / "fresh-link"
    link.symlink_to(target)
    aged(link, 0)
    assert tidy.remove_older_than(folder, NOW, HOUR) == 0
    assert link.is_symlink() and target.exists()


def test_wanted_chooses_which_names_may_go(tmp_path: Path) -> None:
    make(tmp_path, "a.tmp", 2 * HOUR)
    make(tmp_path, "b.json", 2 * HOUR)
    make(tmp_path, "c.tmp", 10)
    seen: list[str] = []

    def wanted(name: str) -> bool:
        seen.append(name)
        return name.endswith(".tmp")

    assert tidy.remove_older_than(tmp_path, NOW, HOUR, wanted) == 1
    assert names(tmp_path) == ["b.json", "c.tmp"]
    assert sorted(seen) == ["a.tmp", "b.json", "c.tmp"]


def test_a_missing_folder_holds_nothing(tmp_path: Path) -> None:
    assert tidy.remove_older_than(tmp_path / "missing", NOW, HOUR) == 0
    not_a_folder = make(tmp_path, "file", 100 * HOUR)
    assert tidy.remove_older_than(not_a_folder, NOW, HOUR) == 0
    assert not_a_folder.exists()


def test_an_entry_gone_meanwhile_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ["a", "b", "c"]:
        make(tmp_path, name, 2 * HOUR)
    real_unlink = os.unlink

    def racing_unlink(path: str | os.PathLike[str]) -> None:
        if os.path.basename(path) == "b":
            real_unlink(path)  # another sweep got there first
        real_unlink(path)

    monkeypatch.setattr(tidy.os, "unlink", racing_unlink)
    assert tidy.remove_older_than(tmp_path, NOW, HOUR) == 2
    assert names(tmp_path) == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (".r.json.123.0.tmp", True),
        (".huddle.json.1.2.tmp", True),
        (".x.tmp", True),
        ("r.json.123.0.tmp", False),  # not hidden
        (".r.json", False),
        (".lock", False),
        (".0b9f3c1e-1111-4a4a-8b8b-123456789abc.lock", False),
        ("", False),
        (".tmp", True),
    ],
)
def test_is_temp_name(name: str, expected: bool) -> None:
    assert tidy.is_temp_name(name) is expected


def test_is_temp_name_knows_the_names_atomic_gives(tmp_path: Path) -> None:
    fd, path = atomic._temp_beside(str(tmp_path / "record.json"))
    os.close(fd)
    assert tidy.is_temp_name(os.path.basename(path))
    aged(Path(path), 2 * HOUR)
    assert tidy.remove_temp_files(tmp_path, older_than=HOUR, now=NOW) == 1


def test_remove_temp_files_removes_only_old_temp_files(tmp_path: Path) -> None:
    make(tmp_path, ".r.json.99.0.tmp", 2 * HOUR)
    make(tmp_path, ".r.json.99.1.tmp", 10)
    make(tmp_path, "r.json", 100 * HOUR)
    make(tmp_path, ".lock", 100 * HOUR)
    make(tmp_path, "old.tmp", 100 * HOUR)
    (tmp_path / ".dir.tmp").mkdir()
    aged(tmp_path / ".dir.tmp", 100 * HOUR)
    assert tidy.remove_temp_files(tmp_path, older_than=HOUR, now=NOW) == 1
    assert names(tmp_path) == [".dir.tmp", ".lock", ".r.json.99.1.tmp", "old.tmp", "r.json"]
