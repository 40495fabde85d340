"""argocd/health.lua in a real Lua 5.1 interpreter (the version Argo CD embeds, via gopher-lua),
on statuses the operator itself builds; and the docs' argocd-cm snippet is that very file."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime
from typing import Any

import pytest

from support.objects import ROOT, capacity_body
from voicecap.api.models import VoiceCapacity, dump
from voicecap.core.apply.outcome import Outcome
from voicecap.core.planner.observation import Observation
from voicecap.core.planner.plan import plan
from voicecap.core.status.capacity import build_status, invalid_status

SCRIPT = ROOT / "argocd" / "health.lua"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def lua_literal(value: Any) -> str:
    """JSON as a Lua table constructor (what Argo CD hands the script as `obj`)."""
    if isinstance(value, dict):
        return (
            "{" + ", ".join(f"[{json.dumps(k)}] = {lua_literal(v)}" for k, v in value.items()) + "}"
        )
    if isinstance(value, list):
        return "{" + ", ".join(lua_literal(item) for item in value) + "}"
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value)


def health(body: dict[str, Any]) -> tuple[str, str]:
    lua = shutil.which("lua5.1")
    if lua is None:
        pytest.fail("lua5.1 is not installed: `make test` installs it with apt-get")
    program = (
        f"obj = {lua_literal(body)}\n"
        f"local hs = dofile({json.dumps(str(SCRIPT))})\n"
        'io.write(hs.status, "\\n", hs.message or "")\n'
    )
    result = subprocess.run(
        [lua, "-"], input=program, capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr
    status, _, message = result.stdout.partition("\n")
    return status, message


def object_with(status: dict[str, Any] | None, generation: int = 3, **spec: Any) -> dict[str, Any]:
    body = capacity_body(**spec)
    body["metadata"]["generation"] = generation
    if status is not None:
        body["status"] = status
    return body


def operator_status(generation: int = 3, **spec: Any) -> dict[str, Any]:
    vcap = VoiceCapacity.model_validate(capacity_body(**spec))
    decided = plan(vcap, Observation(sessions=100, sampled_at=NOW, ready_replicas=2), NOW)
    result = "Paused" if vcap.spec.paused else "Reconciled"
    outcome = Outcome(result, "HorizontalPodAutoscaler healthcare: minReplicas 2")  # type: ignore[arg-type]
    return dump(build_status(decided, outcome, previous=None, generation=generation, now=NOW))


@pytest.mark.tools
def test_ready_for_the_current_generation_is_healthy() -> None:
    status, message = health(object_with(operator_status()))
    assert status == "Healthy"
    assert "minReplicas 2" in message


@pytest.mark.tools
def test_a_generation_the_operator_has_not_answered_is_progressing() -> None:
    status, message = health(object_with(operator_status(generation=2), generation=3))
    assert (status, message) == (
        "Progressing",
        "Waiting for the voicecap operator to observe generation 3",
    )
    assert health(object_with(None))[0] == "Progressing"


@pytest.mark.tools
def test_ready_false_is_degraded_with_the_ready_message() -> None:
    broken = invalid_status(
        "spec.replicas: min (50) must not exceed max (40)", previous=None, generation=3, now=NOW
    )
    status, message = health(object_with(dump(broken)))
    assert status == "Degraded"
    assert message == "InvalidSpec: spec.replicas: min (50) must not exceed max (40)"


@pytest.mark.tools
def test_paused_is_suspended_and_unknown_is_progressing() -> None:
    assert health(object_with(operator_status(paused=True), paused=True))[0] == "Suspended"
    unknown = {
        "observedGeneration": 3,
        "conditions": [{"type": "Ready", "status": "Unknown", "reason": "Pending"}],
    }
    assert health(object_with(unknown))[0] == "Progressing"


def test_the_docs_snippet_is_the_script() -> None:
    readme = (ROOT / "docs" / "install.md").read_text()  # the GitOps section
    indented = "\n".join(f"    {line}" if line else "" for line in SCRIPT.read_text().splitlines())
    assert "resource.customizations.health.voicecap.io_VoiceCapacity: |" in readme
    assert indented in readme, "docs/install.md's argocd-cm snippet differs from argocd/health.lua"
