"""cli/report.py: plans as `voicecap plan` prints them: the JSON contract, the table, its notes and warnings."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.cli import MONDAY_0855_NEW_YORK, plan_json, run, write_manifests
from support.objects import EXAMPLES, capacity_body


def test_json_has_the_contract_keys(capsys: pytest.CaptureFixture[str]) -> None:
    plans = plan_json(capsys, "--at", MONDAY_0855_NEW_YORK, "--sessions", "healthcare=300")
    for item in plans.values():
        for key in (
            "vertical",
            "mode",
            "floor",
            "ceiling",
            "sessionReplicas",
            "peakFloor",
            "activePeak",
            "utilization",
            "reasons",
        ):
            assert key in item
        assert {"granted", "ceilingSessions"} <= set(item["tpm"])
    healthcare = plans["healthcare"]
    assert healthcare["sessionReplicas"] == 3 and healthcare["sessions"]["state"] == "Known"
    assert plans["sales"]["sessions"]["state"] == "NoData" and plans["sales"]["mode"] == "Degraded"


def test_table_has_one_row_per_vertical(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "plan",
        *map(str, EXAMPLES),
        "--at",
        MONDAY_0855_NEW_YORK,
        "--sessions",
        "healthcare=300",
        "--ready",
        "healthcare=3",
    )
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:7] == [
        "NAMESPACE",
        "VERTICAL",
        "MODE",
        "SESSIONS",
        "UTIL",
        "FLOOR",
        "CEILING",
    ]
    rows = {line.split()[1]: line.split() for line in lines[1:] if line.startswith("voice ")}
    assert set(rows) == {"healthcare", "sales", "real-estate", "after-hours"}
    assert rows["healthcare"][2:6] == ["Peak", "300", "50%", "5"]
    # the admission limit: 3 ready pods x 200; elsewhere at most the TPM grant's calls
    assert rows["healthcare"][-2:] == ["600", "(Pods)"]
    assert rows["sales"][-2:] == ["<=1000", "(TPM)"]
    assert "warning" not in out


def test_the_table_warns_of_a_closed_gate_and_calls_on_no_pods(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = capacity_body(model={"budgetRef": "org", "reservedTPM": 3000})
    budget = {
        "apiVersion": "voicecap.io/v1alpha1",
        "kind": "TokenBudget",
        "metadata": {"name": "org"},
        "spec": {"tokensPerMinute": 20_000_000},
    }
    path = write_manifests(tmp_path, "tiny.yaml", body, budget)
    code, out, _ = run(capsys, "plan", str(path), "--at", MONDAY_0855_NEW_YORK)
    assert code == 0
    assert "<=0 (TPM)" in out
    assert (
        "warning: voice/healthcare: admission limit 0 (TPM): the gateway rejects every call "
        "(granted 3,000 of 3,000 TPM / 6000 per call-minute = 0 calls = 0 pods at 200 per pod)"
    ) in out
    code, out, _ = run(
        capsys, "plan", str(path), "--sessions", "healthcare=300", "--ready", "healthcare=0"
    )
    row = next(line.split() for line in out.splitlines() if line.startswith("voice "))
    assert row[3:5] == ["300", "over"]
    assert "warning: voice/healthcare: over capacity: 300 calls on 0 ready pods of 200" in out
    plans = plan_json(capsys, "--sessions", "healthcare=300", "--ready", "healthcare=0")
    assert plans["healthcare"]["admission"] == {
        "maxSessions": 0,
        "headroomSessions": -300,
        "reason": "Pods",
        "bound": False,
        "reserve": [],
        "generalSessions": 0,
        "overflow": "Reject",
        "outbound": None,
        "tenants": None,
    }
