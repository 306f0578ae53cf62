"""gitguard: which git commands in a Bash command line rewrite HEAD, the index or the worktree."""

from __future__ import annotations

import random
import subprocess
import sys
import time

import pytest

from huddle.shell import commands, gitcommands
from huddle.shell.gitcommands import GitAction, inspect
from tests.helpers import ROOT

CWD = "/repo"


def verbs(command: str, cwd: str = CWD) -> list[str]:
    return [action.verb for action in inspect(command, cwd)]


def places(command: str, cwd: str = CWD) -> list[tuple[str, bool]]:
    return [(action.directory, action.uncertain) for action in inspect(command, cwd)]


def strict(command: str, cwd: str = CWD) -> list[GitAction]:
    """Like inspect, without its last-resort `except`, so a bug cannot hide behind it."""
    return list(gitcommands._actions(command, cwd))


# --- every verb ---------------------------------------------------------------------------------

VERBS = [
    # checkout: switching
    ("git checkout main", "checkout"),
    ("git checkout -", "checkout"),
    ("git checkout -b feature", "checkout"),
    ("git checkout -B feature origin/main", "checkout"),
    ("git checkout --orphan fresh", "checkout"),
    ("git checkout --detach", "checkout"),
    ("git checkout --detach v1.2.3", "checkout"),
    ("git checkout -q -t origin/topic", "checkout"),
    ("git checkout main --", "checkout"),
    ("git checkout -f", "checkout -f"),
    ("git checkout --force main", "checkout"),
    # checkout: overwriting files
    ("git checkout -- src/app.py", "checkout --"),
    ("git checkout -- a.py b.py", "checkout --"),
    ("git checkout HEAD -- src/app.py", "checkout --"),
    ("git checkout main~2 -- src/app.py", "checkout --"),
    ("git checkout .", "checkout --"),
    ("git checkout src/app.py", "checkout --"),
    ("git checkout main src/app.py", "checkout --"),
    ("git checkout --ours conflicted.txt", "checkout --"),
    ("git checkout -p", "checkout --"),
    ("git checkout --pathspec-from-file=list.txt", "checkout --"),
    # switch
    ("git switch main", "switch"),
    ("git switch -", "switch"),
    ("git switch -c feature", "switch"),
    ("git switch --create feature origin/main", "switch"),
    ("git switch -C feature", "switch"),
    ("git switch --detach HEAD~1", "switch"),
    ("git switch --orphan fresh", "switch"),
    ("git switch --discard-changes main", "switch"),
    # reset
    ("git reset", "reset --mixed"),
    ("git reset -q", "reset --mixed"),
    ("git reset HEAD~1", "reset --mixed"),
    ("git reset --mixed HEAD~1", "reset --mixed"),
    ("git reset --soft HEAD~1", "reset --soft"),
    ("git reset --hard", "reset --hard"),
    ("git reset --hard origin/main", "reset --hard"),
    ("git reset --keep HEAD~1", "reset --keep"),
    ("git reset --keep", "reset --keep"),
    ("git reset --merge", "reset --merge"),
    ("git reset --merge ORIG_HEAD", "reset --merge"),
    ("git reset -- src/app.py", "reset --"),
    ("git reset HEAD src/app.py", "reset --"),
    ("git reset HEAD -- src/app.py", "reset --"),
    ("git reset src/app.py", "reset --"),
    ("git reset .", "reset --"),
    ("git reset -p", "reset --"),
    ("git reset main -- src/app.py", "reset --"),
    # stash
    ("git stash", "stash"),
    ("git stash push", "stash"),
    ("git stash push -m 'wip'", "stash"),
    ("git stash push -- src/app.py", "stash"),
    ("git stash push src/app.py", "stash"),
    ("git stash save 'old style message'", "stash"),
    ("git stash -u", "stash"),
    ("git stash --include-untracked", "stash"),
    ("git stash -a", "stash"),
    ("git stash -k", "stash"),
    ("git stash --staged", "stash"),
    ("git stash -p", "stash"),
    ("git stash -m 'wip'", "stash"),
    ("git stash -q", "stash"),
    ("git stash -- src/app.py", "stash"),
    ("git stash pop", "stash pop"),
    ("git stash pop --index", "stash pop"),
    ("git stash pop stash@{2}", "stash pop"),
    ("git stash apply", "stash apply"),
    ("git stash apply stash@{0}", "stash apply"),
    ("git stash drop", "stash drop"),
    ("git stash drop stash@{1}", "stash drop"),
    ("git stash clear", "stash clear"),
    ("git stash branch rescue", "stash branch"),
    ("git stash branch rescue stash@{1}", "stash branch"),
    # rebase, merge, pull, cherry-pick, revert
    ("git rebase main", "rebase"),
    ("git rebase", "rebase"),
    ("git rebase -i HEAD~3", "rebase"),
    ("git rebase --onto main topic~2 topic", "rebase"),
    ("git rebase -X theirs main", "rebase"),
    ("git rebase --continue", "rebase --continue"),
    ("git rebase --abort", "rebase --abort"),
    ("git rebase --skip", "rebase --skip"),
    ("git merge feature", "merge"),
    ("git merge", "merge"),
    ("git merge --no-ff -m 'merge it' feature", "merge"),
    ("git merge --no-commit feature", "merge"),
    ("git merge --squash feature", "merge"),
    ("git merge --abort", "merge --abort"),
    ("git merge --continue", "merge --continue"),
    ("git pull", "pull"),
    ("git pull --rebase origin main", "pull"),
    ("git pull --ff-only", "pull"),
    ("git cherry-pick abc1234", "cherry-pick"),
    ("git cherry-pick -n abc1234", "cherry-pick"),
    ("git cherry-pick -m 1 abc1234", "cherry-pick"),
    ("git cherry-pick main~3..main", "cherry-pick"),
    ("git cherry-pick --continue", "cherry-pick --continue"),
    ("git cherry-pick --abort", "cherry-pick --abort"),
    ("git cherry-pick --skip", "cherry-pick --skip"),
    ("git revert HEAD", "revert"),
    ("git revert --no-edit abc1234", "revert"),
    ("git revert --abort", "revert --abort"),
    ("git revert --continue", "revert --continue"),
    # restore
    ("git restore src/app.py", "restore"),
    ("git restore .", "restore"),
    ("git restore -W src/app.py", "restore"),
    ("git restore --worktree -- src/app.py", "restore"),
    ("git restore --staged --worktree src/app.py", "restore"),
    ("git restore -SW src/app.py", "restore"),
    ("git restore --source=HEAD~2 src/app.py", "restore"),
    ("git restore -s main src/app.py", "restore"),
    ("git restore -p", "restore"),
    ("git restore --staged src/app.py", "restore --staged"),
    ("git restore -S .", "restore --staged"),
    ("git restore --staged --source main src/app.py", "restore --staged"),
    # commit -a
    ("git commit -a", "commit -a"),
    ("git commit -a -m 'msg'", "commit -a"),
    ("git commit --all -m 'msg'", "commit -a"),
    ('git commit -am "msg"', "commit -a"),
    ("git commit -qa", "commit -a"),
    ("git commit -avm msg", "commit -a"),
    ("git commit -m msg -a", "commit -a"),
    ("git commit --amend -a --no-edit", "commit -a"),
    ("git commit -S -a -m signed", "commit -a"),
    ("git commit -C HEAD -a", "commit -a"),
    ("git commit --message 'x' --all", "commit -a"),
    # clean
    ("git clean -f", "clean"),
    ("git clean -fd", "clean"),
    ("git clean -xdf", "clean"),
    ("git clean -ffdx", "clean"),
    ("git clean --force -d", "clean"),
    ("git clean -fX", "clean"),
    ("git clean -f -e '*.log'", "clean"),
    ("git clean -fe keep.txt", "clean"),
    ("git clean -f -- build/", "clean"),
    ("git clean -i", "clean"),
]


