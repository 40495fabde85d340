"""`helm upgrade` upgrades the CRDs, on a control plane of its own: chart 0.1.0 (from git
history, the release before admission tiers, with its CRDs in crds/), objects created, then an
upgrade to this chart. A field added since (`spec.admission.reserve`) is pruned before the
upgrade and accepted and kept after it; `helm uninstall` keeps the CRDs and the objects. First,
with no CRD at all, the operator exits naming the missing one, and crds.install=false says so.

From 0.1.0 the upgrade must take ownership of the CRDs that Helm installed from crds/ without
release metadata (CHANGELOG, docs/install.md "Upgrade"): a plain `helm upgrade` refuses."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from e2e.workloads import NAMESPACE, vcap_path
from support.client import Client
from support.control_plane import ControlPlane, control_plane
from support.objects import budget_body, vertical_body
from support.real_stack import CHART, OPERATOR_NAMESPACE, RELEASE, ROOT, helm, wait_for_crds

# chart 0.1.0 as released before admission tiers (spec.admission.reserve): e8f3159's parent
PREVIOUS = "ea6141e7b4e6f5b4daef17282390debc5ef84185"
RESERVE = [{"name": "vip", "sessions": 50}]


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    if os.environ.get("E2E_KUBECONFIG") or os.environ.get("E2E_STACK", "real") != "real":
        pytest.skip("needs a control plane of its own (the one `make test` starts)")
    with control_plane(tmp_path_factory.mktemp("upgrade") / "cluster", scrape_targets=[]) as up:
        yield up


def previous_chart(into: Path) -> Path:
    """The chart folder at PREVIOUS, from git history (fetched from origin when a shallow clone
    does not have it)."""
    git = ["git", "-C", str(ROOT)]
    if subprocess.run([*git, "cat-file", "-e", f"{PREVIOUS}^{{commit}}"], capture_output=True,
                      timeout=30, check=False).returncode != 0:  # fmt: skip
        fetched = subprocess.run([*git, "fetch", "--quiet", "--depth=1", "origin", PREVIOUS],
                                 capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
        assert fetched.returncode == 0, (
            f"chart 0.1.0 ({PREVIOUS}) is not in this clone: {fetched.stderr}"
        )
    archive = subprocess.run(
        [*git, "archive", "--format=tar", PREVIOUS, "charts/voicecap-operator"],
        capture_output=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "charts" / "voicecap-operator"


def without_crds(plane: ControlPlane, home: Path) -> None:
    """Before any CRD: the operator exits at start naming the first missing one, and a release
    with crds.install=false says in its NOTES which are missing (helm's real lookup)."""
    done = subprocess.run(
        [sys.executable, "-m", "voicecap.cli", "run", "--kubeconfig", str(plane.kubeconfig),
         "--prometheus-url", "http://127.0.0.1:9", "--standalone"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        "voicecap: CRD voicecapacities.voicecap.io is not installed: install the chart with "
        "crds.install=true, or kubectl apply --server-side -f crds/"
    ]
    notes = helm(plane, home, "install", "bare", str(CHART), "--namespace", "bare",
                 "--create-namespace", "--set", "crds.install=false")  # fmt: skip
    assert (
        "MISSING from the cluster: voicecapacities.voicecap.io, tokenbudgets.voicecap.io" in notes
    )
    helm(plane, home, "uninstall", "bare", "--namespace", "bare", "--wait")


def reserve_of(cluster: Client, name: str) -> Any:
    found = cluster.get(vcap_path(name)) or {}
    return found.get("spec", {}).get("admission", {}).get("reserve")


def test_an_upgrade_from_0_1_0_upgrades_the_crds_and_keeps_them_on_uninstall(
    plane: ControlPlane, tmp_path: Path
) -> None:
    home = tmp_path / "helm"
    old = previous_chart(tmp_path / "previous")
    without_crds(plane, home)
    assert "version: 0.1.0" in (old / "Chart.yaml").read_text()
    install = (
        "--namespace",
        OPERATOR_NAMESPACE,
        "--set",
        "operator.prometheusUrl=http://127.0.0.1:9",
    )
    helm(plane, home, "install", RELEASE, str(old), "--create-namespace", *install)
    wait_for_crds(plane)
    cluster = Client.from_kubeconfig(plane.kubeconfig, real=True)
    try:
        cluster.ensure_namespace(NAMESPACE)
        cluster.apply(budget_body())
        tiers = {"configMapRef": {"name": "voice-admission"}, "reserve": RESERVE}
        cluster.apply(vertical_body("before", admission=tiers))
        assert reserve_of(cluster, "before") is None  # 0.1.0's schema prunes the new field

        with pytest.raises(RuntimeError, match="invalid ownership metadata"):
            helm(plane, home, "upgrade", RELEASE, str(CHART), *install)
        helm(plane, home, "upgrade", RELEASE, str(CHART), "--take-ownership", *install)
        wait_for_crds(plane)
        cluster.apply(vertical_body("after", admission=tiers))
        assert reserve_of(cluster, "after") == RESERVE  # accepted and kept
        cluster.apply(vertical_body("before", admission=tiers))
        assert reserve_of(cluster, "before") == RESERVE  # the old object takes it too
        helm(plane, home, "upgrade", RELEASE, str(CHART), *install)  # later upgrades: plain

        helm(plane, home, "uninstall", RELEASE, "--namespace", OPERATOR_NAMESPACE, "--wait")
        kept = plane.kubectl("get", "crd", "-o", "name")
        assert "voicecapacities.voicecap.io" in kept and "tokenbudgets.voicecap.io" in kept
        assert reserve_of(cluster, "after") == RESERVE  # the objects survive the uninstall
    finally:
        cluster.close()
