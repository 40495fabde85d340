"""What the operator measures instead of trusting a declaration: per-pod capacity from latency,
tokens per call-minute from real use, and which of the two numbers a plan counts with."""
