"""What a session is told: notes and messages, their delivery, the digest of peers, and the
state restored after compaction."""
