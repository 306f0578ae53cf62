"""The state directory, every name in it, and how a file's path becomes a name there.

One directory per repository, `<main worktree>/.claude/sessions/`, shared by all its worktrees.
That huddle is enabled is marked apart from it, in the repository's git directory (the one all
worktrees share), where git never carries it: `<git common dir>/huddle-enabled`. A clone of a
repository that commits a state directory gets the directory, never the mark.

    huddle.json                   the settings (config)
    <session id>.json             one heartbeat per session (heartbeats)
    .<session id>.lock            that record's lock
    names/<name>                  who holds a session name (names)
    leases/<file>/<session>.json  soft leases on files being edited (leases)
    locks/<file>.json             explicit locks on one file, locks/globs/ on globs (locks)
    tasks/<id>.json               the task board (tasks)
    mail/<session>/{tmp,new,cur,bad}/  each session's inbox, Maildir-style (mailbox)
    mail/<session>/urgent-shown   when urgent messages last interrupted the session (mailbox)
    history/<day>/<item>          every note and message, for `huddle log` (history)
    senders/<sender>.json         what a sender sent lately, against floods and repeats (senders)
    warned/<session>/<file>.<peer>  when a session was last warned about a peer's file (warned)
    turns/<session>.json          a worktree's changed files at the session's last turn end (turns)
    ran/<event>                   when each hook event last ran here, for doctor (ran)
    companions/<client>.json      who wakes a client's idle session; .lock: its lock (companions)
    {names,locks,tasks,senders}/.lock  what serialises changes in those folders (guard)

Only modules of this package name these; everything else asks them. `<file>` is a
worktree-relative path made into one file name by `encode`.
"""

from __future__ import annotations

STATE_SUBDIR = (".claude", "sessions")  # under the main worktree
STATE_PREFIX = "/".join(STATE_SUBDIR) + "/"  # a worktree-relative path inside it starts so
MARKER = "huddle.json"  # the settings
ENABLED_MARK = "huddle-enabled"  # in the git common dir, not here
HEARTBEAT_SUFFIX = ".json"
NAMES = "names"
LEASES = "leases"
LOCKS = "locks"
GLOBS = "globs"  # inside LOCKS
TASKS = "tasks"
MAIL = "mail"
URGENT_SHOWN = "urgent-shown"  # inside a session's MAIL folder
HISTORY = "history"
SENDERS = "senders"
WARNED = "warned"
TURNS = "turns"
RAN = "ran"
COMPANIONS = "companions"
GUARD = ".lock"  # the lock file of a folder whose changes are serialised; never removed

FOLDER_MODE = 0o700
FILE_MODE = 0o600

# Folders that hold something per session, named by the session id, removed with its record.
PER_SESSION = (MAIL, WARNED)


def encode(key: str) -> str:
    """A file name standing for `key`: readable, reversible, never hidden nor a path."""
    name = key.replace("%", "%25").replace("/", "%2F")
    if name.startswith("."):
        name = "%2E" + name[1:]
    if len(name.encode("utf-8")) > 200:
        import hashlib  # only for very long paths

        name = "~" + hashlib.sha256(key.encode("utf-8")).hexdigest()
    return name
