"""Edit awareness: which file an edit names, who else holds it (leases, locks), what a turn
changed in the worktree, and git commands that move HEAD under a peer."""
