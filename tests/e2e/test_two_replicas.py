"""Two replicas on the real control plane, as the chart runs them: Kopf peering elects one writer
(the one that started first, --priority=auto); SIGKILLed, the other takes over within the peering
lifetime, with no floor dip and no duplicate Event. Each replica authenticates with a token of
its own, so the API server's audit log tells their requests apart (credential-id).

A control plane of its own: the session's shared stack runs a standalone operator."""

from __future__ import annotations

import logging
import os
import signal
import time
from collections import Counter
from collections.abc import Iterator

import pytest

from e2e.workloads import NAMESPACE, agent, eventually, hpa_path, vcap_path, voice_capacity
from support.client import Client, Sessions
from support.paths import path_of
from support.real_stack import (
    OPERATOR_NAMESPACE,
    WRITE_VERBS,
    RealStack,
    real_stack,
    service_account_kubeconfig,
)
from support.servers import OperatorProcess

log = logging.getLogger(__name__)
LIFETIME = 15  # --peering-lifetime: a SIGKILLed writer is replaced within this
PEERING = "voicecap-operator"  # the chart's ClusterKopfPeering (release voicecap-operator)
CREDENTIAL = "authentication.kubernetes.io/credential-id"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealStack]:
    if os.environ.get("E2E_KUBECONFIG") or os.environ.get("E2E_STACK", "real") != "real":
        pytest.skip("needs a control plane of its own (the one `make test` starts)")
    with real_stack(tmp_path_factory.mktemp("two-replicas"), start_operator=False) as started:
        yield started
        assert started.forbidden() == [], "\n".join(started.forbidden())


def replica(stack: RealStack, name: str) -> OperatorProcess:
    """`voicecap run` as the chart runs a replica, with a token of its own."""
    kubeconfig = service_account_kubeconfig(
        stack.plane, stack.workdir / f"{name}.kubeconfig", OPERATOR_NAMESPACE, "voicecap-operator"
    )
    return stack.start_operator(
        name,
        kubeconfig=kubeconfig,
        extra=(f"--peering={PEERING}", "--priority=auto", f"--peering-lifetime={LIFETIME}"),
    )


def writes_by_credential(stack: RealStack, since: int) -> dict[str, Counter[str]]:
    """Writes of the operator's user from audit entry `since` on: credential id -> resource."""
    found: dict[str, Counter[str]] = {}
    for event in stack.operator_requests(since):
        if event.get("verb") in WRITE_VERBS:
            credential = (event.get("user", {}).get("extra", {}).get(CREDENTIAL) or ["?"])[0]
            resource = event.get("objectRef", {}).get("resource", "?")
            found.setdefault(credential, Counter())[resource] += 1
    return found


def credentials_of(stack: RealStack, since: int, resource: str) -> set[str]:
    return {c for c, writes in writes_by_credential(stack, since).items() if writes[resource]}


def min_replicas(cluster: Client, name: str) -> int | None:
    hpa = cluster.get(hpa_path(name))
    return None if hpa is None else int(hpa["spec"]["minReplicas"])


def test_one_writer_and_a_takeover_within_the_peering_lifetime(stack: RealStack) -> None:
    cluster = Client.from_kubeconfig(stack.plane.kubeconfig, real=True)
    sessions = Sessions(stack.exporter.url)
    try:
        cluster.ensure_namespace(NAMESPACE)
        cluster.apply(agent("failover-agent"))
        sessions.set(NAMESPACE, "failover", "failover-agent-0", 120)
        first = replica(stack, "replica-a")
        second = replica(stack, "replica-b")  # started later: it stands by
        cluster.apply(voice_capacity("failover", replicas={"min": 3, "max": 12}))
        eventually(lambda: min_replicas(cluster, "failover") == 3, "the writer's HPA")

        since = len(stack.plane.audit_events())
        time.sleep(2 * LIFETIME)  # two keep-alive rounds of steady state
        steady = writes_by_credential(stack, since)
        writers = {c for c, w in steady.items() if sum(w.values()) > w["clusterkopfpeerings"]}
        keepalives = {c: w["clusterkopfpeerings"] for c, w in steady.items()}
        log.info(f"steady {2 * LIFETIME}s: writes by credential {dict(steady)}")
        assert len(keepalives) == 2, steady  # both replicas keep their peering entry alive
        assert len(writers) <= 1, steady  # a steady cycle may write nothing at all
        for count in keepalives.values():  # every lifetime - 5..10 s: 3 to 6 in 30 s
            assert 2 <= count <= 2 * LIFETIME // 5 + 1, steady

        since = len(stack.plane.audit_events())
        cluster.patch(vcap_path("failover"), {"spec": {"replicas": {"min": 4}}})
        eventually(lambda: min_replicas(cluster, "failover") == 4, "the writer follows a change")
        (active,) = credentials_of(stack, since, "horizontalpodautoscalers")

        kill_at = time.monotonic()
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(timeout=10)
        since = len(stack.plane.audit_events())
        cluster.patch(vcap_path("failover"), {"spec": {"replicas": {"min": 5}}})
        floors: list[int] = []

        def taken_over() -> bool:
            floors.append(min_replicas(cluster, "failover") or 0)
            return floors[-1] == 5

        eventually(taken_over, "the standby takes over", timeout=LIFETIME + 30)
        failover = time.monotonic() - kill_at
        log.info(f"failover after SIGKILL: {failover:.1f}s (peering lifetime {LIFETIME}s)")
        assert failover < LIFETIME + 5
        assert min(floors) >= 4, floors  # no floor dip during the handover
        (successor,) = credentials_of(stack, since, "horizontalpodautoscalers")
        assert successor != active

        reasons = Counter(
            (e["reason"], e.get("note"))
            for e in cluster.items(path_of("events.k8s.io/v1", "events", NAMESPACE))
            if e.get("regarding", {}).get("name") == "failover"
        )
        assert reasons and max(reasons.values()) == 1, reasons  # no Event twice
        second.process.poll()
        assert second.process.returncode is None
    finally:
        cluster.close()
