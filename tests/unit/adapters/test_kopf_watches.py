"""Watch streams: re-listings forget what was deleted meanwhile, a failed stream lists again,
and the caches are fresh only between a completed listing and the stream's end."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import kopf
import pytest
from kopf._cogs.clients import watching

from voicecap.adapters import kopf_watches
from voicecap.adapters.kopf_watches import WatchStreams

async_test = pytest.mark.asyncio
LISTED = watching.Bookmark.LISTED
KEY = ("voicecapacities.v1alpha1.voicecap.io", None)


def obj(name: str, uid: str | None = None, namespace: str = "voice") -> dict[str, Any]:
    return {
        "apiVersion": "voicecap.io/v1alpha1",
        "kind": "VoiceCapacity",
        "metadata": {"namespace": namespace, "name": name, "uid": uid or f"uid-{name}"},
        "spec": {"large": "x" * 100},
    }


async def stream(*events: Any, error: Exception | None = None) -> AsyncIterator[Any]:
    for event in events:
        yield event
    if error is not None:
        raise error


async def collect(streams: WatchStreams, *events: Any, error: Exception | None = None) -> list:
    return [e async for e in streams.follow(KEY, stream(*events, error=error), LISTED)]


def deleted(events: list[Any]) -> list[tuple[str, str]]:
    return [
        (e["object"]["metadata"]["name"], e["object"]["metadata"]["uid"])
        for e in events
        if isinstance(e, dict) and e["type"] == "DELETED"
    ]


@async_test
async def test_a_relisting_deletes_what_it_no_longer_lists_after_the_listed_mark() -> None:
    streams = WatchStreams()
    first = await collect(
        streams,
        {"type": None, "object": obj("a")},
        {"type": None, "object": obj("b")},
        LISTED,
        {"type": "ADDED", "object": obj("c")},
        {"type": "DELETED", "object": obj("a")},
    )
    assert deleted(first) == [("a", "uid-a")]  # only the real one
    # 410 Gone: Kopf lists again. b was deleted, c re-created under a new uid while away.
    second = await collect(streams, {"type": None, "object": obj("c", uid="uid-c2")}, LISTED)
    assert second[:2] == [{"type": None, "object": obj("c", uid="uid-c2")}, LISTED]
    assert sorted(deleted(second)) == [("b", "uid-b"), ("c", "uid-c")]
    gone = second[2]["object"]
    assert gone["metadata"] == {"namespace": "voice", "name": "b", "uid": "uid-b"}
    assert "spec" not in gone  # only what Kopf needs to find it: its index key
    assert streams.pruned == 2
    third = await collect(streams, {"type": None, "object": obj("c", uid="uid-c2")}, LISTED)
    assert deleted(third) == []


@async_test
async def test_fresh_only_from_a_completed_listing_to_the_stream_end() -> None:
    streams = WatchStreams()
    seen: list[bool] = []
    async for _event in streams.follow(
        KEY,
        stream(
            {"type": None, "object": obj("a")}, LISTED, {"type": "MODIFIED", "object": obj("a")}
        ),
        LISTED,
    ):
        seen.append(streams.fresh())
    assert seen == [False, False, True]  # fresh once its deletions are out, too
    assert not streams.fresh()  # ended (410, a pause): not fresh until the next listing
    assert streams.stale() == [f"{KEY[0]}@*"]
    relisted = streams.follow(KEY, stream(LISTED, {"type": "ADDED", "object": obj("b")}), LISTED)
    assert await anext(relisted) is LISTED
    assert deleted([await anext(relisted)]) == [("a", "uid-a")]  # not in the new listing
    assert await anext(relisted) == {"type": "ADDED", "object": obj("b")}
    assert streams.fresh()
    await relisted.aclose()
    assert not streams.fresh()


@async_test
async def test_a_stream_that_gives_up_is_swallowed_after_a_growing_back_off() -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    streams = WatchStreams(sleep=sleep)
    await collect(streams, {"type": None, "object": obj("a")}, LISTED)
    boom = kopf._cogs.clients.errors.APIServerError(
        {"code": 503, "message": "etcd down"}, status=503, headers={}
    )
    for _ in range(7):
        assert await collect(streams, error=boom) == []
        assert not streams.fresh()
    assert waits == [1.0, 2.0, 5.0, 10.0, 30.0, 30.0, 30.0]
    assert streams.restarts == 7
    await collect(streams, {"type": None, "object": obj("a")}, LISTED)
    await collect(streams, error=boom)
    assert waits[-1] == 1.0  # a success resets the back-off


@async_test
async def test_installed_where_kopfs_infinite_watch_calls_it(monkeypatch) -> None:
    """Kopf's own infinite_watch restarts the stream after an error instead of dying."""
    calls: list[int] = []

    def original(**_: Any) -> AsyncIterator[Any]:
        calls.append(1)
        if len(calls) == 1:
            return stream({"type": None, "object": obj("a")}, LISTED, error=RuntimeError("gone"))
        return stream(LISTED)

    async def no_sleep(_: float) -> None:
        return None

    streams = WatchStreams(sleep=no_sleep)
    monkeypatch.setattr(kopf_watches, "_ORIGINAL", original)
    monkeypatch.setattr(watching, "continuous_watch", watching.continuous_watch)
    kopf_watches.install(streams)
    resource = kopf.Resource("voicecap.io", "v1alpha1", "voicecapacities", namespaced=True)
    events = [
        e
        async for e in watching.infinite_watch(
            settings=kopf.OperatorSettings(), resource=resource, namespace=None, _iterations=2
        )
    ]
    assert len(calls) == 2
    assert deleted(events) == [("a", "uid-a")]
    assert events.count(LISTED) == 2


@async_test
async def test_the_counts_are_on_metrics() -> None:
    from voicecap.adapters.metrics import OperatorMetrics  # noqa: PLC0415

    streams, metrics = WatchStreams(), OperatorMetrics()
    metrics.watch_streams(streams)
    await collect(streams, {"type": None, "object": obj("a")}, LISTED)
    await collect(streams, LISTED)
    sample = metrics.registry.get_sample_value
    assert sample("voicecap_watch_pruned_objects_total") == 1
    assert sample("voicecap_watch_restarts_total") == 0
    assert sample("voicecap_watch_streams_stale") == 1  # ended, not listed again yet
