"""Session metrics from Prometheus, batched so that queries per cycle do not grow with objects.

Per evaluation cycle:
- one query for every VoiceCapacity on the default query:
      sum by (namespace, vertical) (voice_active_sessions)
- one query for the newest sample time of each of those verticals (for maxStaleness):
      max by (namespace, vertical) (timestamp(voice_active_sessions))
- one query per distinct override (`spec.sessions.query`), shared by every object that uses it;
- with spec.latency: one query per distinct latency quantile for the vertical's quantile now
  (and one per custom latency query); with spec.model: one for the provider's refusals (429)
  over the last 5 minutes (and one per custom rateLimitedQuery); with sessions.blockingTarget on
  the default query: one per distinct (rejectedQuery, callDuration) for the load the refused
  calls would have held; with admission.outbound: one for the mean call over the last hour (the
  dial pace). A failure of these leaves the value unknown, never the sessions.
Every call has a timeout. Foreign errors become the core's named session states: nothing here
decides what a value means (NaN, negative and stale values are judged by the core).
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from prometheus_api_client import PrometheusConnect
from prometheus_api_client.exceptions import PrometheusApiClientException
from urllib3.util.retry import Retry

from voicecap.adapters.prometheus_access import (
    PrometheusAccess,
    explain,
    explain_status,
    redact,
)
from voicecap.core.measured import queries
from voicecap.core.planner.observation import Observation, SessionsState

SESSIONS_METRIC = "voice_active_sessions"
DEFAULT_QUERY = f"sum by (namespace, vertical) ({SESSIONS_METRIC})"
POD_QUERY = f"sum by (namespace, pod) ({SESSIONS_METRIC})"
FRESHNESS_QUERY = f"max by (namespace, vertical) (timestamp({SESSIONS_METRIC}))"
DEFAULT_TIMEOUT_SECONDS = 3.0
MEAN_CALL_WINDOW = timedelta(hours=1)  # the dial pace's mean call


@dataclass(frozen=True)
class SessionSource:
    """Where one VoiceCapacity's sessions come from."""

    key: str  # namespace/name
    namespace: str
    vertical: str
    query: str = ""  # empty: the default, batched
    latency_quantile: float | None = None  # with spec.latency: watch this quantile
    latency_query: str = ""  # a custom per-pod latency query (empty: the histogram)
    rate_limited: bool = False  # with spec.model: watch the provider's 429s
    rate_limited_query: str = ""  # a custom counter of them (empty: the default)
    refused: bool = False  # with a blocking target: watch the calls refused (offered load)
    rejected_query: str = ""  # a custom counter of them (empty: the default)
    call_seconds: float | None = None  # sessions.callDuration, where declared
    outbound: bool = False  # with admission.outbound: the mean call, for the dial pace


@dataclass(frozen=True)
class QueryRecord:
    query: str
    seconds: float
    outcome: str  # "ok" or a SessionsState naming the failure


class QueryFailedError(Exception):
    def __init__(self, state: SessionsState, detail: str) -> None:
        super().__init__(detail)
        self.state = state


class PrometheusClient:
    """prometheus-api-client with a timeout on every call, no retries, foreign errors mapped to
    the core's named states, and a record of every query (for /metrics and the tests)."""

    def __init__(
        self, access: PrometheusAccess | str, *, timeout: float = DEFAULT_TIMEOUT_SECONDS
    ) -> None:
        access = PrometheusAccess(access) if isinstance(access, str) else access
        self.url = access.url
        self.timeout = timeout
        self._session = access.session()
        # No retries inside a cycle: the next cycle is the retry, and a blind cycle holds the floor.
        self._client = PrometheusConnect(
            url=access.url, retry=Retry(total=0), session=self._session
        )
        self.history: list[QueryRecord] = []

    def close(self) -> None:
        self._client.close()

    def _query(self, query: str, *, at: datetime | None = None) -> Any:
        params = {"time": f"{at.timestamp():.3f}"} if at is not None else None
        return self._call(
            query,
            lambda: self._client.custom_query(query, params=params, timeout=self.timeout),
        )

    def _query_posted(self, query: str, *, at: datetime | None = None) -> Any:
        """An instant query sent as a form body: the history's one query per window shape runs
        to ~25 KB, past the request-line limit of proxies such as nginx (8 KB by default), and
        prometheus-api-client puts the query in the URL even for POST."""

        def post() -> Any:
            form = {"query": query}
            if at is not None:
                form["time"] = f"{at.timestamp():.3f}"
            response = self._session.post(
                f"{self.url.rstrip('/')}/api/v1/query",
                data=form,
                timeout=self.timeout,
                # per request, as prometheus-api-client does: requests lets REQUESTS_CA_BUNDLE
                # in the environment override the session's CA otherwise
                verify=self._session.verify,
                cert=self._session.cert,
            )
            if response.status_code != 200:
                raise PrometheusApiClientException(
                    f"HTTP Status Code {response.status_code} ({response.content!r})"
                )
            return response.json()["data"]["result"]

        return self._call(query, post)

    def _query_range(self, query: str, start: datetime, end: datetime, step_seconds: int) -> Any:
        return self._call(
            query,
            lambda: self._client.custom_query_range(
                query,
                start,
                end,
                f"{step_seconds}s",
                timeout=self.timeout,
            ),
        )

    def _call(self, query: str, request: Callable[[], Any]) -> Any:
        started = time.monotonic()
        outcome = "ok"
        try:
            return request()
        except (requests.ConnectionError, requests.Timeout) as error:
            outcome = "PrometheusUnreachable"
            detail = explain(error) or redact(str(error))
            raise QueryFailedError("PrometheusUnreachable", detail) from error
        except OSError as error:  # a TLS or token file that cannot be read
            outcome = "QueryError"
            raise QueryFailedError("QueryError", explain(error) or redact(str(error))) from error
        except PrometheusApiClientException as error:
            state: SessionsState = (
                "PrometheusUnreachable" if _is_server_error(error) else "QueryError"
            )
            outcome = state
            raise QueryFailedError(state, _status_detail(error)) from error
        except (ValueError, KeyError) as error:  # a body that is not Prometheus' JSON
            outcome = "QueryError"
            raise QueryFailedError("QueryError", f"unexpected answer: {error}") from error
        finally:
            self.history.append(QueryRecord(query, time.monotonic() - started, outcome))


