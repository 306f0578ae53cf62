# Sourced by hooks/run and hooks/companion: is huddle enabled where a session works, and which
# Python runs it. Plain sh that starts no process: hooks/run runs on every tool call.

# huddle_common DIR: set $common to the git directory that all worktrees of the repository
# holding DIR share (huddle's mark lives there); fail outside a repository.
huddle_common() {
    common=
    dir=$1
    while :; do
        if [ -d "$dir/.git" ]; then
            common=$dir/.git
            return 0
        elif [ -f "$dir/.git" ]; then
            # `|| [ -n ... ]`: a file without a final newline still holds its line.
            IFS= read -r line < "$dir/.git" || [ -n "$line" ] || return 1
            gitdir=${line#gitdir: }
            case $gitdir in /*) ;; *) gitdir=$dir/$gitdir ;; esac
            if [ -f "$gitdir/commondir" ]; then
                IFS= read -r shared < "$gitdir/commondir" || [ -n "$shared" ] || return 1
                case $shared in /*) common=$shared ;; *) common=$gitdir/$shared ;; esac
            else
                common=$gitdir
            fi
            return 0
        fi
        [ -n "$dir" ] || return 1
        dir=${dir%/*}
    done
}

# huddle_enabled DIR: whether huddle's mark is there for DIR's repository.
huddle_enabled() {
    huddle_common "$1" && [ -f "$common/huddle-enabled" ]
}

# huddle_python DATA: set $py to the interpreter for huddle, with the plugin's data directory
# DATA (may be empty) holding its bytecode cache and its venv.
huddle_python() {
    py=python3
    if [ -n "$1" ] && [ -d "$1" ] && [ -w "$1" ]; then
        # Bytecode goes to the plugin's data directory (its own folder is not ours to write),
        # and is always written there: without a cache every call would compile huddle's
        # modules, and with an unwritten prefix the standard library's too.
        PYTHONPYCACHEPREFIX=$1/pycache
        export PYTHONPYCACHEPREFIX
        unset PYTHONDONTWRITEBYTECODE
        if [ -x "$1/venv/bin/python" ]; then
            py=$1/venv/bin/python
        elif [ -r "$1/python" ]; then
            # The interpreter SessionStart found behind `python3`: version-manager shims on
            # PATH (pyenv, asdf) cost more than the whole hook.
            IFS= read -r found < "$1/python" && [ -x "$found" ] && py=$found
        fi
    fi
    command -v "$py" >/dev/null 2>&1
}
