"""The alerts on the operator's own metrics: what no single VoiceCapacity's rule group can see,
such as every vertical's projected use of a TokenBudget against the provider's real cap. One
group for the whole cluster; `voicecap rules --operator` prints it and the chart ships it."""

from __future__ import annotations

from typing import Any

from voicecap.core.status.budget import NEAR_CAP

NEAR_CAP_FOR = "5m"
OPERATOR_GROUP = "voicecap-operator"


def operator_rule_file() -> dict[str, Any]:
    """The alerts on the operator's own metrics, one group for the whole cluster (the chart
    ships it): what no single VoiceCapacity's rules can see, such as every vertical's projected
    use of a TokenBudget against the provider's real cap."""
    share = f"{NEAR_CAP:g}"
    return {
        "groups": [
            {
                "name": OPERATOR_GROUP,
                "rules": [
                    {
                        "alert": "TokenBudgetNearCap",
                        # max by budget: each replica of the operator may export the series
                        "expr": "max by (budget) (voicecap_budget_projected_tpm) >= "
                        f"{share} * max by (budget) (voicecap_budget_tokens_per_minute)",
                        "for": NEAR_CAP_FOR,
                        "labels": {"severity": "warning"},
                        "annotations": {
                            "summary": "TokenBudget {{ $labels.budget }}: the verticals' live "
                            f"calls use at least {NEAR_CAP:.0%} of the provider's "
                            "tokens-per-minute cap",
                            "description": "The sum over the budget's verticals of live calls x "
                            "the tokens a call-minute uses (status.projected) has been at or above "
                            f"{NEAR_CAP:.0%} of spec.tokensPerMinute for {NEAR_CAP_FOR}: the "
                            "provider starts rate-limiting (HTTP 429) the next calls of every "
                            "vertical at once.",
                            "action": "`kubectl get tokenbudget {{ $labels.budget }} -o yaml`: "
                            "status.projected, status.projectedShare and the reservations; "
                            "raise the provider's cap, lower the grants of the verticals that "
                            "can wait (model.priority), or lower spec.overcommit.",
                        },
                    }
                ],
            }
        ]
    }