@pytest.mark.parametrize(("command", "verb"), VERBS)
def test_verbs(command, verb):
    assert verbs(command) == [verb]


READ_ONLY = [
    "git status",
    "git status --short",
    "git log --oneline -5",
    "git diff",
    "git diff --staged",
    "git show HEAD",
    "git branch",
    "git branch -a",
    "git branch --list 'feat*'",
    "git checkout",
    "git checkout --",
    "git checkout -q",
    "git checkout -h",
    "git checkout --help",
    "git switch",
    "git stash list",
    "git stash show",
    "git stash show -p stash@{1}",
    "git stash create",
    "git stash store abc1234",
    "git stash -u stray-word",
    "git reset --soft",
    "git reset -h",
    "git rebase --quit",
    "git rebase --edit-todo",
    "git rebase --show-current-patch",
    "git merge --quit",
    "git merge-base main HEAD",
    "git pull --dry-run",
    "git pull -h",
    "git cherry-pick",
    "git cherry-pick --quit",
    "git revert",
    "git restore",
    "git restore --staged",
    "git commit",
    "git commit -m 'msg'",
    "git commit -ma",
    "git commit -m -a",
    "git commit --amend --no-edit",
    "git commit -p",
    "git commit -a --dry-run",
    "git commit -F -a",
    "git clean",
    "git clean -d",
    "git clean -n",
    "git clean -fn",
    "git clean -f -n",
    "git clean -fdn",
    "git clean --dry-run -f",
    "git fetch --all",
    "git add -A",
    "git rev-parse --abbrev-ref HEAD",
    "git worktree list",
    "git worktree remove ../w",
    "git --version",
    "git --help",
    "git -h",
    "git --exec-path",
    "git",
    "git -C",
    "git -C sub",
    "git help checkout",
    "git config --get user.name",
    "echo git stash",
    "echo 'git reset --hard'",
    "grep -rn 'git checkout' src",
    "man git",
    "ls .git",
    "cat .gitignore",
    "github-cli pr list",
    "gitk --all",
    "legit stash",
    "command -v git",
    "type git",
    "which git && git status",
    "sudo -l git stash",
]