class PrometheusSessions(PrometheusClient):
    """Reads active sessions for many VoiceCapacities with a constant number of queries."""

    def observe(self, sources: Iterable[SessionSource]) -> dict[str, Observation]:
        sources = list(sources)
        self.history.clear()
        observations: dict[str, Observation] = {}
        defaults = [source for source in sources if not source.query]
        if defaults:
            observations.update(self._observe_defaults(defaults))
        overrides: dict[str, list[SessionSource]] = {}
        for source in sources:
            if source.query:
                overrides.setdefault(source.query, []).append(source)
        for query, group in overrides.items():
            observation = self._observe_override(query)
            observations.update({source.key: observation for source in group})
        latency = self._latency(sources)
        refused = self._rate_limited(sources)
        unserved = self._refused_load(sources)
        mean_call = self._mean_call(sources)
        for source in sources:
            if any(source.key in found for found in (latency, refused, unserved, mean_call)):
                observations[source.key] = replace(
                    observations[source.key],
                    latency=latency.get(source.key),
                    rate_limited=refused.get(source.key),
                    refused_load=unserved.get(source.key),
                    mean_call_seconds=mean_call.get(source.key),
                )
        return observations

    def _latency(self, sources: list[SessionSource]) -> dict[str, float]:
        """The latency quantile now of every watched source, one query per (quantile, query)."""
        groups: dict[tuple[float, str], list[SessionSource]] = {}
        for source in sources:
            if source.latency_quantile is not None:
                groups.setdefault((source.latency_quantile, source.latency_query), []).append(
                    source
                )
        found: dict[str, float] = {}
        for (quantile, query), group in groups.items():
            found.update(self._per_vertical(queries.vertical_latency(quantile, query), group))
        return found

    def _rate_limited(self, sources: list[SessionSource]) -> dict[str, float]:
        """429s over the last 5 minutes: one batched query, one per custom counter."""
        found: dict[str, float] = {}
        default = [s for s in sources if s.rate_limited and not s.rate_limited_query]
        if default:
            found.update(self._per_vertical(queries.rate_limited(), default))
        custom: dict[str, list[SessionSource]] = {}
        for source in sources:
            if source.rate_limited and source.rate_limited_query:
                custom.setdefault(source.rate_limited_query, []).append(source)
        for query, group in custom.items():
            found.update(self._single(queries.rate_limited(query), group))
        return found

    def _refused_load(self, sources: list[SessionSource]) -> dict[str, float]:
        """The load refused calls would have held, one batched query per distinct
        (rejectedQuery, callDuration)."""
        groups: dict[tuple[str, float | None], list[SessionSource]] = {}
        for source in sources:
            if source.refused and not source.query:
                groups.setdefault((source.rejected_query, source.call_seconds), []).append(source)
        found: dict[str, float] = {}
        for (rejected, seconds), group in groups.items():
            found.update(self._per_vertical(queries.refused_load(rejected, seconds), group))
        return found

    def _mean_call(self, sources: list[SessionSource]) -> dict[str, float]:
        """The mean call over the last hour of every vertical with a dial pace: one query."""
        paced = [source for source in sources if source.outbound]
        if not paced:
            return {}
        found = self._per_vertical(queries.mean_call_seconds(MEAN_CALL_WINDOW), paced)
        return {key: seconds for key, seconds in found.items() if seconds > 0}

    def _per_vertical(self, query: str, sources: list[SessionSource]) -> dict[str, float]:
        """A batched answer by (namespace, vertical); a failed query leaves them unknown."""
        try:
            values = _by_vertical(self._query(query))
        except QueryFailedError:
            return {}
        found = {}
        for source in sources:
            sample = values.get((source.namespace, source.vertical))
            if sample is not None and math.isfinite(sample[0]):
                found[source.key] = sample[0]
        return found

    def _single(self, query: str, sources: list[SessionSource]) -> dict[str, float]:
        try:
            result = self._query(query)
        except QueryFailedError:
            return {}
        if _is_scalar(result):
            value = _sample(result)[0]
        elif isinstance(result, list) and len(result) == 1:
            value = _sample(result[0]["value"])[0]
        else:
            return {}
        return {source.key: value for source in sources} if math.isfinite(value) else {}

    def pod_sessions(self) -> dict[tuple[str, str], float]:
        """Live calls per (namespace, pod), for ranking pods (one query, every namespace)."""
        result = self._query(POD_QUERY)
        calls = {}
        for series in result or []:
            labels = series.get("metric", {})
            value = float(series["value"][1])
            if math.isfinite(value) and value >= 0:
                calls[(labels.get("namespace", ""), labels.get("pod", ""))] = value
        return calls

    def _observe_defaults(self, sources: list[SessionSource]) -> dict[str, Observation]:
        try:
            sums = _by_vertical(self._query(DEFAULT_QUERY))
            newest = _by_vertical(self._query(FRESHNESS_QUERY))
        except QueryFailedError as failure:
            return {
                source.key: Observation(failure=failure.state, detail=str(failure))
                for source in sources
            }
        observations = {}
        for source in sources:
            sample = sums.get((source.namespace, source.vertical))
            if sample is None:
                observations[source.key] = Observation(failure="NoData")
                continue
            value, evaluated_at = sample
            sampled = newest.get((source.namespace, source.vertical))
            sampled_at = (
                _instant(sampled[0]) if sampled and math.isfinite(sampled[0]) else evaluated_at
            )
            observations[source.key] = Observation(sessions=value, sampled_at=sampled_at)
        return observations

    def _observe_override(self, query: str) -> Observation:
        """An override must answer one number: a scalar or a one-series vector."""
        try:
            result = self._query(query)
        except QueryFailedError as failure:
            return Observation(failure=failure.state, detail=str(failure))
        if _is_scalar(result):
            value, evaluated_at = _sample(result)
            return Observation(sessions=value, sampled_at=evaluated_at)
        if not result:
            return Observation(failure="NoData")
        if len(result) > 1:
            return Observation(failure="MultipleSeries")
        value, evaluated_at = _sample(result[0]["value"])
        return Observation(sessions=value, sampled_at=evaluated_at)


