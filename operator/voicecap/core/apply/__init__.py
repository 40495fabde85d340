"""What applying a plan checks, writes and finds: the guards, the HPA's report, busy pods
last, the admission limits."""
