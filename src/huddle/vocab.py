"""The words huddle's parts share, each defined once: what a session, a task or a message can be.

Nothing is imported here, so every module, the hooks' hot path included, can use these for the
cost of one small file.
"""

# The hook events huddle registers in hooks/hooks.json.
SESSION_START = "SessionStart"
USER_PROMPT_SUBMIT = "UserPromptSubmit"
PRE_TOOL_USE = "PreToolUse"
POST_TOOL_USE = "PostToolUse"
STOP = "Stop"
SESSION_END = "SessionEnd"
EVENTS = (SESSION_START, USER_PROMPT_SUBMIT, PRE_TOOL_USE, POST_TOOL_USE, STOP, SESSION_END)

# The tools that edit a file, and name it in their input.
EDIT_TOOLS = ("Edit", "Write", "MultiEdit", "NotebookEdit")
BASH = "Bash"
# The tools whose PreToolUse and PostToolUse hooks run huddle (hooks.json's matchers).
HOOKED_TOOLS = (*EDIT_TOOLS, BASH)

# Why a SessionStart happened (its `source`).
STARTUP = "startup"
RESUME = "resume"
CLEAR = "clear"
COMPACT = "compact"
FORK = "fork"
# The starts after which a session is told its own coordination state again.
RESTORING = (COMPACT, RESUME, CLEAR, FORK)

# A session's state. Gone: its process died without SessionEnd, stored once a peer notices.
WORKING = "working"
IDLE = "idle"
ENDED = "ended"
GONE = "gone"
SESSION_STATES = (WORKING, IDLE, ENDED, GONE)
OVER = (ENDED, GONE)  # states of a session that is no longer there

# Why a session ended (its record's `end_reason`), besides the reason SessionEnd gives.
END_CLEAR = CLEAR  # /clear replaced it in the same process; the new session takes over
END_TAKEN_OVER = "clear, taken over"  # ... and the new session has done so
END_CRASHED = "crashed"  # gone

# A task on the board.
OPEN = "open"
CLAIMED = "claimed"
DONE = "done"
TASK_STATES = (OPEN, CLAIMED, DONE)

# How far in the future a time read from a file may lie and still be believed: the sessions of
# one machine share its clock, so more means a hand-made file (a lock "until 3000").
FUTURE_SLACK = 300.0
# How long a record that cannot be checked against a process (another machine's) counts as live
# after its last activity: the default lease time, as long as what it holds counts anyway.
UNVERIFIED_LIVE_FOR = 600.0

# What a message is. Notes go to everyone; huddle itself sends the notice kinds.
MESSAGE_KINDS = ("question", "answer", "request", "fyi", "done")
NOTE = "note"
NOTICE = "notice"  # a lock broken, a command finished
ENDED_NOTICE = "ended"  # a peer's process died
LEFT_NOTICE = "left"  # a peer ended cleanly
NOTICE_KINDS = (NOTICE, ENDED_NOTICE, LEFT_NOTICE)
