"""Admission limits: min(ready pods x perPod, TPM ceiling sessions), and when a new limit is
worth a ConfigMap write (lowered at once, raised past 5 %)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from support.objects import capacity_body
from voicecap.api.models import VoiceCapacity
from voicecap.core.apply.admission import (
    Limits,
    Published,
    next_limits,
    parse,
    render,
    worth_publishing,
)
from voicecap.core.planner.observation import Observation
from voicecap.core.planner.plan import plan

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def limit_of(
    ready: int | None, granted: int | None, active: float = 300, fixed: int | None = None
) -> tuple[object, ...]:
    admission = {} if fixed is None else {"maxSessions": fixed}
    # perPod 200, 6000 tokens/call-minute
    vcap = VoiceCapacity.model_validate(capacity_body(admission=admission))
    observed = Observation(
        sessions=active, sampled_at=NOW, ready_replicas=ready, granted_tpm=granted
    )
    result = plan(vcap, observed, NOW).admission
    return () if result is None else (result.max_sessions, result.headroom_sessions, result.reason)


def test_the_limit_follows_ready_pods_and_the_tpm_grant() -> None:
    assert limit_of(ready=4, granted=None) == (800, 500, "Pods")  # no grant known: pods only
    assert limit_of(ready=4, granted=4_800_000) == (800, 500, "Pods")  # 800 calls both: Pods
    assert limit_of(ready=6, granted=4_800_000) == (800, 500, "TPM")  # 1,200 by pods, 800 by TPM
    assert limit_of(ready=6, granted=3_000_000) == (500, 200, "TPM")  # a partial grant: 500 calls
    assert limit_of(ready=1, granted=4_800_000, active=350) == (200, -150, "Pods")  # over it
    assert limit_of(ready=None, granted=4_800_000) == ()  # ready pods unknown: no limit


def test_a_fixed_ceiling_binds_the_limit_and_the_hpa_ceiling() -> None:
    # a trunk of 700 channels under 1,200 calls of pods and 800 of TPM
    assert limit_of(ready=6, granted=4_800_000, fixed=700) == (700, 400, "MaxSessions")
    assert limit_of(ready=3, granted=4_800_000, fixed=700) == (600, 300, "Pods")
    assert limit_of(ready=3, granted=None, fixed=600) == (600, 300, "Pods")  # ties name Pods
    assert limit_of(ready=3, granted=None, fixed=0) == (0, -300, "MaxSessions")  # closed
    trunk = VoiceCapacity.model_validate(capacity_body(admission={"maxSessions": 700}))
    planned = plan(trunk, Observation(sessions=300, sampled_at=NOW, ready_replicas=6), NOW)
    # 700 calls need 4 pods of 200: more would hold pods no call can reach
    assert (planned.ceiling, planned.ceiling_source) == (4, "MaxSessions")
    assert planned.ceiling_sessions == 700
    assert planned.reasons["ceiling"] == "admission.maxSessions: 4 pods (below replicas.max 40)"
    closed = VoiceCapacity.model_validate(capacity_body(admission={"maxSessions": 0}))
    held = plan(closed, Observation(sessions=0, sampled_at=NOW, ready_replicas=2), NOW)
    assert (held.ceiling, held.ceiling_source) == (2, "MinReplicas")  # min wins


@pytest.mark.parametrize(
    ("published", "wanted", "write"),
    [
        (None, 800, True),  # first time
        (800, 800, False),
        (800, 799, True),  # lower: at once, whatever the step
        (800, 839, False),  # higher by less than 5 %
        (800, 840, True),  # 5 %
        (0, 1, True),
        (800, None, False),  # unknown: keep the last
    ],
)
def test_hysteresis(published: int | None, wanted: int | None, write: bool) -> None:
    last = Published(published, "Pods") if published is not None else None
    want = Published(wanted, "Pods") if wanted is not None else None
    assert worth_publishing(last, want) is write


def test_the_same_limit_for_another_reason_is_rewritten() -> None:
    """The ConfigMap's reason matches status: 200 calls by TPM now, not by pods."""
    assert worth_publishing(Published(200, "Pods"), Published(200, "TPM")) is True
    assert worth_publishing(Published(200, "TPM"), Published(205, "Pods")) is False  # held


def test_next_limits_keeps_unknowns_and_drops_verticals_that_left() -> None:
    published = Limits(
        {"a": Published(800, "Pods"), "b": Published(500, "TPM"), "gone": Published(1, "Pods")},
        version=7,
    )
    wanted = {"a": Published(820, "Pods"), "b": None, "new": Published(300, "Pods")}
    assert next_limits(published, wanted) == Limits(
        {"a": Published(800, "Pods"), "b": Published(500, "TPM"), "new": Published(300, "Pods")},
        version=8,
    )
    same = {"a": Published(800, "Pods"), "b": Published(500, "TPM"), "gone": None}
    assert next_limits(published, same) is published  # nothing changed: no new version


def test_a_tier_change_is_written_at_once_and_the_pace_when_it_moves_5_percent() -> None:
    vip = Published(800, "Pods", reserve=(("vip", 50),), calls_per_second=3.0)
    assert worth_publishing(vip, replace(vip, reserve=(("vip", 40),)))
    assert worth_publishing(vip, replace(vip, overflow="Queue"))
    assert not worth_publishing(vip, replace(vip, calls_per_second=3.1))  # +3.3 %
    assert worth_publishing(vip, replace(vip, calls_per_second=2.8))  # -6.7 %
    assert worth_publishing(vip, replace(vip, calls_per_second=None))


def test_a_change_of_ready_pods_is_written_at_once() -> None:
    """Workers admit limit // pods each: a pod more under a TPM limit that does not move would
    let the workers together take more than the grant if `pods` stayed behind."""
    tpm = Published(500, "TPM", pods=5)
    assert worth_publishing(tpm, replace(tpm, pods=6))
    assert worth_publishing(tpm, replace(tpm, pods=4))
    assert not worth_publishing(tpm, replace(tpm))


def test_the_document_round_trips_and_bad_text_reads_as_nothing() -> None:
    limits = Limits(
        {
            "healthcare": Published(1120, "Pods", reserve=(("emergency", 20), ("vip", 50))),
            "sales": Published(500, "TPM", overflow="Queue", calls_per_second=1.875, pods=4),
        },
        version=3,
    )
    assert parse(render(limits)) == limits
    document = json.loads(render(limits))
    assert document["version"] == 3
    assert document["verticals"]["healthcare"] == {
        "maxSessions": 1120,
        "reason": "Pods",
        "overflow": "Reject",
        "reserve": {"emergency": 20, "vip": 50},
    }
    assert document["verticals"]["sales"]["outbound"] == {"callsPerSecond": 1.875}
    assert document["verticals"]["sales"]["pods"] == 4
    for bad in ("not json", None, '{"verticals": 3}'):
        assert parse(bad) == Limits({})


def test_a_config_map_in_another_namespace_is_invalid_with_the_field_named() -> None:
    body = capacity_body(admission={"configMapRef": {"name": "limits", "namespace": "other"}})
    with pytest.raises(ValueError, match=r"spec\.admission\.configMapRef\.namespace: 'other'"):
        VoiceCapacity.model_validate(body)
    same = capacity_body(admission={"configMapRef": {"name": "limits", "namespace": "voice"}})
    assert VoiceCapacity.model_validate(same).spec.admission.config_map_ref is not None
