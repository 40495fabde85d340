"""The PromQL of measured inputs, as pure text: what the operator asks Prometheus each cycle (the
vertical's latency quantile now, the provider's refusals), in the background (per-pod latency by
load, tokens used, call-minutes, the mean call duration, calls refused) and in its alert rules.

Defaults are batched by (namespace, vertical), as the session query is: one query serves every
VoiceCapacity on the default metric. Every window is 5m or more, so the queries work at
Prometheus' default 1-minute scrape interval. The metric names are docs/api.md's contract.
"""

from __future__ import annotations

from datetime import timedelta

TTFB = "voice_ttfb_seconds"  # histogram, per pod
SESSIONS = "voice_active_sessions"  # gauge, per pod
REJECTED = "voice_calls_rejected_total"  # counter, per vertical
CALL_DURATION = "voice_call_duration_seconds"  # histogram
TOKENS = "voice_model_tokens_total"  # counter
RATE_LIMITED = "voice_model_rate_limited_total"  # counter
BY_VERTICAL = "namespace, vertical"
RATE_WINDOW = "5m"
LOAD_BIN_LABEL = "voicecap_load_bin"
STAT_LABEL = "voicecap_stat"
BINS_PER_E = 20  # load bins: round(ln(calls) x 20), about 5 % wide


def seconds(window: timedelta) -> str:
    return f"{int(window.total_seconds())}s"


# ---------------------------------------------------------------- each cycle


def vertical_latency(quantile: float, query: str = "") -> str:
    """The vertical's latency quantile now, in seconds: from the histogram summed over its pods
    (default, batched), or the median of a custom per-pod query's pods."""
    if query:
        return f"quantile by ({BY_VERTICAL}) (0.5, ({query}))"
    return (
        f"histogram_quantile({quantile!r}, sum by ({BY_VERTICAL}, le) "
        f"(rate({TTFB}_bucket[{RATE_WINDOW}])))"
    )


def rate_limited(query: str = "") -> str:
    """The provider's refusals (429) over the last 5 minutes."""
    if query:
        return f"sum(increase(({query})[{RATE_WINDOW}:1m]))"
    return f"sum by ({BY_VERTICAL}) (increase({RATE_LIMITED}[{RATE_WINDOW}]))"


# ---------------------------------------------------------------- in the background


def pod_latency(quantile: float, query: str = "") -> str:
    """Each pod's latency quantile (labels namespace, vertical, pod)."""
    if query:
        return f"({query})"
    return (
        f"histogram_quantile({quantile!r}, sum by ({BY_VERTICAL}, pod, le) "
        f"(rate({TTFB}_bucket[{RATE_WINDOW}])))"
    )


def latency_by_load(quantile: float, window: timedelta, step: timedelta, query: str = "") -> str:
    """Per (namespace, vertical, load bin) over `window`: the median latency quantile of the
    pods carrying that many calls, and the number of `step` samples. One query for the fleet:
    each pod's calls are binned on the server (count_values of round(ln(calls) x 20)), so the
    answer is a few dozen numbers per vertical however many pods and days."""
    bins = (
        f'count_values by ({BY_VERTICAL}, pod) ("{LOAD_BIN_LABEL}", '
        f"round(ln(sum by ({BY_VERTICAL}, pod) ({SESSIONS}) > 0) * {BINS_PER_E}))"
    )
    by_bin = (
        f"avg by ({BY_VERTICAL}, {LOAD_BIN_LABEL}) ({pod_latency(quantile, query)} "
        f"* on ({BY_VERTICAL}, pod) group_left ({LOAD_BIN_LABEL}) {bins})"
    )
    span = f"[{seconds(window)}:{seconds(step)}]"
    return (
        f'label_replace(quantile_over_time(0.5, ({by_bin}){span}), "{STAT_LABEL}", "latency", '
        f'"", "") or label_replace(count_over_time(({by_bin}){span}), "{STAT_LABEL}", '
        f'"samples", "", "")'
    )


def bin_load(label: str) -> float:
    """The calls per pod in the middle of a load bin."""
    import math  # noqa: PLC0415

    return math.exp(float(label) / BINS_PER_E)


def tokens_used(window: timedelta, query: str = "") -> str:
    """Model tokens used over `window`."""
    if query:
        return f"sum(increase(({query})[{seconds(window)}:1m]))"
    return f"sum by ({BY_VERTICAL}) (increase({TOKENS}[{seconds(window)}]))"


def call_minutes(window: timedelta, sessions: str = "") -> str:
    """Call-minutes served over `window`: the live calls summed minute by minute."""
    live = f"({sessions})" if sessions else f"sum by ({BY_VERTICAL}) ({SESSIONS})"
    return f"sum_over_time({live}[{seconds(window)}:1m])"


def mean_call_seconds(window: timedelta) -> str:
    """The mean call duration over `window`, from the duration histogram."""
    return (
        f"sum by ({BY_VERTICAL}) (increase({CALL_DURATION}_sum[{seconds(window)}])) / "
        f"sum by ({BY_VERTICAL}) (increase({CALL_DURATION}_count[{seconds(window)}]))"
    )


def refused_rate(rejected: str = "") -> str:
    """Calls refused for lack of capacity, per second (batched by vertical)."""
    if rejected:
        return f"rate(({rejected})[{RATE_WINDOW}:1m])"
    return f"sum by ({BY_VERTICAL}) (rate({REJECTED}[{RATE_WINDOW}]))"


def refused_load(rejected: str = "", declared_call_seconds: float | None = None) -> str:
    """The concurrency the refused calls would have held (batched by vertical): refused a second
    x the mean call duration measured over the last hour, else declared (sessions.callDuration);
    no series where nothing counts refusals."""
    refused = refused_rate(rejected)
    holding = f"({refused} * on ({BY_VERTICAL}) ({mean_call_seconds(timedelta(hours=1))}))"
    if declared_call_seconds is not None:
        holding = f"({holding} or on ({BY_VERTICAL}) ({refused} * {declared_call_seconds!r}))"
    return holding


def offered(
    sessions: str, *, batched: bool, declared_call_seconds: float | None, rejected: str = ""
) -> str:
    """Calls offered, as concurrency: the calls served plus the refused ones, each held for a mean
    call (Erlang's carried + lost load: E_offered = E_carried + lambda_refused x h). Batched (the
    default session query): refusals from voice_calls_rejected_total and the mean duration
    measured over the last hour, else declared (sessions.callDuration); where nothing is refused,
    the calls served. `sessions` is the session query."""
    served = f"({sessions})"
    if not batched:
        return served  # an override's one series has no vertical to match refusals against
    holding = refused_load(rejected, declared_call_seconds)
    return f"({served} + on ({BY_VERTICAL}) ({holding} or on ({BY_VERTICAL}) ({served} * 0)))"


def served_share_of_limit(sessions: str) -> str:
    """Calls served over the admission limit the operator published then (its own gauge): a
    week whose quantile of this reaches 0.95 was served at its limit (censored)."""
    limit = f"max by ({BY_VERTICAL}) (voicecap_admission_limit_sessions)"
    return f"(({sessions}) / on ({BY_VERTICAL}) ({limit} > 0))"
