"""`voicecap plan` and `voicecap crds` as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from support.objects import EXAMPLES, ROOT, capacity_body
from voicecap.api.zones import tzdata_version
from voicecap.cli import main

MONDAY_0855_NEW_YORK = "2026-11-23T08:55:00-05:00"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def plan_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, dict[str, Any]]:
    code, out, err = run(capsys, "plan", *map(str, EXAMPLES), "--output", "json", *argv)
    assert code == 0, err
    return {item["vertical"]: item for item in json.loads(out)}


def test_monday_0855_new_york_raises_the_monday_floor_by_the_lead_time(
    capsys: pytest.CaptureFixture[str],
) -> None:
    plans = plan_json(capsys, "--at", MONDAY_0855_NEW_YORK)
    healthcare = plans["healthcare"]
    assert healthcare["activePeak"] == "monday-morning"
    assert healthcare["peakFloor"] == 5 and healthcare["floor"] == 5  # 1.5 x 600 at 200 per pod
    assert healthcare["nextPeak"] == {"name": "monday-morning", "startsAt": "2026-11-23T14:00:00Z"}
    assert "lead time" in healthcare["reasons"]["peakFloor"]
    # Chicago and Los Angeles are not yet within their lead times.
    assert plans["sales"]["activePeak"] is None and plans["real-estate"]["activePeak"] is None
    ten_minutes_earlier = plan_json(capsys, "--at", "2026-11-23T08:45:00-05:00")
    assert ten_minutes_earlier["healthcare"]["activePeak"] is None
    assert ten_minutes_earlier["healthcare"]["floor"] == 2


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


def test_budget_is_shared_by_priority(capsys: pytest.CaptureFixture[str]) -> None:
    plans = plan_json(capsys, "--at", "2026-11-23T19:30:00Z", "--sessions", "after-hours=600")
    granted = {name: item["tpm"]["granted"] for name, item in plans.items()}
    assert granted == {
        "after-hours": 3_400_000,
        "healthcare": 9_600_000,
        "real-estate": 3_000_000,
        "sales": 6_000_000,
    }
    after_hours = plans["after-hours"]
    assert after_hours["tpm"]["ceilingSessions"] == 566
    assert after_hours["ceiling"] == 2 and after_hours["ceilingSource"] == "TPM"
    assert after_hours["capacityLimited"] is True  # 600 calls want 3 pods of 300 at 0.75


def test_without_the_budget_file_there_is_no_tpm_ceiling(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(
        capsys,
        "plan",
        str(ROOT / "examples/healthcare.yaml"),
        "-o",
        "json",
        "--at",
        MONDAY_0855_NEW_YORK,
    )
    assert code == 0
    (item,) = json.loads(out)
    assert item["tpm"]["granted"] is None and item["ceiling"] == 40


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
    path = _write(tmp_path, "tiny.yaml", body, budget)
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
    }


def _write(tmp_path: Path, name: str, *documents: Any) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump_all(documents))
    return path


def test_invalid_input_lists_every_problem_with_file_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad_replicas = capacity_body(replicas={"min": 5, "max": 3})
    bad_zone = capacity_body()
    bad_zone["metadata"]["name"] = "sales"
    bad_zone["spec"]["peaks"][0]["timeZone"] = "Mars/Olympus_Mons"
    path = _write(
        tmp_path,
        "bad.yaml",
        bad_replicas,
        bad_zone,
        {"kind": "Service", "metadata": {"name": "x"}},
    )
    code, out, err = run(capsys, "plan", str(path))
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert (
        f"voicecap: {path}: document 1 (VoiceCapacity voice/healthcare): spec.replicas: min (5) must not exceed max (3)"
        in lines
    )
    assert (
        f"voicecap: {path}: document 2 (VoiceCapacity voice/sales): spec.peaks[0].timeZone: unknown IANA time zone 'Mars/Olympus_Mons' (tzdata {tzdata_version()})"
        in lines
    )
    assert any("document 3: kind: unsupported kind 'Service'" in line for line in lines)
    assert "Traceback" not in err


def test_one_bad_object_does_not_hide_the_others_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = _write(tmp_path, "good.yaml", capacity_body())
    broken = tmp_path / "broken.yaml"
    broken.write_text("kind: VoiceCapacity\nmetadata: {name: x\n")
    code, _, err = run(capsys, "plan", str(good), str(broken), str(tmp_path / "missing.yaml"))
    assert code == 2
    assert f"{broken}: invalid YAML" in err and "line 3" in err
    assert f"{tmp_path / 'missing.yaml'}: No such file or directory" in err


def test_same_object_twice_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "twice.yaml", capacity_body(), capacity_body())
    code, _, err = run(capsys, "plan", str(path))
    assert code == 2 and "also defined in" in err


def test_list_documents_are_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(
        tmp_path, "list.yaml", {"apiVersion": "v1", "kind": "List", "items": [capacity_body()]}
    )
    code, out, _ = run(capsys, "plan", str(path), "-o", "json", "--at", MONDAY_0855_NEW_YORK)
    assert code == 0 and json.loads(out)[0]["floor"] == 5


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--sessions", "dentistry=5"], "no VoiceCapacity has vertical 'dentistry'"),
        (["--sessions", "healthcare=many"], "expected VERTICAL=N"),
        (["--sessions", "healthcare=-3"], "must not be negative"),
        (
            ["--sessions", "healthcare=3", "--sessions", "voice/healthcare=5"],
            "voice/healthcare is already given by 'healthcare=3'; give each vertical once",
        ),
        (["--ready", "sales=1", "--ready", "sales=2"], "already given by 'sales=1'"),
    ],
)
def test_bad_session_arguments(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, _, err = run(capsys, "plan", *map(str, EXAMPLES), *argv)
    assert code == 2 and message in err


def test_at_needs_an_offset(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["plan", str(EXAMPLES[0]), "--at", "2026-11-23T08:55:00"])
    assert exit_info.value.code == 2
    assert "has no UTC offset" in capsys.readouterr().err


def test_namespaced_session_argument(capsys: pytest.CaptureFixture[str]) -> None:
    plans = plan_json(capsys, "--at", MONDAY_0855_NEW_YORK, "--sessions", "voice/sales=500")
    assert plans["sales"]["sessions"]["active"] == 500


def test_crds_command_prints_what_crds_holds(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "crds")
    assert code == 0
    printed = list(yaml.safe_load_all(out))
    on_disk = [yaml.safe_load(path.read_text()) for path in sorted((ROOT / "crds").glob("*.yaml"))]
    assert sorted(printed, key=lambda d: d["metadata"]["name"]) == sorted(
        on_disk, key=lambda d: d["metadata"]["name"]
    )


def test_console_script_runs_as_a_process() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "voicecap.cli",
            "plan",
            *map(str, EXAMPLES),
            "--at",
            MONDAY_0855_NEW_YORK,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "monday-morning" in result.stdout


def test_run_without_a_prometheus_url_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VOICECAP_PROMETHEUS_URL", raising=False)
    code, _, err = run(capsys, "run")
    assert code == 2
    assert "pass --prometheus-url or set VOICECAP_PROMETHEUS_URL" in err


@pytest.mark.parametrize("interval", ["0s", "soon", "-5s", "0", "nan", "inf", "-0.5"])
def test_run_rejects_a_bad_interval(capsys: pytest.CaptureFixture[str], interval: str) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["run", "--prometheus-url", "http://127.0.0.1:9", f"--interval={interval}"])
    assert exited.value.code == 2
    assert "--interval" in capsys.readouterr().err


def test_run_takes_one_of_namespaces_or_all(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["run", "--prometheus-url", "http://x", "--namespace", "voice", "--all-namespaces"])
    assert "not allowed with argument" in capsys.readouterr().err


@pytest.mark.parametrize(("interval", "seconds"), [("15s", 15.0), ("1m30s", 90.0), ("0.25", 0.25)])
def test_run_interval_takes_durations_and_bare_seconds(interval: str, seconds: float) -> None:
    from voicecap.cli.args import duration as _duration  # noqa: PLC0415

    assert _duration(interval) == seconds


def test_identity_without_a_passwd_entry_uses_the_uid(monkeypatch: pytest.MonkeyPatch) -> None:
    """An image's `USER 65532` has no passwd entry and no $USER: getpass.getuser() raises."""
    import os  # noqa: PLC0415
    import pwd  # noqa: PLC0415

    from voicecap import runner  # noqa: PLC0415

    for name in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.delenv(name, raising=False)

    def no_entry(uid: int) -> pwd.struct_passwd:
        raise KeyError(f"getpwuid(): uid not found: {uid}")

    monkeypatch.setattr(pwd, "getpwuid", no_entry)
    monkeypatch.setenv("POD_NAME", "voicecap-operator-abc")
    assert runner.identity() == f"{os.getuid()}@voicecap-operator-abc/{os.getpid()}"