@pytest.mark.parametrize("command", READ_ONLY)
def test_read_only_is_not_reported(command):
    assert strict(command) == []


# --- chained, prefixed and wrapped forms ----------------------------------------------------------

FORMS = [
    ("cd x && git stash", ["stash"]),
    ("cd ../other; git checkout main", ["checkout"]),
    ("a || git reset --hard", ["reset --hard"]),
    ("make && git stash && git stash pop", ["stash", "stash pop"]),
    ("git fetch && git rebase origin/main", ["rebase"]),
    ("git stash; git pull; git stash pop", ["stash", "pull", "stash pop"]),
    ("git status\ngit stash\ngit log", ["stash"]),
    ("git status | grep x && git stash", ["stash"]),
    ("echo y | git clean -i", ["clean"]),
    ("git stash 2>&1 | tail -3", ["stash"]),
    ("git stash >/dev/null 2>&1", ["stash"]),
    ("git stash &> /tmp/log", ["stash"]),
    ("git stash &", ["stash"]),
    ("(cd x && git pull)", ["pull"]),
    ("( git stash )", ["stash"]),
    ("{ git stash; }", ["stash"]),
    ("echo $(git stash)", ["stash"]),
    ('echo "$(git stash)"', ["stash"]),
    ("x=$(git stash pop)", ["stash pop"]),
    ("echo `git stash`", ["stash"]),
    ('echo "`git reset --hard`"', ["reset --hard"]),
    ("echo $(echo $(git stash))", ["stash"]),
    ("diff <(git stash show -p) <(git checkout main)", ["checkout"]),
    ("GIT_TRACE=1 git stash", ["stash"]),
    ("A=1 B='x y' git stash", ["stash"]),
    ("command git stash", ["stash"]),
    ("command -p git stash", ["stash"]),
    ("env X=1 git stash", ["stash"]),
    ("env -i PATH=/usr/bin git stash", ["stash"]),
    ("env -u HOME git stash", ["stash"]),
    ("time git stash", ["stash"]),
    ("time -p git stash", ["stash"]),
    ("nohup git pull &", ["pull"]),
    ("sudo git stash", ["stash"]),
    ("sudo -u bob -E git stash", ["stash"]),
    ("sudo -- git stash", ["stash"]),
    ("exec git stash", ["stash"]),
    ("nice -n 10 git pull", ["pull"]),
    ("timeout 30 git pull", ["pull"]),
    ("timeout -s KILL 30s git pull", ["pull"]),
    ("/usr/bin/git stash", ["stash"]),
    ("/usr/local/bin/git reset --hard", ["reset --hard"]),
    ("\\git stash", ["stash"]),
    ("'git' stash", ["stash"]),
    ('"git" "stash"', ["stash"]),
    ("git -C sub stash", ["stash"]),
    ("git -c core.pager=cat stash", ["stash"]),
    ("git -c user.name=x -c user.email=y commit -am msg", ["commit -a"]),
    ("git --git-dir=.git stash", ["stash"]),
    ("git --git-dir .git stash", ["stash"]),
    ("git --work-tree=. stash", ["stash"]),
    ("git --no-pager stash", ["stash"]),
    ("git -p stash", ["stash"]),
    ("git -P stash", ["stash"]),
    ("git --paginate stash", ["stash"]),
    ("git --bare stash", ["stash"]),
    ("git --namespace=foo stash", ["stash"]),
    ("git --namespace foo stash", ["stash"]),
    ("git --no-optional-locks --literal-pathspecs stash", ["stash"]),
    ("git --exec-path=/usr/lib/git-core stash", ["stash"]),
    ("if git diff --quiet; then git stash; fi", ["stash"]),
    ("while true; do git pull; sleep 60; done", ["pull"]),
    ("for b in a b; do git checkout $b; done", ["checkout"]),
    ("! git stash", ["stash"]),
    ("git status && { git stash || true; }", ["stash"]),
    ("bash -c 'git stash'", ["stash"]),
    ('sh -c "cd sub && git reset --hard"', ["reset --hard"]),
    ("bash -lc 'git pull'", ["pull"]),
    ("bash -o pipefail -c 'git stash | cat'", ["stash"]),
    ("eval git stash", ["stash"]),
    ("eval 'git stash && git pull'", ["stash", "pull"]),
    ("git stash # and then git pull", ["stash"]),
    ("# git stash\ngit pull", ["pull"]),
    ("git stash \\\n  push -u", ["stash"]),
    ("git \\\nstash", ["stash"]),
    ("cat <<EOF\ngit stash\nEOF\ngit pull", ["pull"]),
    ("cat <<-'EOF'\n\tgit stash\n\tEOF\ngit pull", ["pull"]),
    ("cat <<< 'git stash'; git pull", ["pull"]),
    ("f() { git stash; }", ["stash"]),
    ("arr=(git stash) && git pull", ["pull"]),
    ("echo $((1 + 2)) && git pull", ["pull"]),
    ("echo ${HOME} && git pull", ["pull"]),
]


