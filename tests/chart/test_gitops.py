"""The GitOps examples in deploy/ render: Flux's HelmRelease values through the real helm and
the chart's schema, and the Kustomize example through the real kubectl's kustomize with helm."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "voicecap-operator"
HELM = Path(sys.executable).with_name("helm")
DEPLOY = ROOT / "deploy"


def documents(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def run(*argv: str, cwd: Path = ROOT) -> str:
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_flux_helmrelease_renders_with_its_values(tmp_path: Path) -> None:
    source, release = documents((DEPLOY / "flux" / "voicecap.yaml").read_text())
    assert (source["kind"], source["spec"]["type"]) == ("HelmRepository", "oci")
    assert (release["apiVersion"], release["kind"]) == ("helm.toolkit.fluxcd.io/v2", "HelmRelease")
    assert release["spec"]["chart"]["spec"]["sourceRef"]["name"] == source["metadata"]["name"]
    assert release["spec"]["upgrade"]["crds"] == "CreateReplace"
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump(release["spec"]["values"]))
    rendered = documents(run(
        str(HELM), "template", release["metadata"]["name"], str(CHART),
        "--namespace", release["metadata"]["namespace"], "--values", str(values),
        "--api-versions", "monitoring.coreos.com/v1/ServiceMonitor",
    ))  # fmt: skip
    kinds = {doc["kind"] for doc in rendered}
    assert {"Deployment", "CustomResourceDefinition", "ServiceMonitor"} <= kinds
    (deployment,) = [doc for doc in rendered if doc["kind"] == "Deployment"]
    image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image.startswith("registry.example.com/voicecap-operator:")


@pytest.mark.tools
def test_the_kustomization_inflates_the_chart() -> None:
    from support.control_plane import binaries  # noqa: PLC0415  (the Go-built kubectl)

    kubectl = binaries() / "kubectl"
    rendered = documents(run(
        str(kubectl), "kustomize", "--enable-helm", f"--helm-command={HELM}",
        "--load-restrictor=LoadRestrictionsNone",
        str(DEPLOY / "kustomize"),
    ))  # fmt: skip
    names = {(doc["kind"], doc["metadata"]["name"]) for doc in rendered}
    assert ("Namespace", "voicecap-system") in names
    assert ("CustomResourceDefinition", "voicecapacities.voicecap.io") in names
    assert ("CustomResourceDefinition", "clusterkopfpeerings.kopf.dev") in names
    deployment = next(doc for doc in rendered if doc["kind"] == "Deployment")
    assert deployment["metadata"]["namespace"] == "voicecap-system"
