"""records: the cheap `load` of the hooks and the strict pydantic `validate` agree on one schema,
and everything the hooks write passes both."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from huddle.handlers import entry
from huddle.repo import gitfiles
from huddle.store.records import (
    RECORD_VERSION,
    Heartbeat,
    Invalid,
    TouchedFile,
    load,
    validate,
)
from huddle.vocab import ENDED as STATE_ENDED
from huddle.vocab import IDLE as STATE_IDLE
from huddle.vocab import WORKING as STATE_WORKING
from tests.helpers import (
    Plugin,
    StandIn,
    add_worktree,
    edit_event,
    event,
    git,
    make_repo,
    new_session_id,
)


def full_record() -> Heartbeat:
    return Heartbeat(
        session_id=new_session_id(),
        name="ui-fixes",
        pid=4242,
        pid_start="123456",
        host="box",
        worktree="/src/shop-ui",
        branch="ui/fixes",
        cwd="/src/shop-ui/web",
        started_at=1_700_000_000.25,
        last_activity=1_700_000_100.5,
        state=STATE_WORKING,
        task="rename getLabel",
        files=[TouchedFile("web/a.ts", 1_700_000_050.0), TouchedFile("b.py", 1_700_000_060)],
        ended_at=None,
    )


def test_load_accepts_to_json():
    record = full_record()
    assert load(Heartbeat, record.to_json()) == record
    assert load(Heartbeat, json.loads(json.dumps(record.to_json()))) == record
    assert validate(Heartbeat, record.to_json()) == record


def test_load_fills_defaults_and_ignores_unknown_keys():
    data = full_record().to_json()
    for key in ("task", "files", "ended_at", "version"):
        del data[key]
    data["from_a_later_version"] = {"x": 1}
    for parse in (load, validate):
        record = parse(Heartbeat, data)
        assert record.task == "" and record.files == [] and record.ended_at is None
        assert record.version == RECORD_VERSION


def test_whole_numbers_are_accepted_for_times():
    data = full_record().to_json()
    data["started_at"] = 1_700_000_000
    data["ended_at"] = 1_700_000_200
    for parse in (load, validate):
        record = parse(Heartbeat, data)
        assert record.started_at == 1_700_000_000 and record.ended_at == 1_700_000_200


def test_optional_fields_take_null():
    data = full_record().to_json()
    data.update(pid=None, pid_start=None, ended_at=None)
    for parse in (load, validate):
        record = parse(Heartbeat, data)
        assert record.pid is None and record.pid_start is None


BAD = {
    "bool for int": ("pid", True),
    "bool for version": ("version", False),
    "float for int": ("pid", 12.0),
    "str for int": ("pid", "4242"),
    "str for version": ("version", "1"),
    "str for float": ("started_at", "1700000000.0"),
    "bool for float": ("last_activity", True),
    "null for required float": ("started_at", None),
    "null for str": ("name", None),
    "int for str": ("name", 5),
    "int for optional str": ("pid_start", 123456),
    "list for str": ("branch", ["main"]),
    "dict for list": ("files", {"path": "a"}),
    "str for list": ("files", "a.py"),
    "file with str time": ("files", [{"path": "a", "at": "1.0"}]),
    "file without path": ("files", [{"at": 1.0}]),
    "file with bool time": ("files", [{"path": "a", "at": True}]),
    "nan time": ("started_at", float("nan")),
    "infinite time": ("ended_at", float("inf")),
    "time too large for a float": ("last_activity", 10**400),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_load_and_validate_reject_wrong_types(case):
    key, value = BAD[case]
    data = full_record().to_json()
    data[key] = value
    with pytest.raises(Invalid):
        load(Heartbeat, data)
    with pytest.raises(ValueError):  # pydantic's ValidationError
        validate(Heartbeat, data)


@pytest.mark.parametrize(
    "missing",
    [
        "session_id",
        "name",
        "pid",
        "pid_start",
        "host",
        "worktree",
        "branch",
        "cwd",
        "started_at",
        "last_activity",
        "state",
    ],
)
def test_load_and_validate_reject_a_missing_required_field(missing):
    data = full_record().to_json()
    del data[missing]
    with pytest.raises(Invalid, match=missing):
        load(Heartbeat, data)
    with pytest.raises(ValueError):
        validate(Heartbeat, data)


def test_touched_file_alone():
    assert load(TouchedFile, {"path": "a", "at": 1}) == TouchedFile("a", 1)
    assert validate(TouchedFile, {"path": "a", "at": 1.5}) == TouchedFile("a", 1.5)
    for bad in ({"path": "a"}, {"path": 1, "at": 1.0}, {"path": "a", "at": False}):
        with pytest.raises(Invalid):
            load(TouchedFile, bad)
        with pytest.raises(ValueError):
            validate(TouchedFile, bad)


# --- what the hooks really write ----------------------------------------------------------------


@pytest.fixture
def enabled(tmp_path, monkeypatch):
    data = tmp_path / "data"
    monkeypatch.setenv("CLAUDE_PLUGIN_DATA", str(data))
    main = make_repo(tmp_path / "shop")
    Plugin(data).cli("enable", cwd=main, check=True)
    state = gitfiles.enabled_state_dir(gitfiles.locate(main))
    assert state is not None
    return main, Path(state)


def run_hook(name: str, payload: dict) -> None:
    entry.run(name, json.dumps(payload).encode())


def stored(state: Path, session_id: str) -> dict:
    return json.loads((state / f"{session_id}.json").read_bytes())


def check(state: Path, session_id: str) -> Heartbeat:
    raw = stored(state, session_id)
    strict = validate(Heartbeat, raw)
    cheap = load(Heartbeat, raw)
    assert strict == cheap
    assert strict.session_id == session_id
    return strict


def test_every_record_the_hooks_write_validates(enabled, tmp_path, monkeypatch):
    main, state = enabled
    sid = new_session_id()
    with StandIn() as proc:
        monkeypatch.setenv("CLAUDE_PID", str(proc.pid))
        monkeypatch.setenv("CLAUDE_CODE_SESSION_ID", sid)

        run_hook("SessionStart", event("SessionStart", sid, main))
        record = check(state, sid)
        assert record.pid == proc.pid and record.pid_start is not None
        assert record.state == STATE_IDLE

        run_hook("UserPromptSubmit", event("UserPromptSubmit", sid, main, prompt="go"))
        assert check(state, sid).state == STATE_WORKING

        target = main / "README.md"
        run_hook("PreToolUse", edit_event("PreToolUse", sid, main, target))
        run_hook("PostToolUse", edit_event("PostToolUse", sid, main, target))
        check(state, sid)

        git(main, "checkout", "-q", "-b", "feature/x")
        run_hook(
            "PostToolUse",
            event(
                "PostToolUse",
                sid,
                main,
                tool_name="Bash",
                tool_input={"command": "git checkout -b feature/x"},
                tool_use_id="toolu_2",
            ),
        )
        assert check(state, sid).branch == "feature/x"

        run_hook("Stop", event("Stop", sid, main, stop_hook_active=False))
        check(state, sid)

        run_hook("SessionStart", event("SessionStart", sid, main, source="compact"))
        check(state, sid)

        run_hook("SessionEnd", event("SessionEnd", sid, main))
        ended = check(state, sid)
        assert ended.state == STATE_ENDED and ended.ended_at is not None


def test_record_without_pid_from_a_linked_worktree_validates(enabled, tmp_path, monkeypatch):
    main, state = enabled
    linked = add_worktree(main, tmp_path / "shop-ui", "ui/fixes")
    git(linked, "checkout", "-q", "--detach")
    sub = linked / "web"
    sub.mkdir()
    sid = new_session_id()
    run_hook("SessionStart", event("SessionStart", sid, sub))
    record = check(state, sid)
    assert record.pid is None and record.pid_start is None
    assert record.branch.startswith("detached@")
    assert Path(record.worktree) == linked and Path(record.cwd) == sub
    assert record.name == "shop-ui"


def test_hooks_write_nothing_when_not_enabled(tmp_path, monkeypatch):
    monkeypatch.setenv("CLAUDE_PLUGIN_DATA", str(tmp_path / "data"))
    main = make_repo(tmp_path / "quiet")
    assert (
        entry.run(
            "SessionStart", json.dumps(event("SessionStart", new_session_id(), main)).encode()
        )
        is None
    )
    assert not os.path.exists(main / ".claude")