@pytest.mark.parametrize(("command", "expected"), FORMS)
def test_forms(command, expected):
    assert verbs(command) == expected


# --- quoting ------------------------------------------------------------------------------------

QUOTING = [
    ('git commit -am "fix && git stash"', ["commit -a"]),
    ("git commit -am 'fix; git reset --hard'", ["commit -a"]),
    ('git commit -m "note: run git stash | git pull"', []),
    ('git commit -m "use \\`git stash\\`"', []),
    ("git commit -m 'use `git stash`'", []),
    ('git commit -m "use `git stash`"', ["stash"]),
    ('git commit -m "$(git stash)"', ["stash"]),
    ("git commit -m '$(git stash)'", []),
    ("git commit -am $'multi\\nline; git stash'", ["commit -a"]),
    ('echo "git stash" && git status', []),
    ("echo it\\'s && git stash", ["stash"]),
    ('git commit -m "a \\"quoted\\" && git stash"', []),
    ('git commit -m "it\'s && git stash"', []),
    ("git commit -m \"$(cat <<'EOF'\nFix (part 1\n\ngit stash && git reset --hard\nEOF\n)\"", []),
    (
        'git add -A && git commit -am "$(cat <<\'EOF\'\nmsg with ) and " and `\nEOF\n)" '
        "&& git push",
        ["commit -a"],
    ),
    ('git stash push -m "wip: && git reset --hard"', ["stash"]),
    ("git checkout 'my branch'", ["checkout"]),
    ("git 'stash' 'pop'", ["stash pop"]),
    ("git st''ash", ["stash"]),
    ('g"it" stash', ["stash"]),
]


