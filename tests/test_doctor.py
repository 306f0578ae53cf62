"""`huddle doctor` names each problem and its fix."""

from __future__ import annotations

import json
import os

from tests.helpers import Plugin, StandIn, event, make_repo, new_session_id


def checks(plugin, cwd):
    done = plugin.cli("doctor", "--json", cwd=cwd)
    return {c["what"]: c for c in json.loads(done.stdout)}, done.returncode


def test_not_enabled_says_how_to_enable(tmp_path):
    repo = make_repo(tmp_path / "repo")
    found, _ = checks(Plugin(tmp_path / "data"), repo)
    assert found["state directory"]["status"] == "warn"
    assert found["state directory"]["fix"] == "huddle enable"


def test_enabled_repository_reports_state_dir_and_hook_times(tmp_path):
    repo = make_repo(tmp_path / "repo")
    plugin = Plugin(tmp_path / "data")
    plugin.cli("enable", cwd=repo, check=True)
    found, _ = checks(plugin, repo)
    assert found["state directory"]["status"] == "ok"
    assert found["hooks last ran here"]["detail"] == "never"
    with StandIn() as proc:
        plugin.hook(
            "SessionStart", event("SessionStart", new_session_id(), repo), cwd=repo, pid=proc.pid
        )
    found, _ = checks(plugin, repo)
    ran = found["hooks last ran here"]
    assert ran["status"] == "ok"
    assert "SessionStart just now" in ran["detail"] and "SessionEnd never" in ran["detail"]


def test_loose_permissions_make_hooks_ignore_the_state_and_doctor_says_the_fix(tmp_path):
    repo = make_repo(tmp_path / "repo")
    plugin = Plugin(tmp_path / "data")
    plugin.cli("enable", cwd=repo, check=True)
    state = repo / ".claude" / "sessions"
    os.chmod(state, 0o755)
    found, code = checks(plugin, repo)
    assert found["state directory"]["status"] == "fail" and code == 1
    assert "has mode 755, not 700" in found["state directory"]["detail"]
    assert found["state directory"]["fix"] == f"chmod 700 {state}"


def test_symlinked_state_dir_fails(tmp_path):
    repo = make_repo(tmp_path / "repo")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (repo / ".claude").mkdir()
    os.symlink(elsewhere, repo / ".claude" / "sessions")
    found, code = checks(Plugin(tmp_path / "data"), repo)
    assert found["state directory"]["status"] == "fail"
    assert code == 1


def test_installed_plugin_is_reported_with_its_version(tmp_path):
    repo = make_repo(tmp_path / "repo")
    plugin = Plugin(tmp_path / "data")
    found, _ = checks(plugin, repo)
    assert found["plugin installed"]["status"] == "warn"
    registry = tmp_path / "home" / ".claude" / "plugins" / "installed_plugins.json"
    registry.parent.mkdir(parents=True)
    registry.write_text(
        json.dumps(
            {
                "version": 2,
                "plugins": {
                    "huddle@huddle": [{"scope": "user", "installPath": "/x", "version": "0.1.0"}]
                },
            }
        )
    )
    plugin.env["HOME"] = str(tmp_path / "home")
    found, _ = checks(plugin, repo)
    assert found["plugin installed"]["status"] == "ok"
    assert "huddle@huddle 0.1.0" in found["plugin installed"]["detail"]


def test_missing_venv_is_explained(tmp_path):
    repo = make_repo(tmp_path / "repo")
    found, _ = checks(Plugin(tmp_path / "data"), repo)
    venv = found["plugin venv"]
    assert venv["status"] == "warn" and "does not exist yet" in venv["detail"]
    assert "SessionStart" in venv["fix"]


def test_human_output_lists_fixes(tmp_path):
    repo = make_repo(tmp_path / "repo")
    out = Plugin(tmp_path / "data").cli("doctor", cwd=repo).stdout
    assert "fix: huddle enable" in out
    assert "thing(s) to look at" in out


def test_git_and_the_worktrees_git_lists_are_reported(tmp_path):
    import shutil
    import subprocess

    from tests.helpers import add_worktree

    repo = make_repo(tmp_path / "shop")
    add_worktree(repo, tmp_path / "shop-ui", "ui/fixes")
    gone = add_worktree(repo, tmp_path / "shop-old", "old")
    plugin = Plugin(tmp_path / "data")
    found, _ = checks(plugin, repo)
    version = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout
    assert found["git"]["status"] == "ok"
    assert found["git"]["detail"].split()[-1] in version
    assert found["worktrees"] == {
        "status": "ok",
        "what": "worktrees",
        "detail": "3 (main checkout, ../shop-old, ../shop-ui)",
        "fix": "",
    }
    shutil.rmtree(gone)
    found, _ = checks(plugin, tmp_path / "shop-ui")
    assert found["worktrees"]["status"] == "warn"
    assert "the folders of ../shop-old are gone" in found["worktrees"]["detail"]
    assert found["worktrees"]["fix"] == "git worktree prune"
