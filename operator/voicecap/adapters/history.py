"""Session history for forecasts, the burst factor and `voicecap replay`, from any store that
speaks the Prometheus HTTP API (Prometheus, Thanos, Mimir, VictoriaMetrics: subqueries and the
`@` modifier are all it needs).

Batched like the live sessions (adapters/prometheus.py): one instant query per window shape,
whose terms are that shape's windows, each a subquery pinned to its window with `@` and tagged:

    label_replace(quantile_over_time(0.99, (SESSIONS)[7200s:60s] @ 1763989199.999),
                  "voicecap_window", "1", "", "")
    or label_replace(... @ <the window a week earlier>, "voicecap_window", "2", "", "") or ...

With the default session query, SESSIONS answers one series per (namespace, vertical), so every
vertical that shares a schedule, zone, duration and quantile costs that one query together. The
subquery steps are whole minutes inside [start, end) (the end is pinned 1 ms early, so a left-
closed and a left-open range select the same steps). Nothing here decides what a value means.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from voicecap.adapters.prometheus import PrometheusClient, QueryFailedError
from voicecap.adapters.prometheus_access import PrometheusAccess
from voicecap.core.peaks.forecast import BURST_WINDOW
from voicecap.core.peaks.shapes import SINGLE, SeriesKey, Span

WINDOW_LABEL = "voicecap_window"
STAT_LABEL = "voicecap_stat"
STEP_SECONDS = 60
# The burst factor's 28 days in 5-minute steps: at 1-minute steps it is 40,320 points per vertical
# per query (4.5 s for 50 verticals in bench/forecast_queries.py), past the timeout at ~300.
BURST_STEP_SECONDS = 300
HISTORY_TIMEOUT_SECONDS = 30.0
# Prometheus refuses a range query of more than 11,000 points per series.
_MAX_POINTS = 10_000


class PrometheusHistory(PrometheusClient):
    """Quantiles inside windows, the burst factor and raw series, each in one query."""

    def __init__(
        self, access: PrometheusAccess | str, *, timeout: float = HISTORY_TIMEOUT_SECONDS
    ) -> None:
        super().__init__(access, timeout=timeout)

    def quantiles(
        self, sessions: str, quantile: float, spans: Sequence[Span], *, batched: bool
    ) -> dict[SeriesKey, dict[str, float]]:
        """{series: {span label: quantile of the session query inside the span}}; spans with no
        data are absent."""

        def query(expr: str) -> str:
            return " or ".join(
                _tagged(
                    f"quantile_over_time({quantile!r}, {_subquery(expr, span.start, span.end)})",
                    WINDOW_LABEL,
                    span.label,
                )
                for span in spans
            )

        result = self._vector_query(query, sessions, batched=batched)
        return _by_label(result, WINDOW_LABEL, batched=batched)

    def week_flags(
        self, refused: str, share: str, quantile: float, spans: Sequence[Span]
    ) -> dict[SeriesKey, dict[str, dict[str, float]]]:
        """Per vertical and week span (batched only): the most calls refused a second
        ("offered") and the quantile of calls served over the admission limit ("censored")."""
        terms = []
        for span in spans:
            refused_most = f"max_over_time({_subquery(f'({refused})', span.start, span.end)})"
            served_share = (
                f"quantile_over_time({quantile!r}, {_subquery(f'({share})', span.start, span.end)})"
            )
            for flag, expr in (("offered", refused_most), ("censored", served_share)):
                terms.append(_tagged(_tagged(expr, WINDOW_LABEL, span.label), STAT_LABEL, flag))
        result = self._query_posted(" or ".join(terms)) if terms else []
        flags: dict[SeriesKey, dict[str, dict[str, float]]] = {}
        for series in result or []:
            labels = series.get("metric", {})
            key = _key(labels, batched=True)
            by_week = flags.setdefault(key, {}).setdefault(labels.get(STAT_LABEL, ""), {})
            by_week[labels.get(WINDOW_LABEL, "")] = float(series["value"][1])
        return flags

    def burst(
        self, sessions: str, at: datetime, *, batched: bool
    ) -> dict[SeriesKey, tuple[float | None, float | None]]:
        """{series: (largest, median)} of the session query over the 28 days before `at`."""
        start = at - BURST_WINDOW

        def query(expr: str) -> str:
            window = _subquery(expr, start, at, step=BURST_STEP_SECONDS)
            return (
                f"{_tagged(f'max_over_time({window})', STAT_LABEL, 'max')} or "
                f"{_tagged(f'quantile_over_time(0.5, {window})', STAT_LABEL, 'median')}"
            )

        result = self._vector_query(query, sessions, batched=batched)
        stats = _by_label(result, STAT_LABEL, batched=batched)
        return {key: (values.get("max"), values.get("median")) for key, values in stats.items()}

    def slowest_scale_ups(self, at: datetime) -> dict[tuple[str, str], float]:
        """{(namespace, vertical): the longest scale-up to Ready pods the operator measured in
        the 28 days before `at`} (its metric voicecap_scale_up_seconds)."""
        query = (
            "max by (namespace, vertical) "
            f"(max_over_time(voicecap_scale_up_seconds[{int(BURST_WINDOW.total_seconds())}s]))"
        )
        found = {}
        for series in self._query(query, at=at) or []:
            labels = series.get("metric", {})
            found[(labels.get("namespace", ""), labels.get("vertical", ""))] = float(
                series["value"][1]
            )
        return found

    def series(
        self,
        sessions: str,
        start: datetime,
        end: datetime,
        *,
        step_seconds: int = STEP_SECONDS,
        batched: bool,
    ) -> dict[SeriesKey, list[tuple[datetime, float]]]:
        """The session query every `step_seconds` over [start, end], in range queries of at
        most 10,000 points each."""
        points: dict[SeriesKey, list[tuple[datetime, float]]] = {}
        chunk = timedelta(seconds=step_seconds * _MAX_POINTS)
        cursor = start
        while cursor <= end:
            upto = min(end, cursor + chunk - timedelta(seconds=step_seconds))
            result = self._query_range(sessions, cursor, upto, step_seconds) or []
            if not batched and len(result) > 1:
                raise QueryFailedError(
                    "QueryError", "the session query answers more than one series"
                )
            for series in result:
                key = _key(series.get("metric", {}), batched=batched)
                points.setdefault(key, []).extend(
                    (datetime.fromtimestamp(float(t), tz=UTC), float(v))
                    for t, v in series["values"]
                )
            cursor = upto + timedelta(seconds=step_seconds)
        return points

    def _vector_query(self, build: Callable[[str], str], sessions: str, *, batched: bool) -> Any:
        """An override may answer a scalar, which a subquery does not take: ask again with
        vector(...) when Prometheus says so."""
        try:
            return self._query_posted(build(f"({sessions})"))
        except QueryFailedError as error:
            if batched or "scalar" not in str(error):
                raise
            return self._query_posted(build(f"vector({sessions})"))


def _subquery(expr: str, start: datetime, end: datetime, *, step: int = STEP_SECONDS) -> str:
    seconds = round((end - start).total_seconds())
    return f"{expr}[{seconds}s:{step}s] @ {end.timestamp() - 0.001:.3f}"


def _tagged(expr: str, label: str, value: str) -> str:
    return f'label_replace({expr}, "{label}", "{value}", "", "")'


def _key(labels: dict[str, str], *, batched: bool) -> SeriesKey:
    return (labels.get("namespace", ""), labels.get("vertical", "")) if batched else SINGLE


def _by_label(result: Any, label: str, *, batched: bool) -> dict[SeriesKey, dict[str, float]]:
    values: dict[SeriesKey, dict[str, float]] = {}
    for series in result or []:
        labels = series.get("metric", {})
        key, tag = _key(labels, batched=batched), labels.get(label, "")
        seen = values.setdefault(key, {})
        if not batched and tag in seen:
            raise QueryFailedError("QueryError", "the session query answers more than one series")
        seen[tag] = float(series["value"][1])
    return values
