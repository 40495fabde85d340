"""Plans as the unit tests of status and children make them: a VoiceCapacity as a GitOps tool
applies it (uid, generation, labels), evaluated at a quiet moment, and its rendered HPA."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from support.objects import capacity_body
from voicecap.adapters import children
from voicecap.api.models import VoiceCapacity
from voicecap.core.apply.autoscaler import max_replicas
from voicecap.core.apply.outcome import Outcome
from voicecap.core.planner.observation import Observation
from voicecap.core.planner.plan import Plan, plan

KUBERNETES = "1.32.0"  # the schemas kubernetes-validate checks rendered objects against
NOW = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)  # a Saturday: no peak
OK = Outcome("Reconciled", "HorizontalPodAutoscaler healthcare: minReplicas 3, maxReplicas 40")


def applied_capacity(**spec: object) -> VoiceCapacity:
    """The healthcare VoiceCapacity with the metadata an Argo CD sync leaves on it."""
    body = capacity_body(**spec)
    body["metadata"].update(uid="0b7c5d3e-1111-2222-3333-444455556666", generation=3)
    body["metadata"]["labels"] = {
        "app.kubernetes.io/part-of": "voice",
        "app.kubernetes.io/instance": "argo-app",
        "team": "care",
    }
    return VoiceCapacity.model_validate(body)


def evaluate(vcap: VoiceCapacity, sessions: float | None, ready: int | None = 3, **kw: Any) -> Plan:
    """plan() at NOW (or `at`/`now`), with `memory` if given; other keywords are the
    Observation's (latency=1.1, calibration=...)."""
    at, now, memory = kw.pop("at", NOW), kw.pop("now", NOW), kw.pop("memory", None)
    observation = Observation(sessions=sessions, sampled_at=at, ready_replicas=ready, **kw)
    return plan(vcap, observation, now, memory)


def hpa_for(vcap: VoiceCapacity, decided: Plan) -> dict[str, Any]:
    """The HPA as the operator renders it while the HPA reads its metric (maxReplicas = ceiling)."""
    return children.render_hpa(vcap, decided, max_replicas(decided.floor, decided.ceiling, None))