@pytest.mark.parametrize(("command", "expected"), QUOTING)
def test_quoting(command, expected):
    assert [a.verb for a in strict(command)] == expected


# --- directories --------------------------------------------------------------------------------

DIRECTORIES = [
    ("git stash", "/repo", False),
    ("cd x && git stash", "/repo/x", False),
    ("cd x; cd y && git stash", "/repo/x/y", False),
    ("cd ../other; git checkout main", "/other", False),
    ("cd /elsewhere/w && git stash", "/elsewhere/w", False),
    ("cd ./a/../b/ && git stash", "/repo/b", False),
    ("cd 'dir with space' && git stash", "/repo/dir with space", False),
    ("cd -P x && git stash", "/repo/x", False),
    ("cd -- x && git stash", "/repo/x", False),
    ("cd x && cd - && git stash", "/repo", False),
    ("cd '' && git stash", "/repo", False),
    ("(cd x && git pull)", "/repo/x", False),
    ("(cd x) && git pull", "/repo", False),
    ("(cd x; (cd y; git stash))", "/repo/x/y", False),
    ("(cd x; (cd y); git stash)", "/repo/x", False),
    ("{ cd x; } && git stash", "/repo/x", False),
    ("cd x | git stash", "/repo", False),
    ("cd x & git stash", "/repo", False),
    ("echo $(cd x) && git stash", "/repo", False),
    ("cd x && echo $(git stash)", "/repo/x", False),
    ("pushd x && git stash", "/repo/x", False),
    ("pushd x > /dev/null && popd && git stash", "/repo", False),
    ("git -C sub stash", "/repo/sub", False),
    ("git -C /abs stash", "/abs", False),
    ("git -C a -C b stash", "/repo/a/b", False),
    ("git -C a -C /abs -C c stash", "/abs/c", False),
    ("git -C '' stash", "/repo", False),
    ("cd x && git -C ../y stash", "/repo/y", False),
    ("cd x && git -C y -C z stash", "/repo/x/y/z", False),
    ("git --work-tree=../w stash", "/w", False),
    ("git --work-tree ../w stash", "/w", False),
    ("git -C a --work-tree=b stash", "/repo/a/b", False),
    ("GIT_WORK_TREE=/w git stash", "/w", False),
    ("env -C sub git stash", "/repo/sub", False),
    ("env --chdir=sub git stash", "/repo/sub", False),
    ("sudo -D /w git stash", "/w", False),
    ("bash -c 'cd sub && git stash'", "/repo/sub", False),
    ("cd x && bash -c 'git stash'", "/repo/x", False),
    # unknowable: left where it was and marked
    ("cd && git stash", "/repo", True),
    ("cd ~ && git stash", "/repo", True),
    ("cd ~/code && git stash", "/repo", True),
    ("cd $DIR && git stash", "/repo", True),
    ('cd "$DIR/sub" && git stash', "/repo", True),
    ("cd $(git rev-parse --show-toplevel) && git stash", "/repo", True),
    ("cd src* && git stash", "/repo", True),
    ("cd - && git stash", "/repo", True),
    ("popd && git stash", "/repo", True),
    ("cd $X; cd y && git stash", "/repo/y", True),
    ('git -C "$DIR" stash', "/repo", True),
    ("git -C ~ stash", "/repo", True),
    ("git --git-dir=/other/.git stash", "/repo", True),
    ("GIT_DIR=/other/.git git stash", "/repo", True),
    ("git --work-tree=$W stash", "/repo", True),
]