def test_auto_priority_prefers_the_replica_that_started_first() -> None:
    from voicecap import runner  # noqa: PLC0415
    from voicecap.service.peering import writer_allowed  # noqa: PLC0415

    first = runner.auto_priority(1_764_000_000_000, "65532@voicecap-operator-a/1")
    second = runner.auto_priority(1_764_000_000_001, "65532@voicecap-operator-b/1")
    assert first > second
    same_ms = {runner.auto_priority(1_764_000_000_000, f"65532@pod-{i}/1") for i in range(3)}
    assert len(same_ms) == 3  # Kopf pauses every peer of equal priority: never equal
    now = datetime(2026, 12, 4, 12, tzinfo=UTC)
    peers = {
        "a": {"priority": first, "lifetime": 30, "lastseen": "2026-12-04T11:59:50+00:00"},
        "b": {"priority": second, "lifetime": 30, "lastseen": "2026-12-04T11:59:55+00:00"},
    }
    assert writer_allowed(peers, "a", first, now)
    assert not writer_allowed(peers, "b", second, now)
    later = now + timedelta(seconds=21)  # a's entry expired: b takes over
    assert writer_allowed(peers, "b", second, later)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--priority=first"], "not an integer or 'auto'"),
        (["--peering-lifetime=10"], "--peering-lifetime must be at least 11 seconds"),
    ],
)
def test_run_rejects_bad_peering_flags(
    capsys: pytest.CaptureFixture[str], flags: list[str], message: str
) -> None:
    try:
        code = main(["run", "--prometheus-url", "http://127.0.0.1:9", *flags])
    except SystemExit as exited:  # argparse's own refusals
        code = int(exited.code or 0)
    assert code == 2
    assert message in capsys.readouterr().err


