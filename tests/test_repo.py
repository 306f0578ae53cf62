"""repo: finding the worktree, the main worktree and the state directory from git's own files.

Wherever git itself can answer, locate() is checked against `git rev-parse`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from huddle.repo import gitfiles
from huddle.store import layout
from tests.helpers import add_worktree, git, make_repo


def real(path: Path | str) -> str:
    return os.path.realpath(path)


def git_says(cwd: Path) -> dict[str, str]:
    """What git reports for `cwd`: worktree root, its git dir and the common git dir."""
    out = git(
        cwd,
        "rev-parse",
        "--path-format=absolute",
        "--show-toplevel",
        "--absolute-git-dir",
        "--git-common-dir",
    ).splitlines()
    return {"worktree": real(out[0]), "git_dir": real(out[1]), "common_dir": real(out[2])}


def git_main_worktree(cwd: Path) -> str:
    """The first entry of `git worktree list`, which is the main worktree."""
    first = git(cwd, "worktree", "list", "--porcelain").splitlines()[0]
    assert first.startswith("worktree ")
    return real(first[len("worktree ") :])


def assert_matches_git(loc: gitfiles.Location, cwd: Path) -> None:
    said = git_says(cwd)
    assert real(loc.worktree) == said["worktree"]
    assert real(loc.git_dir) == said["git_dir"]
    assert real(loc.common_dir) == said["common_dir"]


def enable_marker(loc: gitfiles.Location) -> Path:
    """huddle enabled by hand: its mark in the git directory, a private state directory."""
    state = Path(loc.state_dir)
    state.mkdir(parents=True, exist_ok=True)
    state.chmod(0o700)
    (state / layout.MARKER).write_text("{}")
    Path(gitfiles.enabled_mark(loc)).write_text("{}")
    return state


# --- locate -------------------------------------------------------------------------------------


def test_main_checkout(tmp_path):
    main = make_repo(tmp_path / "shop")
    loc = gitfiles.locate(main)
    assert Path(loc.worktree) == main
    assert Path(loc.git_dir) == main / ".git"
    assert Path(loc.common_dir) == main / ".git"
    assert Path(loc.main_worktree) == main
    assert not loc.is_linked
    assert Path(loc.state_dir) == main / ".claude" / "sessions"
    assert_matches_git(loc, main)
    assert real(loc.main_worktree) == git_main_worktree(main)


def test_subdirectory_of_main_checkout(tmp_path):
    main = make_repo(tmp_path / "shop")
    deep = main / "src" / "a" / "b"
    deep.mkdir(parents=True)
    loc = gitfiles.locate(deep)
    assert Path(loc.worktree) == main and Path(loc.main_worktree) == main
    assert_matches_git(loc, deep)


def test_linked_worktree_absolute_gitdir(tmp_path):
    main = make_repo(tmp_path / "shop")
    linked = add_worktree(main, tmp_path / "shop-ui", "ui/fixes")
    text = (linked / ".git").read_text()
    assert text.startswith("gitdir: /")  # what git writes by default
    loc = gitfiles.locate(linked)
    assert Path(loc.worktree) == linked
    assert Path(loc.git_dir) == main / ".git" / "worktrees" / "shop-ui"
    assert Path(loc.common_dir) == main / ".git"
    assert Path(loc.main_worktree) == main
    assert loc.is_linked
    assert Path(loc.state_dir) == main / ".claude" / "sessions"
    assert_matches_git(loc, linked)
    assert real(loc.main_worktree) == git_main_worktree(linked)


def test_linked_worktree_relative_gitdir(tmp_path):
    main = make_repo(tmp_path / "shop")
    linked = add_worktree(main, tmp_path / "nested" / "shop-ui", "ui")
    # What `git worktree add --relative-paths` (git >= 2.48) writes; git reads it on any version.
    target = os.path.relpath(main / ".git" / "worktrees" / "shop-ui", linked)
    (linked / ".git").write_text(f"gitdir: {target}\n")
    sub = linked / "pkg"
    sub.mkdir()
    loc = gitfiles.locate(sub)
    assert Path(loc.worktree) == linked
    assert Path(loc.git_dir) == main / ".git" / "worktrees" / "shop-ui"
    assert Path(loc.main_worktree) == main
    assert_matches_git(loc, sub)


def test_claude_w_worktree_inside_the_main_checkout(tmp_path):
    main = make_repo(tmp_path / "shop")
    inner = add_worktree(main, main / ".claude" / "worktrees" / "x", "worktree-x")
    for cwd in (inner, inner / "deeper"):
        cwd.mkdir(exist_ok=True)
        loc = gitfiles.locate(cwd)
        # The nearest .git wins: the worktree is the inner one, not the checkout around it.
        assert Path(loc.worktree) == inner
        assert Path(loc.main_worktree) == main
        assert loc.is_linked
        assert Path(loc.state_dir) == main / ".claude" / "sessions"
        assert gitfiles.branch(loc) == "worktree-x"
        assert_matches_git(loc, cwd)


def test_every_worktree_finds_the_same_state_dir(tmp_path):
    main = make_repo(tmp_path / "shop")
    a = add_worktree(main, tmp_path / "a", "a")
    b = add_worktree(main, main / ".claude" / "worktrees" / "b", "worktree-b")
    assert {Path(gitfiles.locate(p).state_dir) for p in (main, a, b)} == {
        main / ".claude" / "sessions"
    }


def test_not_a_repository(tmp_path):
    plain = tmp_path / "plain" / "sub"
    plain.mkdir(parents=True)
    with pytest.raises(gitfiles.NotARepository):
        gitfiles.locate(plain)


def test_dot_git_file_that_is_not_a_gitdir_file(tmp_path):
    folder = tmp_path / "odd"
    folder.mkdir()
    (folder / ".git").write_text("something else\n")
    with pytest.raises(gitfiles.NotARepository):
        gitfiles.locate(folder)


def test_worktree_of_a_bare_repository_is_refused(tmp_path):
    source = make_repo(tmp_path / "source")
    bare = tmp_path / "shop.git"
    git(tmp_path, "clone", "-q", "--bare", str(source), str(bare))
    linked = tmp_path / "wt"
    git(bare, "worktree", "add", "-q", "-b", "x", str(linked))
    # git agrees that this worktree's repository has no main worktree: it is bare.
    listing = git(linked, "worktree", "list", "--porcelain").splitlines()
    assert listing[0] == f"worktree {real(bare)}" and "bare" in listing
    with pytest.raises(gitfiles.NotARepository):
        gitfiles.locate(linked)


def test_no_commits_yet_still_names_the_branch(tmp_path):
    main = make_repo(tmp_path / "fresh", commit=False, branch="trunk")
    loc = gitfiles.locate(main)
    assert Path(loc.main_worktree) == main
    assert gitfiles.branch(loc) == "trunk"
    assert git(main, "symbolic-ref", "--short", "HEAD") == "trunk"
    assert_matches_git(loc, main)


def test_branch_names_keep_their_slashes(tmp_path):
    main = make_repo(tmp_path / "shop")
    linked = add_worktree(main, tmp_path / "ui", "ui/fixes")
    assert gitfiles.branch(gitfiles.locate(main)) == "main"
    assert gitfiles.branch(gitfiles.locate(linked)) == "ui/fixes"


def test_detached_head(tmp_path):
    main = make_repo(tmp_path / "shop")
    git(main, "checkout", "-q", "--detach")
    sha = git(main, "rev-parse", "HEAD")
    assert gitfiles.branch(gitfiles.locate(main)) == f"detached@{sha[:7]}"


def test_detached_head_in_linked_worktree_leaves_main_on_its_branch(tmp_path):
    main = make_repo(tmp_path / "shop")
    linked = add_worktree(main, tmp_path / "wt", "wt")
    git(linked, "checkout", "-q", "--detach")
    sha = git(linked, "rev-parse", "HEAD")
    assert gitfiles.branch(gitfiles.locate(linked)) == f"detached@{sha[:7]}"
    assert gitfiles.branch(gitfiles.locate(main)) == "main"


def test_separate_git_dir_main_worktree(tmp_path):
    work = tmp_path / "work"
    gitdir = tmp_path / "store" / "shop.git"
    gitdir.parent.mkdir()
    git(tmp_path, "init", "-q", "-b", "main", f"--separate-git-dir={gitdir}", str(work))
    assert (work / ".git").is_file()
    loc = gitfiles.locate(work)
    assert Path(loc.worktree) == work
    assert Path(loc.git_dir) == gitdir and Path(loc.common_dir) == gitdir
    assert Path(loc.main_worktree) == work
    assert Path(loc.state_dir) == work / ".claude" / "sessions"
    assert gitfiles.branch(loc) == "main"
    assert_matches_git(loc, work)


def test_separate_git_dir_named_dot_git(tmp_path):
    """A separate git dir that happens to be called `.git` still belongs to its worktree."""
    work = tmp_path / "work"
    gitdir = tmp_path / "elsewhere" / ".git"
    gitdir.parent.mkdir()
    git(tmp_path, "init", "-q", "-b", "main", f"--separate-git-dir={gitdir}", str(work))
    loc = gitfiles.locate(work)
    assert Path(loc.worktree) == work
    assert Path(loc.main_worktree) == work
    assert Path(loc.state_dir) == work / ".claude" / "sessions"
    assert_matches_git(loc, work)


# --- refuse_reason and enabled_state_dir --------------------------------------------------------


def test_ordinary_repository_is_not_refused(tmp_path):
    main = make_repo(tmp_path / "shop")
    assert gitfiles.refuse_reason(gitfiles.locate(main)) is None


def test_home_directory_repository_is_refused(tmp_path):
    home = Path(os.environ["HOME"])  # conftest gives every test its own
    make_repo(home)
    sub = home / "project"
    sub.mkdir()
    loc = gitfiles.locate(sub)
    assert Path(loc.main_worktree) == home
    reason = gitfiles.refuse_reason(loc)
    assert reason is not None and "home directory" in reason
    enable_marker(loc)
    assert gitfiles.enabled_state_dir(loc) is None


def test_linked_worktree_of_home_repository_is_refused(tmp_path):
    home = Path(os.environ["HOME"])
    make_repo(home)
    linked = add_worktree(home, tmp_path / "elsewhere", "side")
    loc = gitfiles.locate(linked)
    assert Path(loc.main_worktree) == home
    assert gitfiles.refuse_reason(loc) is not None
    enable_marker(loc)
    assert gitfiles.enabled_state_dir(loc) is None


def test_home_reached_through_a_symlink_is_still_refused(tmp_path, monkeypatch):
    main = make_repo(tmp_path / "shop")
    link = tmp_path / "home-link"
    link.symlink_to(main)
    monkeypatch.setenv("HOME", str(link))
    assert gitfiles.refuse_reason(gitfiles.locate(main)) is not None


def test_enabled_state_dir_needs_the_marker(tmp_path):
    main = make_repo(tmp_path / "shop")
    linked = add_worktree(main, tmp_path / "wt", "wt")
    loc = gitfiles.locate(main)
    assert gitfiles.enabled_state_dir(loc) is None
    Path(loc.state_dir).mkdir(parents=True)
    assert gitfiles.enabled_state_dir(loc) is None  # a folder alone is not enabling
    (Path(loc.state_dir) / layout.MARKER).write_text("{}")
    assert gitfiles.enabled_state_dir(loc) is None  # nor is the settings file, which git carries
    Path(gitfiles.enabled_mark(loc)).mkdir()
    assert gitfiles.enabled_state_dir(loc) is None  # nor is a mark that is not a file
    Path(gitfiles.enabled_mark(loc)).rmdir()
    enable_marker(loc)
    assert Path(gitfiles.enabled_state_dir(loc)) == main / ".claude" / "sessions"
    assert (
        Path(gitfiles.enabled_state_dir(gitfiles.locate(linked))) == main / ".claude" / "sessions"
    )


def test_state_dir_that_is_a_symlink_is_not_used(tmp_path):
    main = make_repo(tmp_path / "shop")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / layout.MARKER).write_text("{}")
    (main / ".claude").mkdir()
    (main / ".claude" / "sessions").symlink_to(elsewhere)
    loc = gitfiles.locate(main)
    Path(gitfiles.enabled_mark(loc)).write_text("{}")
    assert (Path(loc.state_dir) / layout.MARKER).is_file()  # it looks enabled through the link
    assert gitfiles.enabled_state_dir(loc) is None


def test_state_dir_whose_parent_is_a_symlink_is_not_used(tmp_path):
    main = make_repo(tmp_path / "shop")
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "sessions").mkdir(parents=True)
    (elsewhere / "sessions" / layout.MARKER).write_text("{}")
    (main / ".claude").symlink_to(elsewhere)
    loc = gitfiles.locate(main)
    Path(gitfiles.enabled_mark(loc)).write_text("{}")
    assert (Path(loc.state_dir) / layout.MARKER).is_file()
    assert gitfiles.enabled_state_dir(loc) is None


def test_repository_reached_through_a_symlinked_path_is_usable(tmp_path):
    main = make_repo(tmp_path / "shop")
    enable_marker(gitfiles.locate(main))
    link = tmp_path / "shortcut"
    link.symlink_to(main)
    loc = gitfiles.locate(link)
    assert Path(loc.main_worktree) == link
    assert Path(gitfiles.enabled_state_dir(loc)) == link / ".claude" / "sessions"
