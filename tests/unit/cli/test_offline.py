"""`voicecap plan` and `voicecap crds` as a user runs them."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from support.cli import MONDAY_0855_NEW_YORK, plan_json, run, write_manifests
from support.objects import EXAMPLES, ROOT, capacity_body
from voicecap.api.zones import tzdata_version


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


def test_invalid_input_lists_every_problem_with_file_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad_replicas = capacity_body(replicas={"min": 5, "max": 3})
    bad_zone = capacity_body()
    bad_zone["metadata"]["name"] = "sales"
    bad_zone["spec"]["peaks"][0]["timeZone"] = "Mars/Olympus_Mons"
    path = write_manifests(
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
    good = write_manifests(tmp_path, "good.yaml", capacity_body())
    broken = tmp_path / "broken.yaml"
    broken.write_text("kind: VoiceCapacity\nmetadata: {name: x\n")
    code, _, err = run(capsys, "plan", str(good), str(broken), str(tmp_path / "missing.yaml"))
    assert code == 2
    assert f"{broken}: invalid YAML" in err and "line 3" in err
    assert f"{tmp_path / 'missing.yaml'}: No such file or directory" in err


def test_same_object_twice_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_manifests(tmp_path, "twice.yaml", capacity_body(), capacity_body())
    code, _, err = run(capsys, "plan", str(path))
    assert code == 2 and "also defined in" in err


def test_list_documents_are_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_manifests(
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
    path = write_manifests(tmp_path, "all.yaml", body, calendar, target)
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
    without = write_manifests(tmp_path, "alone.yaml", body)
    code, out, _ = run(capsys, "plan", str(without), *at)
    assert code == 0 and "Peak" in out  # no calendar given: the window opens, and it says so
    assert (
        "warning: voice/healthcare: calendar: spec.peaks[0].calendarRef.name: ConfigMap "
        "voice/us-holidays not found" in out
    )


def test_plan_says_the_gpus_at_the_planned_pods_and_pods_short_of_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = capacity_body(sessionCost={"extended": {"nvidia.com/gpu": "0.01"}})
    gpu = {"limits": {"nvidia.com/gpu": 1}}
    target = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "healthcare-agent", "namespace": "voice"},
        "spec": {"template": {"spec": {"containers": [{"name": "a", "resources": gpu}]}}},
    }
    path = write_manifests(tmp_path, "all.yaml", body, target)
    at = ("--at", MONDAY_0855_NEW_YORK, "--sessions", "healthcare=40")
    code, out, err = run(capsys, "plan", str(path), *at, "-o", "json")
    assert code == 0, err
    (plan,) = json.loads(out)
    floor, ceiling = plan["floor"], plan["ceiling"]
    assert plan["sizing"]["extended"] == {
        "nvidia.com/gpu": {"perPod": 2, "atFloor": 2 * floor, "atCeiling": 2 * ceiling}
    }
    assert plan["podFit"]["reason"] == "RequestsBelowCalls"
    code, out, _ = run(capsys, "plan", str(path), *at)
    assert f"nvidia.com/gpu: voice/healthcare 2 a pod, {2 * floor} at the floor" in out
    assert "pods too small: nvidia.com/gpu requests 1, 200 calls need 2" in out


def test_plan_says_the_lead_time_auto_uses_and_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = capacity_body()
    body["spec"]["peaks"][0]["leadTime"] = "auto"
    path = write_manifests(tmp_path, "auto.yaml", body)
    code, out, err = run(capsys, "plan", str(path), "--at", MONDAY_0855_NEW_YORK, "-o", "json")
    assert code == 0, err
    (row,) = json.loads(out)
    assert row["leadTimes"]["monday-morning"]["source"] == "Default"  # nothing measured offline
    assert row["leadTimes"]["monday-morning"]["leadTime"] == "10m"
    code, out, _ = run(capsys, "plan", str(path), "--at", MONDAY_0855_NEW_YORK)
    assert "lead time: voice/healthcare monday-morning 10m (auto: 10m until a scale-up" in out


def test_plan_shows_the_admission_tiers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = capacity_body(
        admission={
            "maxSessions": 1600,
            "reserve": [{"name": "vip", "sessions": 50}],
            "overflow": "Queue",
            "outbound": {"enabled": True},
        }
    )
    body["spec"]["sessions"]["callDuration"] = "4m"
    body["spec"].pop("model")
    path = write_manifests(tmp_path, "tiers.yaml", body)
    at = ("--at", MONDAY_0855_NEW_YORK)
    code, out, err = run(capsys, "plan", str(path), *at, "--ready", "healthcare=10", "-o", "json")
    assert code == 0, err
    (row,) = json.loads(out)
    admission = row["admission"]
    assert (admission["maxSessions"], admission["generalSessions"]) == (1600, 1550)
    assert admission["reserve"] == [{"name": "vip", "sessions": 50}]
    assert admission["outbound"] == {
        "callsPerSecond": 6.458,
        "callSeconds": 240.0,
        "from": "Declared",
    }
    code, out, _ = run(capsys, "plan", str(path), *at)  # no ready pods: on the bound
    assert (
        "admission: voice/healthcare at most vip 50, general 1550, overflow Queue, "
        "outbound 6.458/s (calls of 240s, Declared)" in out
    )


def test_plan_reads_tenant_caps_from_the_files_and_names_their_bad_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = capacity_body(admission={"tenantCaps": {"configMapRef": {"name": "tenant-caps"}}})
    caps = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "tenant-caps", "namespace": "voice"},
        "data": {"plans": "acme: 50\ninitech: 200\nhooli: lots\n"},
    }
    path = write_manifests(tmp_path, "tenants.yaml", body, caps)
    code, out, err = run(capsys, "plan", str(path), "--at", MONDAY_0855_NEW_YORK)
    assert code == 0, err
    assert "admission: voice/healthcare at most general" in out
    assert "2 tenant caps (250 calls)" in out
    assert "tenant caps: plans line 3: hooli's cap must be a non-negative integer" in out
    alone = write_manifests(tmp_path, "alone.yaml", body)
    code, out, _ = run(capsys, "plan", str(alone), "--at", MONDAY_0855_NEW_YORK, "-o", "json")
    (row,) = json.loads(out)
    assert row["admission"]["tenants"] is None
    code, out, _ = run(capsys, "plan", str(alone), "--at", MONDAY_0855_NEW_YORK)
    assert "tenant caps: ConfigMap tenant-caps not in the files" in out


def test_crds_into_a_path_that_cannot_be_a_directory_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, out, err = run(capsys, "crds", "--output-dir", str(blocker / "crds"))
    assert (code, out) == (2, "")
    assert (
        err == f"voicecap: --output-dir {blocker / 'crds'}: {blocker / 'crds'}: Not a directory\n"
    )


def test_plan_of_a_file_that_is_not_utf8_exits_2_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    binary = tmp_path / "vcap.yaml"
    binary.write_bytes(b"\xff\xfe")
    code, _, err = run(capsys, "plan", str(binary))
    assert code == 2
    assert (
        err.strip()
        == f"voicecap: {binary}: not UTF-8 text (byte 0xff at offset 0): YAML manifests are UTF-8"
    )


def test_plan_reads_stdin_and_directories(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    at = ("--at", "2026-11-23T08:55:00-05:00", "-o", "json")
    _, from_dir, _ = run(capsys, "plan", str(EXAMPLES[0].parent), *at)
    piped = "\n---\n".join(path.read_text() for path in EXAMPLES)  # cat examples/*.yaml |
    monkeypatch.setattr("sys.stdin", io.StringIO(piped))
    code, from_stdin, err = run(capsys, "plan", "-", *at)
    assert code == 0, err
    assert len(json.loads(from_dir)) == 4  # every vertical of examples/, the budget beside
    assert json.loads(from_stdin) == json.loads(from_dir)


def test_completion_scripts_know_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    for shell in ("bash", "zsh", "fish"):
        code, out, _ = run(capsys, "completion", shell)
        assert code == 0
        for command in ("plan", "rules", "calendar", "forecast", "run"):
            assert command in out
    assert run(capsys, "completion", "cmd")[0] == 2  # argparse: not a shell shtab writes
