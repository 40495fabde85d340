"""What SREs read: the status of both kinds, its conditions and their Events, and the
memory read back from it."""