@pytest.mark.parametrize(("command", "directory", "uncertain"), DIRECTORIES)
def test_directories(command, directory, uncertain):
    assert places(command) == [(directory, uncertain)]


def test_directory_is_normalised_from_an_untidy_cwd():
    assert places("git stash", "/repo/./a/../b/") == [("/repo/b", False)]


def test_each_action_gets_its_own_directory():
    command = "git stash && cd a && git pull && cd ../b && git -C c stash pop"
    assert places(command) == [("/repo", False), ("/repo/a", False), ("/repo/b/c", False)]


# --- effects ------------------------------------------------------------------------------------

EFFECTS = [
    ("git stash", gitcommands.STASH),
    ("git stash -u", gitcommands.STASH_UNTRACKED),
    ("git stash --all", gitcommands.STASH_ALL),
    ("git stash --staged", gitcommands.STASH_STAGED),
    ("git stash -p", gitcommands.STASH_PATCH),
    (
        "git stash push -- a.py",
        "takes uncommitted changes to a.py out of the worktree, other sessions' included",
    ),
    (
        "git stash pop",
        "applies the newest stash to the worktree's files and deletes it; stashes "
        "are shared by all worktrees, so it may be another session's",
    ),
    (
        "git stash apply stash@{1}",
        "applies stash@{1} to the worktree's files; stashes are shared "
        "by all worktrees, so it may be another session's",
    ),
    (
        "git stash drop",
        "deletes the newest stash; stashes are shared by all worktrees, so it may "
        "be another session's",
    ),
    ("git stash clear", gitcommands.STASH_CLEAR),
    (
        "git stash branch b",
        "switches the worktree to a new branch and applies the newest stash "
        "there, under everyone working in it",
    ),
    ("git checkout main", gitcommands.SWITCH),
    ("git switch main", gitcommands.SWITCH),
    ("git checkout -b new", gitcommands.SWITCH_NEW),
    ("git switch -c new", gitcommands.SWITCH_NEW),
    ("git checkout -b new origin/main", gitcommands.SWITCH),
    ("git checkout -f main", gitcommands.SWITCH_FORCE),
    ("git switch --discard-changes main", gitcommands.SWITCH_FORCE),
    ("git checkout -f", gitcommands.DISCARD_ALL),
    ("git checkout -- a.py", "discards unstaged edits to a.py"),
    ("git checkout -- a.py b.py", "discards unstaged edits to a.py and b.py"),
    ("git checkout -- a b c d e", "discards unstaged edits to a, b, c and 2 more"),
    ("git checkout .", "discards unstaged edits to every file"),
    ("git checkout HEAD -- a.py", "overwrites a.py with the committed version"),
    ("git checkout main -- a.py", "overwrites a.py with the version in main"),
    ("git checkout -p", "discards unstaged edits to chosen parts of every file"),
    ("git restore a.py", "discards unstaged edits to a.py"),
    ("git restore --staged --worktree a.py", "overwrites a.py with the committed version"),
    ("git restore -s HEAD~2 a.py", "overwrites a.py with the version in HEAD~2"),
    ("git restore --staged a.py", "unstages changes to a.py"),
    ("git restore --staged -s main a.py", "sets the staged version of a.py to the one in main"),
    ("git reset --hard", gitcommands.DISCARD_ALL),
    ("git reset --hard HEAD", gitcommands.DISCARD_ALL),
    (
        "git reset --hard origin/main",
        "discards every uncommitted change in the worktree and moves HEAD to origin/main",
    ),
    ("git reset", gitcommands.UNSTAGE_ALL),
    (
        "git reset HEAD~1",
        "moves HEAD to HEAD~1 and unstages every staged change, other sessions' included",
    ),
    (
        "git reset --soft HEAD~1",
        "moves HEAD to HEAD~1, leaving the index and the files as they are",
    ),
    (
        "git reset --keep HEAD~1",
        "moves HEAD to HEAD~1, unstages every staged change and rewrites the files that differ",
    ),
    ("git reset --merge", gitcommands.UNSTAGE_ALL),
    ("git reset -- a.py", "unstages changes to a.py"),
    ("git reset main -- a.py", "sets the staged version of a.py to the one in main"),
    ("git pull", gitcommands.HISTORY),
    ("git merge x", gitcommands.HISTORY),
    ("git rebase --abort", gitcommands.HISTORY),
    ("git cherry-pick abc1234", gitcommands.HISTORY),
    ("git revert HEAD", gitcommands.HISTORY),
    ("git commit -am x", gitcommands.COMMIT_ALL),
    ("git clean -f", "deletes untracked files, ones other sessions created included"),
    (
        "git clean -fd build",
        "deletes untracked files under build, ones other sessions created included",
    ),
    ("git clean -fdx", "deletes untracked and ignored files, ones other sessions created included"),
    ("git clean -fX", "deletes ignored files, ones other sessions created included"),
]


