"""service/retries.py: backoff after API trouble, one probe for the fleet, and everyone released when the API answers again."""

from __future__ import annotations

from voicecap.service.retries import RetryBook


def test_a_success_without_an_api_call_does_not_release_the_waiting() -> None:
    retries = RetryBook(base=60.0, cap=60.0)
    retries.failed("ns/a", None, answered=10)
    assert not retries.recovered(10), "no call answered since the failure"
    assert not retries.due("ns/a")
    assert retries.recovered(11)
    assert retries.due("ns/a")


def test_the_probe_is_the_object_due_soonest_and_only_when_none_is_due() -> None:
    retries = RetryBook(base=100.0, cap=100.0)
    retries.failed("ns/a", 200.0, answered=0)
    retries.failed("ns/b", None, answered=0)  # 50-100 s
    assert retries.probe() == "ns/b"
    retries.failed("ns/c", None, answered=0)
    assert retries.probe(now=10**12) is None, "something is due: no probe needed"


def test_backoff_grows_to_the_cap_and_honours_retry_after() -> None:
    retries = RetryBook(base=1.0, cap=8.0)
    delays = [retries.failed("ns/a", None, answered=0) for _ in range(6)]
    assert all(0.5 <= d <= 8.0 for d in delays)
    assert delays[-1] >= 4.0, "capped at 8 with jitter down to half"
    assert retries.failed("ns/b", 42.0, answered=0) == 42.0