def test_clock_origin_puts_two_processes_on_one_timeline() -> None:
    import time  # noqa: PLC0415
    from datetime import UTC, datetime, timedelta  # noqa: PLC0415

    from voicecap.service.clock import Clock  # noqa: PLC0415

    start = datetime(2026, 11, 23, 4, tzinfo=UTC)
    origin = time.time() - 10  # the timeline began 10 real seconds ago, at 60x
    now = Clock(start, 60, origin).now()
    assert start + timedelta(seconds=599) <= now <= start + timedelta(seconds=660)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--cost-per-pod-hour", "-1"], "--cost-per-pod-hour must be 0 or more, not -1"),
        (["--cost-per-pod-hour", "nan"], "--cost-per-pod-hour must be 0 or more, not nan"),
    ],
)
def test_replay_refuses_a_negative_price_before_asking_prometheus(
    capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    code, out, err = run(
        capsys, "replay", str(EXAMPLES[0]), "--prometheus-url", "http://127.0.0.1:9",
        "--from", "2026-11-16T12:00:00Z", "--to", "2026-11-16T19:00:00Z", *extra,
    )  # fmt: skip
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [f"voicecap: {message}"]


def test_plan_reads_calendars_and_targets_from_the_files_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = capacity_body(sessionCost={"cpu": "50m", "memory": "120Mi"})
    body["spec"]["peaks"][0]["calendarRef"] = {"name": "us-holidays"}
    calendar = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "us-holidays", "namespace": "voice"},
        "data": {"2026": "2026-11-23  # a Monday off\n"},
    }
    target = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "healthcare-agent", "namespace": "voice"},
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {"name": "agent", "resources": {"requests": {"cpu": "2", "memory": "4Gi"}}},
                        {"name": "proxy", "resources": {"requests": {"memory": "256Mi"}}},
                    ]
                }
            }
        },
    }
    path = _write(tmp_path, "all.yaml", body, calendar, target)
    at = ("--at", MONDAY_0855_NEW_YORK, "--sessions", "healthcare=40")
    code, out, _ = run(capsys, "plan", str(path), *at)
    assert code == 0
    row = next(line.split() for line in out.splitlines() if line.startswith("voice "))
    assert row[2] == "Normal" and row[7:9] == ["-", "monday-morning"]  # not in a peak today
    assert row[9] == "2026-11-30T14:00:00Z"
    assert "excluded: voice/healthcare monday-morning does not open on 2026-11-23" in out
    assert (
        "warning: voice/healthcare: pods too small: cpu requests 2, 200 calls need 10; memory "
        "requests 4.2Gi, 200 calls need 23.4Gi" in out
    )
    without = _write(tmp_path, "alone.yaml", body)
    code, out, _ = run(capsys, "plan", str(without), *at)
    assert code == 0 and "Peak" in out  # no calendar given: the window opens, and it says so
    assert (
        "warning: voice/healthcare: calendar: spec.peaks[0].calendarRef.name: ConfigMap "
        "voice/us-holidays not found" in out
    )
