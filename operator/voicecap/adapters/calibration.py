"""The background questions of measured inputs, each one query for the whole fleet
(core/measured/queries.py has their PromQL): each pod's latency by the calls it carried, binned on
the server; the tokens used and the call-minutes served over the calibration window."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from voicecap.adapters.prometheus import PrometheusClient
from voicecap.adapters.prometheus_access import PrometheusAccess
from voicecap.core.measured import queries
from voicecap.core.measured.knee import LoadBin
from voicecap.core.peaks.shapes import SINGLE, SeriesKey

CALIBRATION_TIMEOUT_SECONDS = 60.0  # the binned query reads days of every pod's samples
STEP = timedelta(minutes=5)


class PrometheusCalibration(PrometheusClient):
    """Latency by load and token use, batched by (namespace, vertical)."""

    def __init__(
        self, access: PrometheusAccess | str, *, timeout: float = CALIBRATION_TIMEOUT_SECONDS
    ) -> None:
        super().__init__(access, timeout=timeout)

    def latency_bins(
        self, quantile: float, window: timedelta, at: datetime, *, query: str = ""
    ) -> dict[SeriesKey, list[LoadBin]]:
        """Per vertical: the median latency quantile of the pods carrying each load, and the
        5-minute samples behind it, over `window` before `at`. Raises QueryFailedError."""
        text = queries.latency_by_load(quantile, window, STEP, query)
        result = self._query_posted(text, at=at)
        stats: dict[tuple[SeriesKey, str], dict[str, float]] = {}
        for series in result or []:
            labels = series.get("metric", {})
            key = (labels.get("namespace", ""), labels.get("vertical", ""))
            where = stats.setdefault((key, labels.get(queries.LOAD_BIN_LABEL, "")), {})
            where[labels.get(queries.STAT_LABEL, "")] = float(series["value"][1])
        found: dict[SeriesKey, list[LoadBin]] = {}
        for (key, label), values in stats.items():
            latency, samples = values.get("latency"), values.get("samples")
            if label and latency is not None and samples and math.isfinite(latency):
                found.setdefault(key, []).append(
                    LoadBin(queries.bin_load(label), latency, int(samples))
                )
        return found

    def token_use(
        self, window: timedelta, at: datetime, *, usage: str = "", sessions: str = ""
    ) -> dict[SeriesKey, tuple[float | None, float | None]]:
        """Per vertical (SINGLE for custom queries): (tokens used, call-minutes served) over
        `window` before `at`. Raises QueryFailedError."""
        used = self._values(queries.tokens_used(window, usage), at, batched=not usage)
        served = self._values(queries.call_minutes(window, sessions), at, batched=not sessions)
        return {key: (used.get(key), served.get(key)) for key in used.keys() | served.keys()}

    def _values(self, query: str, at: datetime, *, batched: bool) -> dict[SeriesKey, float]:
        found: dict[SeriesKey, float] = {}
        for series in self._query(query, at=at) or []:
            if not isinstance(series, dict):
                continue
            labels: dict[str, Any] = series.get("metric", {})
            key = (labels.get("namespace", ""), labels.get("vertical", "")) if batched else SINGLE
            value = float(series["value"][1])
            if math.isfinite(value):
                found[key] = value
        return found