@pytest.mark.parametrize(("command", "effect"), EFFECTS)
def test_effects(command, effect):
    assert [action.effect for action in inspect(command, CWD)] == [effect]


def test_the_briefs_wording():
    assert gitcommands.STASH == (
        "takes every uncommitted change in the worktree out of it, other sessions' edits included"
    )
    assert (
        gitcommands.SWITCH == "switches the worktree to another branch under everyone working in it"
    )
    assert gitcommands.DISCARD_ALL == "discards every uncommitted change in the worktree"
    assert gitcommands.CLEAN.format(under="") == (
        "deletes untracked files, ones other sessions created included"
    )
    assert gitcommands.COMMIT_ALL == (
        "commits every modified tracked file, other sessions' unfinished edits included"
    )
    assert gitcommands.HISTORY == "rewrites files and moves HEAD in the worktree"


def test_effects_are_one_short_sentence_without_a_full_stop():
    for command, _ in EFFECTS:
        for action in inspect(command, CWD):
            assert not action.effect.endswith(".")
            assert action.effect[0].islower()
            assert len(action.effect) < 160


def test_long_paths_and_revisions_are_shortened_in_the_effect():
    (action,) = inspect(f"git checkout {'r' * 500} -- {'p' * 500}", CWD)
    assert len(action.effect) < 200
    assert "…" in action.effect


# --- the command text ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "quoted"),
    [
        ("cd x && git stash && make", ["git stash"]),
        ("GIT_TRACE=1 git -C a stash push -u 2>/dev/null", ["git -C a stash push -u"]),
        ('git commit -am "fix && git stash"', ['git commit -am "fix && git stash"']),
        ("echo $(git stash) `git pull`", ["git stash", "git pull"]),
        ("(git stash)", ["git stash"]),
        ("sudo /usr/bin/git reset --hard;", ["/usr/bin/git reset --hard"]),
        ("bash -c 'git stash'", ["git stash"]),
        ("git stash \\\n  -u", ["git stash \\\n  -u"]),
    ],
)
def test_command_text_is_the_invocation_itself(command, quoted):
    assert [action.command for action in inspect(command, CWD)] == quoted


def test_command_text_is_cut_to_200_characters():
    (action,) = inspect("git stash push -m '" + "x" * 1000 + "'", CWD)
    assert len(action.command) == 200
    assert action.command.startswith("git stash push -m 'xxx")
    assert action.command.endswith("…")


def test_git_action_is_a_plain_slotted_class():
    action = GitAction("stash", "/r", "e", "git stash")
    assert action.uncertain is False
    assert not hasattr(action, "__dict__")
    assert "stash" in repr(action)


# --- malformed input never raises ---------------------------------------------------------------

