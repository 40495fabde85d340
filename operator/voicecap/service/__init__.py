"""The service layer: the operator's behaviour between the Kopf handlers and the adapters.

fleet.py       the fleet cycle (every object every --interval) and its loop
reconciler.py  one reconcile: observe -> plan -> guard -> apply -> status -> Events
sessions.py    the session cache: one batched Prometheus query per cycle
token_book.py  TokenBudget grants, the ledger of grants in effect, budget statuses
writer.py      the writing of children (HPA, rules), status and Events
retries.py     backoff after API trouble, with prompt release when the API answers again
peering.py     whether this replica may write (Kopf's peering rule)
world.py       what the watch caches know (a Protocol)
clock.py       wall-clock or a compressed demo timeline
"""
