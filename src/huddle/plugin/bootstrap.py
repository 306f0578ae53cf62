"""The installed plugin's virtual environment, holding huddle's runtime dependencies.

Claude Code installs no Python packages for a plugin. The first SessionStart starts a detached
build of `<plugin data>/venv` from the bundled requirements.txt and returns at once; the hooks
launcher uses that interpreter once it exists. It is built again only when the bundled version
or requirements change. Until then, or when it cannot be built (offline), hooks run on the
system python3 with the standard library, and `huddle doctor` says what is missing.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from huddle import __version__, log
from huddle.plugin import files

RETRY_FAILED_AFTER = 3600.0
BUILD_TIMEOUT = 900


def plugin_root() -> Path | None:
    """The plugin folder, or None for a package installed with pip (which has no venv)."""
    found = files.root()
    return None if found is None else Path(found)


def data_dir() -> Path:
    return Path(log.data_dir())


def venv_dir() -> Path:
    return data_dir() / "venv"


def _stamp() -> Path:
    return venv_dir() / "huddle-stamp.txt"


def _lock() -> Path:
    return data_dir() / "venv.building"


def failure_file() -> Path:
    return data_dir() / "venv.failed"


def wanted_stamp() -> str:
    root = plugin_root()
    if root is None:
        raise FileNotFoundError("huddle runs from a package installed with pip: no plugin folder")
    requirements = (root / files.REQUIREMENTS).read_text(encoding="utf-8")
    return f"huddle {__version__}\n{requirements}"


def venv_python() -> Path:
    return venv_dir() / "bin" / "python"


def is_current() -> bool:
    try:
        return _stamp().read_text(encoding="utf-8") == wanted_stamp()
    except OSError:
        return False


def remember_interpreter() -> None:
    """Record the real interpreter behind `python3`, for hooks/run to start it directly."""
    if not os.environ.get("CLAUDE_PLUGIN_DATA"):
        return
    path = data_dir() / "python"
    executable = os.path.realpath(sys.executable)
    try:
        if path.read_text(encoding="utf-8").strip() == executable:
            return
    except OSError:
        pass
    from huddle.store import atomic

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic.write_bytes(path, (executable + "\n").encode("utf-8"), durable=False)
    except OSError as exc:  # only a shortcut: hooks/run falls back to `python3`
        log.write(f"could not record the interpreter in {path}: {exc!r}")


def start_if_needed() -> bool:
    """Start a background build when the venv is missing or stale; True if one was started."""
    if os.environ.get("HUDDLE_NO_BOOTSTRAP") or not os.environ.get("CLAUDE_PLUGIN_DATA"):
        return False
    root = plugin_root()
    if root is None or is_current() or _building() or _failed_recently():
        return False
    import subprocess

    data_dir().mkdir(parents=True, exist_ok=True)
    with open(log.log_path(), "ab") as sink:
        subprocess.Popen(
            [sys.executable, "-c", _BUILD_SNIPPET, str(root / "src")],
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=sink,
            start_new_session=True,  # outlives the hook, which Claude Code may kill
            close_fds=True,
        )
    return True


_BUILD_SNIPPET = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from huddle.plugin.bootstrap import build; build()"
)


def _building() -> bool:
    from huddle.peers import procs

    try:
        pid = int(_lock().read_text(encoding="utf-8").split()[0])
    except (OSError, ValueError, IndexError):
        return False
    return procs.start_time(pid) is not None


def _failed_recently() -> bool:
    try:
        return time.time() - failure_file().stat().st_mtime < RETRY_FAILED_AFTER
    except OSError:
        return False


def build() -> bool:
    """Build the venv (in this process); True on success. One builder at a time."""
    import shutil

    data = data_dir()
    data.mkdir(parents=True, exist_ok=True)
    lock = _lock()
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        if _building():
            return False
        os.unlink(lock)  # left by a builder that died
        return build()
    os.write(fd, f"{os.getpid()}\n".encode())
    os.close(fd)
    fresh = data / f"venv.new-{os.getpid()}"
    try:
        _make(fresh)
        _swap_in(fresh)
        failure_file().unlink(missing_ok=True)
        log.write(f"built {venv_dir()} for huddle {__version__}")
        return True
    except Exception as exc:  # noqa: BLE001 - recorded for doctor, retried later
        failure_file().write_text(f"{time.ctime()}: {exc}\n", encoding="utf-8")
        log.write(f"could not build {venv_dir()}: {exc}")
        shutil.rmtree(fresh, ignore_errors=True)
        return False
    finally:
        lock.unlink(missing_ok=True)


def _make(target: Path) -> None:
    import shutil

    stamp = wanted_stamp()  # FileNotFoundError without a plugin folder
    requirements = str(Path(files.root() or "") / files.REQUIREMENTS)
    shutil.rmtree(target, ignore_errors=True)
    _run([sys.executable, "-m", "venv", str(target)])
    _run(
        [
            str(target / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-input",
            "-r",
            requirements,
        ]
    )
    (target / "huddle-stamp.txt").write_text(stamp, encoding="utf-8")


def _run(argv: list[str]) -> None:
    import subprocess

    done = subprocess.run(argv, capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise RuntimeError(f"{' '.join(argv[:4])} failed: {' / '.join(tail)}")


def _swap_in(fresh: Path) -> None:
    import shutil

    target = venv_dir()
    old = target.with_name(f"venv.old-{os.getpid()}")
    if target.exists():
        os.rename(target, old)
    os.rename(fresh, target)
    shutil.rmtree(old, ignore_errors=True)
