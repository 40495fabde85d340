"""TokenBudget grants: the allocation, the ledger of grants in effect, plans for a fleet."""