def _is_scalar(result: Any) -> bool:
    """A scalar answer is a bare [time, "value"] pair; a vector is a list of series."""
    return isinstance(result, list) and len(result) == 2 and not isinstance(result[0], dict)


def _by_vertical(result: Any) -> Mapping[tuple[str, str], tuple[float, datetime]]:
    samples: dict[tuple[str, str], tuple[float, datetime]] = {}
    for series in result or []:
        labels = series.get("metric", {})
        key = (labels.get("namespace", ""), labels.get("vertical", ""))
        samples[key] = _sample(series["value"])
    return samples


def _sample(pair: list[Any]) -> tuple[float, datetime]:
    """Prometheus' [unix time, "value"] pair; "NaN" and "+Inf" parse, and the core rejects them."""
    return float(pair[1]), _instant(float(pair[0]))


def _instant(unix_seconds: float) -> datetime:
    return datetime.fromtimestamp(unix_seconds, tz=UTC)


def _status_detail(error: PrometheusApiClientException) -> str:
    """The client says 'HTTP Status Code 400 (b'{"error": ...}')': name what 401 and 403 mean,
    and give the error Prometheus (or a proxy in front of it) wrote, not the raw bytes."""
    text = str(error)
    found = re.match(r"HTTP Status Code (\d+) \((b?)(['\"])(.*)\3\)$", text, re.DOTALL)
    if found is None:
        return redact(text)
    status = int(found.group(1))
    body = found.group(4).encode().decode("unicode_escape") if found.group(2) else found.group(4)
    try:
        said = str(json.loads(body).get("error") or body)
    except (ValueError, AttributeError):
        said = body
    explained = explain_status(status)
    return explained or redact(f"HTTP {status}: {said.strip()[:300]}")


def _is_server_error(error: PrometheusApiClientException) -> bool:
    """The client only says 'HTTP Status Code 503 (...)': 5xx is an outage, 4xx a bad query."""
    return str(error).startswith("HTTP Status Code 5")
