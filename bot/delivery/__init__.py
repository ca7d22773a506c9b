"""Getting messages out: the rate-limited sender, the outbox drain, the scheduler, the leader."""
