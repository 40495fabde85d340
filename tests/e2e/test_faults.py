"""Faults on the real control plane, at 20 objects (bench/faults.py runs every fault at 500):
a watch answered 410 Gone lists again and forgets what was deleted while it was away, and a
metric blip (prometheus-adapter away for one or two HPA syncs) writes nothing but the changes
made during it. A control plane of its own: faults would disturb the shared one."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from support import fault_fleet
from support.fault_fleet import Fleet

OBJECTS, CHANGED = 20, 5


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    if os.environ.get("E2E_KUBECONFIG") or os.environ.get("E2E_STACK", "real") != "real":
        pytest.skip("needs a control plane of its own (the one `make test` starts)")
    started = Fleet(
        tmp_path_factory.mktemp("faults"), OBJECTS, changed=CHANGED, interval="2s", hpa_sync="3s"
    )
    try:
        started.populate()
        started.start_operator()
        started.converge(timeout=300)
        yield started
        assert started.stack.forbidden() == [], "\n".join(started.stack.forbidden())
    finally:
        started.close()


def test_a_metric_blip_writes_only_the_changes_made_during_it(fleet: Fleet) -> None:
    """20 s without prometheus-adapter: several failed HPA syncs (3 s here), every HPA says it
    cannot read its metric, and all of it is under the 45 s grace. Before the grace, every HPA's maxReplicas was capped and restored (2 HPA patches, 2
    status patches and 2 Events per object)."""
    row = fault_fleet.stopped(fleet, "prometheus-adapter", 20)
    assert row.unread == OBJECTS  # the blip was felt by every HPA
    assert row.recovered is not None and row.lost == 0
    assert row.decreases == 0
    assert dict(row.by_resource) == {
        "horizontalpodautoscalers": CHANGED,
        "voicecapacities": CHANGED,  # their status
    }, row


def test_a_watch_answered_410_gone_lists_again_and_forgets_the_deleted(fleet: Fleet) -> None:
    row = fault_fleet.watch_gone(fleet, deleted=4)
    assert row.lists > 0  # the watches listed again
    assert row.pruned >= 4  # the deleted VoiceCapacities (and their HPAs, rule ConfigMaps)
    assert row.known == fleet.size == OBJECTS - 4
    assert row.recovered is not None and row.lost == 0
    assert row.decreases == 0
    assert set(row.by_resource) <= {"horizontalpodautoscalers", "voicecapacities"}, row
