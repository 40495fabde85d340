"""The service layer: the operator's behaviour between the Kopf handlers and the adapters.

assembly.py         the one place every collaborator is built (handlers and tests call it)
fleet.py            the fleet cycle: every object every --interval, and its loop
reconciler.py       one object: observe -> plan -> guard -> apply -> status -> Events
observer.py         the observe step: everything one plan reads (and the HPA report acted on)
applier.py          the owned HPA and the alert rules of one plan
writer.py           the writing of children (HPA, rules), status and Events
sessions.py         live calls: one batched Prometheus query per cycle
history.py          forecasts and burst factors, refreshed in the background
history_queries.py  the two queries a history refresh makes, timed and counted
config_maps.py      users' ConfigMaps a VoiceCapacity names, read on demand and shared
calendars.py        holiday calendars, read on demand and shared
tenant_caps.py      tenant caps (admission.tenantCaps), read on demand and shared
token_book.py       TokenBudget grants and the ledger of grants in effect
budget_reporter.py  each TokenBudget's status and gauges, once per cycle
admission.py        the admission ConfigMaps the call gateways read
busy_pods.py        pod-deletion-cost before a workload shrinks
retries.py          backoff after API trouble, released when the API answers again
peering.py          whether this replica may write (Kopf's peering rule)
ports.py            Protocols of the adapters it uses (Kube, SessionMetrics, History) and of
                    every per-object cache (Forgetting)
world.py            what the watch caches know (a Protocol)
clock.py            wall-clock or a compressed demo timeline
"""
