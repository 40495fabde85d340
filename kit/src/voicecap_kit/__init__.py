"""voicecap-kit: the agent side of voicecap-operator.

- limits.py     reads the vertical's limits.json (a mounted ConfigMap), keeps the last good one
- admission.py  admit / queue / reject, atomic per process, with reserved pools for tiers
- metrics.py    the metrics contract voicecap reads (voice_active_sessions, ...)
- gateway.py    an ASGI middleware for a WebSocket or HTTP call gateway
- livekit.py    LiveKit Agents: a request_fnc and load_fnc that obey the worker's share

No dependency on the operator: the only contract is limits.json and the metric names
(docs/api.md "Admission", "Metrics contract").
"""

from voicecap_kit.admission import Admission, Decision, Ticket
from voicecap_kit.limits import LimitsError, LimitsFile, VerticalLimits, parse_limits

__all__ = [
    "Admission",
    "Decision",
    "LimitsError",
    "LimitsFile",
    "Ticket",
    "VerticalLimits",
    "parse_limits",
]
