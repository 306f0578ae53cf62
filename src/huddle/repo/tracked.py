"""Whether git tracks anything in the state directory: then a pull or a checkout can write into
it whatever the repository holds, so huddle stops trusting it. Asked at session start, off the
tool-call path, with one `git ls-files` (it reads only the index, and takes no lock)."""

from __future__ import annotations

import os

from huddle.repo.gitfiles import REPO_ENV, Location
from huddle.store.layout import STATE_SUBDIR

TIMEOUT = 5.0


def state_files(location: Location) -> list[str] | None:
    """The tracked files under the state directory; None when git cannot say."""
    import subprocess

    env = {k: v for k, v in os.environ.items() if k not in REPO_ENV}
    env["GIT_OPTIONAL_LOCKS"] = "0"
    try:
        done = subprocess.run(
            ["git", "-C", location.main_worktree, "ls-files", "-z", "--", "/".join(STATE_SUBDIR)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            env=env,
            timeout=TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return [name for name in done.stdout.decode("utf-8", "replace").split("\0") if name]
