"""core/autoscaler: a metric loss the HPA reports counts once it is `grace` old; a blip (one
failed sync) keeps the conditions voicecap last acted on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from voicecap.core.apply.autoscaler import HPACondition, HPAReport, max_replicas, settled

NOW = datetime(2026, 12, 4, 9, tzinfo=UTC)
GRACE = timedelta(seconds=45)
SCALING = HPAReport((HPACondition("ScalingActive", "True", "ValidMetricFound"),))


def lost(ago: float | None) -> HPAReport:
    since = None if ago is None else NOW - timedelta(seconds=ago)
    return HPAReport(
        (HPACondition("ScalingActive", "False", "FailedGetPodsMetric", since=since),),
        current_replicas=7,
    )


@pytest.mark.parametrize(
    ("report", "acted", "held"),
    [
        (lost(15), SCALING, True),  # one failed sync after scaling: a blip
        (lost(44.9), SCALING, True),
        (lost(45), SCALING, False),  # grace over: the loss counts
        (lost(15), None, False),  # nothing acted on yet (a restart, a new HPA): it counts
        (lost(15), lost(200), False),  # already lost: stays lost
        (lost(None), SCALING, False),  # no transition time: no way to tell its age
    ],
)
def test_a_young_metric_loss_after_scaling_keeps_the_last_conditions(
    report: HPAReport, acted: HPAReport | None, held: bool
) -> None:
    acted_on = settled(report, acted, now=NOW, grace=GRACE)
    assert acted_on is not None
    assert acted_on.metric_unavailable is not held
    assert acted_on.current_replicas == 7  # sizes stay live: only the verdict waits
    if held:
        assert acted_on.conditions == SCALING.conditions
        assert max_replicas(3, 40, acted_on) == 40  # no cap, no restore: no write
    else:
        assert max_replicas(3, 40, acted_on) == 3


def test_a_report_that_reads_its_metric_is_taken_as_it_is() -> None:
    assert settled(SCALING, lost(100), now=NOW, grace=GRACE) is SCALING
    assert settled(None, SCALING, now=NOW, grace=GRACE) is None


def test_max_replicas_never_below_one_or_the_floor() -> None:
    report = HPAReport((HPACondition("ScalingActive", "False", "FailedGetPodsMetric"),))
    assert max_replicas(0, 5, report) == 1
    assert max_replicas(4, 2, None) == 4
