"""Kopf's watch streams, made safe to act on: re-listed caches lose what was deleted, a stream
that gives up is restarted, and the operator knows when a cache is not (yet) fresh.

Kopf 1.45 restarts a watch with a fresh LIST after 410 Gone and after a peering pause, but it
only adds what the LIST returns: an object deleted while the stream was away stays in every
index forever (client-go's informers synthesize the deletions: DeletedFinalStateUnknown). And
when a request escalates after all its retries (a 5xx while etcd is down for longer than the
back-offs), the watcher task dies: Kopf logs it and runs on with that index frozen.

`install()` wraps `continuous_watch` (one LIST and then watches, until 410, a pause or an
error), which Kopf's `infinite_watch` calls again whenever it returns:

- every listing is diffed against the objects this stream knew; each one missing gets a
  synthetic DELETED event after the LISTED mark, so indexes and handlers forget it;
- an error that escaped the stream is logged, waited out (capped back-off) and swallowed, so
  `infinite_watch` lists again instead of the task dying;
- `WatchStreams.fresh()` is False from a stream's end until its next listing is complete: the
  fleet cycle does not write from a cache that missed events (docs/reliability.md F7, F23).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kopf._cogs.clients import watching

log = logging.getLogger(__name__)

StreamKey = tuple[str, str | None]  # (resource, namespace)
ObjectKey = tuple[str | None, str | None, str | None]  # Kopf's index key: namespace, name, uid
BACKOFFS = (1.0, 2.0, 5.0, 10.0, 30.0)  # after a stream's error, before it lists again


@dataclass
class _Stream:
    known: dict[ObjectKey, dict[str, Any]] = field(default_factory=dict)  # minimal bodies
    listed: bool = False  # its last listing completed, and it has not ended since
    failures: int = 0  # consecutive errors: the next back-off


class WatchStreams:
    """What every watch stream of this process knows, and whether all of them are fresh."""

    def __init__(self, sleep: Callable[[float], Any] = asyncio.sleep) -> None:
        self._streams: dict[StreamKey, _Stream] = {}
        self._sleep = sleep
        self.restarts = 0  # streams that failed and were restarted
        self.pruned = 0  # objects forgotten because a re-listing no longer had them

    def fresh(self) -> bool:
        """Every stream started so far has completed its listing and not ended since."""
        return all(stream.listed for stream in self._streams.values())

    def stale(self) -> list[str]:
        """The streams that are not fresh, for logs."""
        return [f"{r}@{ns or '*'}" for (r, ns), s in self._streams.items() if not s.listed]

    async def follow(
        self, key: StreamKey, events: AsyncIterator[Any], listed_mark: Any
    ) -> AsyncIterator[Any]:
        """The stream's events, with the deletions its listing implies, and its errors
        swallowed after a back-off (the caller lists again)."""
        stream = self._streams.setdefault(key, _Stream())
        listing: dict[ObjectKey, dict[str, Any]] | None = {}
        try:
            async for event in events:
                if event is listed_mark and listing is not None:  # once per continuous_watch
                    gone = [body for k, body in stream.known.items() if k not in listing]
                    stream.known, listing = listing, None
                    yield event
                    for body in gone:
                        self.pruned += 1
                        yield {"type": "DELETED", "object": body}
                    stream.listed, stream.failures = True, 0
                    continue
                if isinstance(event, Mapping):
                    self._remember(stream.known if listing is None else listing, event)
                yield event
        except Exception as error:  # a stream must never die: see the module
            stream.listed = False
            delay = BACKOFFS[min(stream.failures, len(BACKOFFS) - 1)]
            stream.failures += 1
            self.restarts += 1
            log.error(
                "watch of %s@%s failed (%s); listing again in %.0fs, no writes until then",
                key[0], key[1] or "*", error, delay,
            )  # fmt: skip
            await self._sleep(delay)
        finally:
            stream.listed = False  # ended: 410, a pause, an error or shutdown

    @staticmethod
    def _remember(known: dict[ObjectKey, dict[str, Any]], event: Mapping[str, Any]) -> None:
        body = event.get("object") or {}
        meta = body.get("metadata") or {}
        key = (meta.get("namespace"), meta.get("name"), meta.get("uid"))
        if event.get("type") == "DELETED":
            known.pop(key, None)
        elif key[1] is not None:
            known[key] = {
                "apiVersion": body.get("apiVersion"),
                "kind": body.get("kind"),
                "metadata": {k: meta[k] for k in ("namespace", "name", "uid") if k in meta},
            }


STREAMS = WatchStreams()  # the process's streams (Kopf's watchers are process-wide too)
_ORIGINAL = watching.continuous_watch


def install(streams: WatchStreams = STREAMS) -> None:
    """Wrap Kopf's continuous_watch (the name infinite_watch calls) with `streams`."""

    def continuous_watch(**kwargs: Any) -> AsyncIterator[Any]:
        resource, namespace = kwargs["resource"], kwargs["namespace"]
        return streams.follow(
            (str(resource), namespace), _ORIGINAL(**kwargs), watching.Bookmark.LISTED
        )

    watching.continuous_watch = continuous_watch
