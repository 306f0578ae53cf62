"""Which files in a worktree are changed right now, so that edits made through Bash can be noticed.

Edit tools report their file; `sed -i`, a formatter or a code generator run through Bash do not.
At the end of each turn (Stop) the worktree's changed files are snapshotted and compared with the
snapshot from the end of the previous turn: any path whose entry differs was touched during the
turn. An entry is `[mtime_ns, size]` from `os.lstat`, or `[0, -1]` for a path that no longer
exists, so a second edit of a file that was already dirty shows too, and so does a file that
became clean again (it disappears from the snapshot).

One `git status` run per snapshot, off the hot path. It runs with `GIT_OPTIONAL_LOCKS=0`, so it
never takes `index.lock` or rewrites the index, and never races the user's own git commands.
"""

from __future__ import annotations

import os

from huddle.repo.gitfiles import REPO_ENV

TYPE_CHECKING = False
if TYPE_CHECKING:
    import subprocess

MAX_ENTRIES = 5000
DELETED = (0, -1)


def snapshot(
    worktree: str, timeout: float = 5.0, *, limit: int = MAX_ENTRIES
) -> dict[str, list[int]] | None:
    """The worktree's changed files: `{path: [mtime_ns, size]}`, or None when git cannot say.

    Paths are relative to the worktree root, with forward slashes, as git prints them; `worktree`
    must be that root. Modified, added, deleted (`[0, -1]`) and untracked files count; ignored
    files do not. An untracked directory git does not descend into (a nested repository) is
    listed as git prints it, with a trailing slash. A name that is not UTF-8 is kept with
    backslash escapes, so the snapshot always stores as JSON.

    At most `limit` entries are kept, in git's order (tracked changes first, then untracked files,
    each sorted by path), so a huge untracked tree cannot blow up the stored snapshot. Files past
    the cap are invisible, and one that crosses it between two snapshots looks changed.

    None when git is missing, fails (not a repository, say) or takes longer than `timeout`.
    """
    out = _git_status(worktree, timeout)
    if out is None:
        return None
    root = os.fsencode(worktree)
    snap: dict[str, list[int]] = {}
    fields = out.split(b"\0")
    i = 0
    while i < len(fields) and len(snap) < limit:
        field = fields[i]
        i += 1
        if len(field) < 4 or field[2:3] != b" ":
            continue  # the empty tail after the last NUL
        status, raw = field[:2], field[3:]
        if b"R" in status or b"C" in status:
            i += 1  # a rename names its source next; --no-renames should make this unreachable
        try:
            st = os.lstat(os.path.join(root, raw))
        except OSError:
            entry = list(DELETED)
        else:
            entry = [st.st_mtime_ns, st.st_size]
        snap[raw.decode("utf-8", "backslashreplace")] = entry
    return snap


def _git_status(worktree: str, timeout: float) -> bytes | None:
    import subprocess

    env = {name: value for name, value in os.environ.items() if name not in REPO_ENV}
    env["GIT_OPTIONAL_LOCKS"] = "0"
    args = [
        "git",
        "-C",
        worktree,
        "status",
        "--porcelain=v1",
        "-z",
        "--untracked-files=all",
        "--no-renames",
    ]
    try:
        proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            # Its own process group, so a timeout also ends what git started (submodule
            # status runs, an fsmonitor hook) and no orphan keeps the pipe open.
            start_new_session=True,
        )
    except OSError:
        return None  # git is not installed, or the worktree path is unusable
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        return None
    if proc.returncode != 0:
        return None
    return out


def _kill(proc: subprocess.Popen[bytes]) -> None:
    import signal
    import subprocess

    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        proc.kill()
    try:
        proc.communicate(timeout=1.0)
    except subprocess.TimeoutExpired:
        # Something outside the group still holds the pipe; git itself is dead.
        if proc.stdout is not None:
            proc.stdout.close()
        proc.wait()


def changed_between(
    before: dict[str, list[int]] | None, after: dict[str, list[int]] | None
) -> list[str]:
    """Paths whose entry differs between two snapshots, sorted.

    That covers a path that appeared, one that disappeared (it became clean again: reverted or
    committed) and one whose mtime or size changed. Without both snapshots nothing can be
    attributed, so the answer is empty.
    """
    if before is None or after is None:
        return []
    changed = {path for path, entry in after.items() if before.get(path) != entry}
    changed.update(path for path in before if path not in after)
    return sorted(changed)
