"""The voicecap Grafana dashboard, built with Grafana's own grafana-foundation-sdk.

    .venv/bin/python dashboards/build.py          # dashboards/voicecap.json and the chart copy
    .venv/bin/python dashboards/build.py --check  # fails when the committed JSON is stale

Every panel reads the operator's /metrics (docs/api.md "Metrics contract") and the voice pods'
voice_active_sessions, filtered by the $namespace and $vertical variables;
tests/integration/test_dashboard.py runs every query against a real Prometheus scraping the
operator and checks each returns data.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grafana_foundation_sdk.builders.common import GraphThresholdsStyleConfig
from grafana_foundation_sdk.builders.dashboard import (
    Dashboard,
    DatasourceVariable,
    QueryVariable,
    Row,
    ThresholdsConfig,
)
from grafana_foundation_sdk.builders.prometheus import Dataquery
from grafana_foundation_sdk.builders.timeseries import Panel
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.common import GraphTresholdsStyleMode
from grafana_foundation_sdk.models.dashboard import (
    DataSourceRef,
    Threshold,
    ThresholdsMode,
    VariableRefresh,
)

from voicecap.core.status.budget import NEAR_CAP

ROOT = Path(__file__).resolve().parents[1]
OUTPUTS = [
    ROOT / "dashboards" / "voicecap.json",
    ROOT / "charts" / "voicecap-operator" / "dashboards" / "voicecap.json",
]
DATASOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")
WHERE = 'namespace=~"$namespace", vertical=~"$vertical"'
LEGEND = "{{namespace}}/{{vertical}}"
BUDGET = 'budget=~"$budget"'
# The headroom defaults; each vertical's own are in its alert rules.
WARNING, CRITICAL, CEILING_WARNING = 0.85, 0.9, 0.7


def query(expr: str, legend: str = LEGEND) -> Dataquery:
    return Dataquery().expr(expr).legend_format(legend).datasource(DATASOURCE)


def timeseries(title: str, unit: str, *queries: Dataquery, description: str) -> Panel:
    panel = (
        Panel()
        .title(title)
        .description(description)
        .unit(unit)
        .min(0)
        .datasource(DATASOURCE)
        .height(8)
        .span(12)
    )
    for item in queries:
        panel = panel.with_target(item)
    return panel


def build() -> Dashboard:
    return (
        Dashboard("voicecap: concurrent-call capacity")
        .uid("voicecap-capacity")
        .tags(["voicecap", "voice-ai", "capacity"])
        .refresh("30s")
        .time("now-6h", "now")
        .with_variable(DatasourceVariable("datasource").label("Prometheus").type("prometheus"))
        .with_variable(
            _label_variable("namespace", "label_values(voicecap_floor_replicas, namespace)")
        )
        .with_variable(
            _label_variable(
                "vertical",
                'label_values(voicecap_floor_replicas{namespace=~"$namespace"}, vertical)',
            )
        )
        .with_variable(
            _label_variable("budget", "label_values(voicecap_budget_tokens_per_minute, budget)")
        )
        .with_row(Row("Calls and capacity"))
        .with_panel(
            timeseries(
                "Calls vs capacity and the admission limit",
                "short",
                query(f"voicecap_active_sessions{{{WHERE}}}", f"calls {LEGEND}"),
                query(f"voicecap_capacity_sessions{{{WHERE}}}", f"capacity {LEGEND}"),
                query(f"voicecap_admission_limit_sessions{{{WHERE}}}", f"admission {LEGEND}"),
                description="Live calls, the capacity of the ready pods (ready x perPod) and the "
                "admission limit the gateway gets (min of that and the TPM grant).",
            )
        )
        .with_panel(
            timeseries(
                "Utilization",
                "percentunit",
                query(f"voicecap_utilization_ratio{{{WHERE}}}"),
                description=f"Calls / capacity. Lines at the default warning ({WARNING:.0%}) "
                f"and critical ({CRITICAL:.0%}) levels.",
            )
            .thresholds(
                ThresholdsConfig()
                .mode(ThresholdsMode.ABSOLUTE)
                .steps(
                    [
                        Threshold(value=None, color="green"),
                        Threshold(value=WARNING, color="orange"),
                        Threshold(value=CRITICAL, color="red"),
                    ]
                )
            )
            .thresholds_style(GraphThresholdsStyleConfig().mode(GraphTresholdsStyleMode.LINE))
        )
        .with_panel(
            timeseries(
                "Calls against what the ceiling carries (the planning signal)",
                "percentunit",
                query(f"voicecap_ceiling_utilization_ratio{{{WHERE}}}"),
                description="Calls / the calls the ceiling carries (replicas.max or the TPM "
                f"grant, whichever binds). At the default {CEILING_WARNING:.0%} for headroom.for: "
                "NearCeiling and VoiceCapacityNearCeiling; raise the ceiling before the next peak.",
            )
            .thresholds(
                ThresholdsConfig()
                .mode(ThresholdsMode.ABSOLUTE)
                .steps(
                    [
                        Threshold(value=None, color="green"),
                        Threshold(value=CEILING_WARNING, color="orange"),
                    ]
                )
            )
            .thresholds_style(GraphThresholdsStyleConfig().mode(GraphTresholdsStyleMode.LINE))
        )
        .with_panel(
            timeseries(
                "Replicas: floor, ceiling, wanted",
                "short",
                query(f"voicecap_floor_replicas{{{WHERE}}}", f"floor {LEGEND}"),
                query(f"voicecap_ceiling_replicas{{{WHERE}}}", f"ceiling {LEGEND}"),
                query(f"voicecap_wanted_replicas{{{WHERE}}}", f"wanted {LEGEND}"),
                description="The HPA's minReplicas (floor) and maxReplicas (ceiling), and the "
                "floor the plan wants before the ceiling clamps it.",
            )
        )
        .with_panel(
            timeseries(
                "Peak windows",
                "short",
                query(f"voicecap_peak_active{{{WHERE}}}"),
                description="1 while a peak window is raised (lead time included).",
            )
        )
        .with_row(Row("Model tokens and forecasts"))
        .with_panel(
            timeseries(
                "TPM granted and projected",
                "short",
                query(f"voicecap_tpm_granted{{{WHERE}}}", f"granted {LEGEND}"),
                query(f"voicecap_tpm_projected{{{WHERE}}}", f"projected {LEGEND}"),
                description="Tokens per minute the TokenBudget grants, and calls x "
                "tokensPerSessionMinute.",
            )
        )
        .with_panel(
            timeseries(
                "Forecast per peak",
                "short",
                query(
                    f"voicecap_forecast_sessions{{{WHERE}}}",
                    "{{namespace}}/{{vertical}} {{peak}}",
                ),
                description="forecastSessions of each peak, learned from its past weeks.",
            )
        )
        .with_row(Row("Token budgets (one panel per budget)"))
        .with_panel(
            timeseries(
                "TokenBudget $budget: projected use against the provider cap",
                "short",
                query(f"max(voicecap_budget_projected_tpm{{{BUDGET}}})", "projected"),
                query(f"max(voicecap_budget_granted_tpm{{{BUDGET}}})", "granted"),
                query(f"max(voicecap_budget_requested_tpm{{{BUDGET}}})", "requested"),
                query(f"max(voicecap_budget_tokens_per_minute{{{BUDGET}}})", "cap"),
                query(
                    f"{NEAR_CAP} * max(voicecap_budget_tokens_per_minute{{{BUDGET}}})",
                    f"{NEAR_CAP:.0%} of the cap (TokenBudgetNearCap)",
                ),
                description="Every vertical's live calls x the tokens a call-minute uses, summed "
                "(status.projected), against the grants, the reservations and the provider's "
                f"real cap. At {NEAR_CAP:.0%} of the cap for 5m: TokenBudgetNearCap.",
            ).repeat("budget")
        )
        .with_row(Row("The operator"))
        .with_panel(
            timeseries(
                "Fleet cycle time (p50, p99)",
                "s",
                query(
                    "histogram_quantile(0.5, sum by (le) "
                    "(rate(voicecap_cycle_duration_seconds_bucket[$__rate_interval])))",
                    "p50",
                ),
                query(
                    "histogram_quantile(0.99, sum by (le) "
                    "(rate(voicecap_cycle_duration_seconds_bucket[$__rate_interval])))",
                    "p99",
                ),
                description="One re-evaluation of every VoiceCapacity.",
            )
        )
        .with_panel(
            timeseries(
                "Loop heartbeat age, writers",
                "short",
                query(
                    "time() - max by (instance) (voicecap_cycle_heartbeat_timestamp_seconds)",
                    "seconds since {{instance}}'s last pass",
                ),
                query("sum(voicecap_writer)", "replicas writing (want 1)"),
                description="Seconds since each replica's fleet loop last finished a pass "
                "(VoicecapOperatorHeartbeatStale past 3 intervals), and how many replicas write "
                "(VoicecapOperatorWriters when not 1).",
            )
        )
        .with_panel(
            timeseries(
                "Reconcile errors",
                "short",
                query(
                    "sum by (reason) (rate(voicecap_reconcile_errors_total[$__rate_interval])) "
                    "or vector(0)",
                    "{{reason}}",
                ),
                description="Reconciles that did not finish, per second, by reason (0 when none).",
            )
        )
        .with_panel(
            timeseries(
                "Prometheus query latency (p99)",
                "s",
                query(
                    "histogram_quantile(0.99, sum by (le, kind) "
                    "(rate(voicecap_prometheus_query_duration_seconds_bucket[$__rate_interval])))",
                    "{{kind}}",
                ),
                description="The operator's queries: live sessions, forecasts, burst factor.",
            )
        )
    )


def _label_variable(name: str, expression: str) -> QueryVariable:
    return (
        QueryVariable(name)
        .label(name)
        .datasource(DATASOURCE)
        .query(expression)
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .include_all(True)
        .all_value(".*")
        .multi(True)
    )


def render() -> str:
    return JSONEncoder(sort_keys=True, indent=2).encode(build().build()) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when a committed file is stale")
    args = parser.parse_args()
    text = render()
    stale = [path for path in OUTPUTS if not path.exists() or path.read_text() != text]
    if args.check:
        for path in stale:
            print(f"{path.relative_to(ROOT)} is stale: run `make dashboard`", file=sys.stderr)
        return 1 if stale else 0
    for path in OUTPUTS:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
