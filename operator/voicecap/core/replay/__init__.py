"""What would have happened: the plan over recorded sessions, beside the HPA alone, KEDA's
cron and an oracle with perfect foresight."""
