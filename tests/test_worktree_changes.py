"""worktree_changes: snapshots of a worktree's changed files, from real git repositories."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from huddle.edits import worktree_changes as wc
from huddle.store import turns
from tests.helpers import add_worktree, git, make_repo, new_session_id

BASE_NS = 1_600_000_000 * 10**9


def set_mtime(path: Path, ns: int) -> None:
    os.utime(path, ns=(ns, ns))


def sed_i(path: Path, old: str, new: str) -> None:
    """What `sed -i` does: write a new file beside the old one and rename it over."""
    tmp = path.with_name(f".{path.name}.sedtmp")
    tmp.write_text(path.read_text().replace(old, new))
    os.replace(tmp, path)


def snap(path: Path) -> dict[str, list[int]]:
    got = wc.snapshot(str(path))
    assert got is not None
    return got


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = make_repo(tmp_path / "repo")
    (root / "src").mkdir()
    (root / "src" / "app.py").write_text("x = 1\n")
    (root / "src" / "util.py").write_text("y = 2\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "src")
    return root


def test_clean_worktree_is_empty(repo: Path) -> None:
    assert snap(repo) == {}


def test_in_place_edit_of_a_tracked_file(repo: Path) -> None:
    before = snap(repo)
    sed_i(repo / "src" / "app.py", "1", "2")
    after = snap(repo)
    st = os.lstat(repo / "src" / "app.py")
    assert after == {"src/app.py": [st.st_mtime_ns, st.st_size]}
    assert wc.changed_between(before, after) == ["src/app.py"]


def test_second_edit_of_a_dirty_file_by_mtime(repo: Path) -> None:
    target = repo / "src" / "app.py"
    target.write_text("x = 2\n")
    set_mtime(target, BASE_NS)
    before = snap(repo)
    target.write_text("x = 3\n")  # same size: only the mtime tells
    set_mtime(target, BASE_NS + 1_000)
    after = snap(repo)
    assert before["src/app.py"][1] == after["src/app.py"][1]
    assert wc.changed_between(before, after) == ["src/app.py"]


def test_second_edit_of_a_dirty_file_by_size(repo: Path) -> None:
    target = repo / "src" / "app.py"
    target.write_text("x = 2\n")
    set_mtime(target, BASE_NS)
    before = snap(repo)
    target.write_text("x = 22\n")
    set_mtime(target, BASE_NS)  # same mtime: only the size tells
    after = snap(repo)
    assert wc.changed_between(before, after) == ["src/app.py"]


def test_untouched_dirty_file_is_not_reported(repo: Path) -> None:
    (repo / "src" / "app.py").write_text("x = 2\n")
    before = snap(repo)
    (repo / "src" / "util.py").write_text("y = 3\n")
    after = snap(repo)
    assert sorted(after) == ["src/app.py", "src/util.py"]
    assert wc.changed_between(before, after) == ["src/util.py"]


def test_new_untracked_file_in_a_new_directory(repo: Path) -> None:
    before = snap(repo)
    (repo / "gen" / "deep").mkdir(parents=True)
    (repo / "gen" / "deep" / "out.py").write_text("generated\n")
    after = snap(repo)
    assert list(after) == ["gen/deep/out.py"]  # the file, not the directory
    assert wc.changed_between(before, after) == ["gen/deep/out.py"]


def test_staged_new_file(repo: Path) -> None:
    (repo / "new.txt").write_text("n\n")
    git(repo, "add", "new.txt")
    assert list(snap(repo)) == ["new.txt"]


def test_deleted_file(repo: Path) -> None:
    before = snap(repo)
    (repo / "src" / "util.py").unlink()
    after = snap(repo)
    assert after == {"src/util.py": [0, -1]}
    assert wc.changed_between(before, after) == ["src/util.py"]


def test_staged_deletion(repo: Path) -> None:
    git(repo, "rm", "-q", "src/util.py")
    assert snap(repo) == {"src/util.py": [0, -1]}


def test_rename_shows_both_paths(repo: Path) -> None:
    git(repo, "mv", "src/util.py", "src/tools.py")
    got = snap(repo)
    assert sorted(got) == ["src/tools.py", "src/util.py"]
    assert got["src/util.py"] == [0, -1]


def test_rename_despite_status_renames_config(repo: Path) -> None:
    git(repo, "config", "status.renames", "copies")
    git(repo, "mv", "src/util.py", "src/tools.py")
    assert sorted(snap(repo)) == ["src/tools.py", "src/util.py"]


def test_reverted_file_disappears_and_is_reported(repo: Path) -> None:
    (repo / "src" / "app.py").write_text("x = 2\n")
    before = snap(repo)
    git(repo, "checkout", "--", "src/app.py")
    after = snap(repo)
    assert after == {}
    assert wc.changed_between(before, after) == ["src/app.py"]


def test_change_in_another_worktree_is_not_seen(repo: Path, tmp_path: Path) -> None:
    other = add_worktree(repo, tmp_path / "other", "feature")
    before_here, before_there = snap(repo), snap(other)
    (other / "src" / "app.py").write_text("x = 99\n")
    (other / "extra.txt").write_text("e\n")
    assert snap(repo) == before_here == {}
    assert sorted(snap(other)) == ["extra.txt", "src/app.py"]
    assert wc.changed_between(before_there, snap(other)) == ["extra.txt", "src/app.py"]
    (repo / "src" / "util.py").write_text("y = 0\n")
    assert list(snap(repo)) == ["src/util.py"]
    assert sorted(snap(other)) == ["extra.txt", "src/app.py"]


def test_ignored_files_are_not_reported(repo: Path) -> None:
    (repo / ".gitignore").write_text("build/\n*.log\n")
    git(repo, "add", ".gitignore")
    git(repo, "commit", "-q", "-m", "ignore")
    (repo / "build").mkdir()
    (repo / "build" / "out.o").write_text("o")
    (repo / "debug.log").write_text("l")
    (repo / "kept.txt").write_text("k")
    assert list(snap(repo)) == ["kept.txt"]


ODD_NAMES = [
    "with space.txt",
    'double"quote.txt',
    "single'quote.txt",
    "new\nline.txt",
    "tab\there.txt",
    "ünïcødé-名前.txt",
    "-leading-dash.txt",
    "back\\slash.txt",
    "dir with space/inner file.txt",
]


@pytest.mark.parametrize("tracked", [False, True], ids=["untracked", "tracked"])
def test_odd_names_round_trip(repo: Path, tmp_path: Path, tracked: bool) -> None:
    for name in ODD_NAMES:
        target = repo / name
        target.parent.mkdir(exist_ok=True)
        target.write_text("a\n")
    if tracked:
        git(repo, "add", "--", *ODD_NAMES)
        git(repo, "commit", "-q", "-m", "odd")
        for name in ODD_NAMES:
            (repo / name).write_text("changed\n")
    got = snap(repo)
    assert sorted(got) == sorted(ODD_NAMES)
    for name in ODD_NAMES:
        st = os.lstat(repo / name)
        assert got[name] == [st.st_mtime_ns, st.st_size]
    sid = new_session_id()
    turns.save(str(tmp_path), sid, got)
    assert turns.load(str(tmp_path), sid) == got


@pytest.mark.skipif(sys.platform == "darwin", reason="APFS refuses names that are not UTF-8")
def test_name_that_is_not_utf8(repo: Path, tmp_path: Path) -> None:
    raw = os.path.join(os.fsencode(repo), b"caf\xe9.txt")
    with open(raw, "wb") as handle:
        handle.write(b"x")
    got = snap(repo)
    assert list(got) == ["caf\\xe9.txt"]
    assert got["caf\\xe9.txt"][1] == 1  # lstat found the real file
    sid = new_session_id()
    turns.save(str(tmp_path), sid, got)
    assert turns.load(str(tmp_path), sid) == got


def test_symlink_is_its_own_entry(repo: Path) -> None:
    (repo / "link").symlink_to("does-not-exist")
    got = snap(repo)
    assert got["link"][1] == len("does-not-exist")  # lstat, not the (missing) target


def test_repository_without_commits(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "fresh", commit=False)
    assert snap(root) == {}
    (root / "a.txt").write_text("a\n")
    (root / "b.txt").write_text("b\n")
    git(root, "add", "b.txt")
    got = snap(root)
    assert sorted(got) == ["a.txt", "b.txt"]
    assert wc.changed_between({}, got) == ["a.txt", "b.txt"]


def test_git_missing_from_path(repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert wc.snapshot(str(repo)) is None


def test_not_a_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))  # in case /tmp is in a repo
    assert wc.snapshot(str(plain)) is None


def test_missing_directory(tmp_path: Path) -> None:
    assert wc.snapshot(str(tmp_path / "nowhere")) is None


def fake_git(tmp_path: Path, body: str) -> Path:
    folder = tmp_path / "fake-bin"
    folder.mkdir()
    script = folder / "git"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return folder


def test_git_failure_is_none(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(fake_git(tmp_path, "printf ' M a\\0'; exit 1")))
    assert wc.snapshot(str(repo)) is None


def test_timeout_kills_git_and_its_children(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A grandchild that keeps stdout open would hang a plain subprocess.run(timeout=...).
    folder = fake_git(tmp_path, f"sleep 30 &\necho $! > {tmp_path}/child\nsleep 30")
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    started = time.monotonic()
    assert wc.snapshot(str(repo), timeout=0.5) is None
    assert time.monotonic() - started < 5
    child = int((tmp_path / "child").read_text())
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not _alive(child)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(") ")[-1][:1] != "Z"
    except FileNotFoundError:
        return False


def test_git_environment_pointing_elsewhere_is_ignored(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = make_repo(tmp_path / "other")
    (other / "only-there.txt").write_text("x")
    (repo / "only-here.txt").write_text("x")
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(other))
    monkeypatch.setenv("GIT_INDEX_FILE", str(tmp_path / "elsewhere.index"))
    assert list(snap(repo)) == ["only-here.txt"]


def test_cap_on_entries(repo: Path) -> None:
    (repo / "many").mkdir()
    for n in range(30):
        (repo / "many" / f"f{n:02}.txt").write_text("x")
    (repo / "src" / "app.py").write_text("x = 2\n")
    got = wc.snapshot(str(repo), limit=10)
    assert got is not None and len(got) == 10
    assert "src/app.py" in got  # tracked changes come before untracked files
    assert len(snap(repo)) == 31
    assert wc.MAX_ENTRIES == 5000


def test_snapshot_takes_no_lock_and_leaves_the_index_alone(repo: Path) -> None:
    index = repo / ".git" / "index"
    (repo / "src" / "app.py").write_text("x = 2\n")
    (repo / "untracked.txt").write_text("u\n")
    # Make the index stale-looking on purpose: a plain `git status` would refresh and rewrite it.
    set_mtime(repo / "src" / "util.py", BASE_NS)
    set_mtime(index, BASE_NS)
    index_before = index.read_bytes()
    for _ in range(3):
        snap(repo)
        assert not (repo / ".git" / "index.lock").exists()
    assert os.stat(index).st_mtime_ns == BASE_NS
    assert index.read_bytes() == index_before


def test_snapshot_works_while_index_is_locked(repo: Path) -> None:
    (repo / ".git" / "index.lock").write_text("")  # as if the user's git were mid-command
    (repo / "src" / "app.py").write_text("x = 2\n")
    assert list(snap(repo)) == ["src/app.py"]
    assert (repo / ".git" / "index.lock").read_text() == ""


def test_changed_between_without_a_baseline() -> None:
    after = {"a": [1, 2]}
    assert wc.changed_between(None, after) == []
    assert wc.changed_between(after, None) == []
    assert wc.changed_between(None, None) == []


def test_changed_between_is_sorted_and_complete() -> None:
    before = {"same": [1, 1], "gone": [1, 1], "touched": [1, 1], "grew": [1, 1]}
    after = {"same": [1, 1], "touched": [2, 1], "grew": [1, 2], "b-new": [3, 3], "a-del": [0, -1]}
    assert wc.changed_between(before, after) == ["a-del", "b-new", "gone", "grew", "touched"]
    assert wc.changed_between(after, after) == []


def test_module_import_is_cheap() -> None:
    code = (
        "import json, sys; import huddle.edits.worktree_changes; "
        "bad = {'subprocess', 'pathlib', 'dataclasses', 'typing'} & set(sys.modules); "
        "print(json.dumps(sorted(bad)))"
    )
    src = str(Path(__file__).resolve().parents[1] / "src")
    done = subprocess.run(
        [sys.executable, "-S", "-c", code],
        env={**os.environ, "PYTHONPATH": src},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert json.loads(done.stdout) == []