MALFORMED = [
    ("git commit -m 'unterminated && git stash", ["stash"]),
    ('git commit -m "unterminated && git stash', ["stash"]),
    ('git stash push -m "wip', ["stash"]),
    ("git stash pop '", ["stash pop"]),
    ("echo $(git stash", ["stash"]),
    ("echo `git stash", ["stash"]),
    ("echo $'unterminated; git stash", ["stash"]),
    ("git stash )", ["stash"]),
    ("git stash ))) ((( ;;; &&& |||", ["stash"]),
    ("git stash\x00", ["stash"]),
    ("git\x00stash", ["stash"]),
    ("cd dïr && git stash", ["stash"]),
    ("git checkout fünf", ["checkout"]),
    ("git commit -am 'emoji 🎉 && git stash'", ["commit -a"]),
    ("git stash push -m \ud800", ["stash"]),
    ("", []),
    ("git", []),
    ("git -c", []),
    ("git --git-dir", []),
    ("cat <<EOF\ngit stash", []),
    ("cat <<", []),
    ("cd $(", []),
    ("${", []),
    ("$((", []),
    ("\\", []),
    ("git pull \\", ["pull"]),
    ("2>", []),
    ("git stash 2>", ["stash"]),
]


@pytest.mark.parametrize(("command", "expected"), MALFORMED)
def test_malformed_input(command, expected):
    assert [action.verb for action in strict(command)] == expected


@pytest.mark.parametrize(
    "command",
    [
        "git stash " + "a" * 1_000_000,
        "git status; " * 90_000 + "git stash",
        "git stash && " * 80_000,
        "git commit -m '" + "x" * 1_000_000 + " && git stash",
        'echo "' + "$(" * 100_000,
        "(" * 300_000 + "git stash" + ")" * 300_000,
        "$(" * 300_000 + "git stash",
        "`" * 1_000_000 + "git",
        "eval " * 200_000 + "git stash",
        "git stash\x00" * 100_000,
        "'\"" * 500_000 + "git",
        "cat <<EOF\n" + "git stash\n" * 100_000,
        "\\" * 1_000_000 + "git",
        "ñ€𝄞 git stash " * 70_000,
        "${" * 500_000 + "git",
        "git stash " + "> " * 500_000,
        "bash -c " * 100_000 + "'git stash'",
    ],
    ids=lambda command: repr(command[:16]),
)
def test_megabyte_commands_finish_without_raising(command):
    started = time.monotonic()
    strict(command)
    assert time.monotonic() - started < 10


def test_random_shell_soup_never_raises():
    # fmt: off
    pieces = [
        "git", " ", "stash", "checkout", "-C", "x", "cd", "&&", "||", ";", "|", "&", "(", ")",
        "$(", "`", "'", '"', "\\", "\n", "<<", "EOF", "<", ">", "2>&1", "$", "{", "}", "#", "=",
        "-am", "--", "reset", "--hard", "~", "*", "\x00", "é", "$'", "((", "eval", "bash -c",
    ]
    # fmt: on
    chooser = random.Random(1234)
    for _ in range(3000):
        command = "".join(chooser.choice(pieces) for _ in range(chooser.randrange(1, 40)))
        for action in strict(command):
            assert action.directory.startswith("/")
            assert len(action.command) <= 200


def test_inspect_swallows_even_an_internal_error(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(commands, "walk", broken)
    assert inspect("git stash", CWD) == []


# --- cost ---------------------------------------------------------------------------------------


def test_a_command_without_git_loads_nothing():
    code = (
        "import sys; sys.path[0] = 'src'; import huddle.shell.gitcommands; "
        "huddle.shell.gitcommands.inspect('ls -la', '/tmp'); "
        "print('shlex' in sys.modules, 're' in sys.modules, "
        "any(name in sys.modules for name in ('huddle.shell.commands', 'huddle.shell.words'))); "
        "huddle.shell.gitcommands.inspect('git stash', '/tmp'); "
        "print('huddle.shell.commands' in sys.modules)"  # so the check above can fail
    )
    done = subprocess.run(
        [sys.executable, "-S", "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.split() == ["False", "False", "False", "True"]


def test_a_command_without_git_returns_at_once():
    command = "x" * 1_000_000
    started = time.perf_counter()
    for _ in range(100):
        assert inspect(command, CWD) == []
    assert time.perf_counter() - started < 1.0
