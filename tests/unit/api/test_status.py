"""api/status.py: every status field the operator writes is declared, so the API server's pruning keeps it."""

from __future__ import annotations

from support.kube_schema import (
    openapi_schema,
)
from voicecap.api.crd import voicecapacity_crd


def test_every_status_field_is_declared() -> None:
    """A structural schema prunes undeclared fields; the operator's status must survive it."""
    status = openapi_schema(voicecapacity_crd())["properties"]["status"]
    declared = set(status["properties"])
    api_md_fields = {
        "observedGeneration",
        "mode",
        "sessions",
        "replicas",
        "activePeak",
        "nextPeak",
        "tpm",
        "lastEvaluated",
        "conditions",
    }
    assert api_md_fields <= declared
    condition = status["properties"]["conditions"]["items"]["properties"]
    assert {
        "type",
        "status",
        "reason",
        "message",
        "lastTransitionTime",
        "observedGeneration",
    } <= set(condition)
