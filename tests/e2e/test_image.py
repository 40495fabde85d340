"""The operator image, built from the Dockerfile and run as the chart runs it, on the real control
plane: no container engine runs here (ENVIRONMENT.md), so tests/image/build.sh builds it with
Debian's buildah (chroot isolation) on a Debian base bootstrapped with mmdebstrap.

Running it: `buildah run` answers `voicecap --version` as the image's user. For `voicecap run`
the test does what a container runtime does, by hand, because buildah's chroot isolation cannot
run on a read-only root (it creates mountpoints in it): a private mount namespace, the image's
root filesystem bound read-only, a tmpfs /tmp (the chart's emptyDir), /proc and /dev, then
chroot as uid 65532 with the image's environment. The chart's ServiceAccount token authenticates
it, and it reconciles a VoiceCapacity while the stack's own operator is stopped.
"""

from __future__ import annotations

import base64
import os
import re
import signal
import subprocess
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest
import yaml

from e2e.conftest import Where
from e2e.workloads import NAMESPACE, agent, eventually, hpa_path, voice_capacity
from support.objects import ROOT
from support.paths import path_of
from support.reads import condition
from support.real_stack import CHART, helm
from support.registry import Registry
from support.servers import answers_healthz, free_port, wait_until

MAX_IMAGE_MB = 450  # the base (Debian's python3, 225 MB) plus the locked dependencies
UID = 65532


def buildah(*args: str, timeout: float = 120) -> str:
    return subprocess.run(
        ["buildah", *args], capture_output=True, text=True, timeout=timeout, check=True
    ).stdout.strip()


@pytest.fixture(scope="module")
def image() -> str:
    built = subprocess.run(
        ["bash", str(ROOT / "tests" / "image" / "build.sh")],
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    return built.stdout.strip().splitlines()[-1]


@pytest.fixture
def container(image: str) -> Iterator[str]:
    name = buildah("from", "--quiet", image)
    try:
        yield name
    finally:
        buildah("rm", name)


def test_the_image_is_bounded_runs_as_non_root_and_says_its_version(
    image: str, container: str, capsys: pytest.CaptureFixture[str]
) -> None:
    size = buildah("images", "--format", "{{.Size}}", image)
    number, unit = re.match(r"([\d.]+)\s*(\w+)", size).groups()  # type: ignore[union-attr]
    megabytes = float(number) * {"kB": 1e-3, "MB": 1, "GB": 1e3}[unit]
    with capsys.disabled():
        print(f"\nimage {image}: {size}")  # noqa: T201 (the issue asks for the size printed)
    assert megabytes <= MAX_IMAGE_MB
    assert buildah("inspect", "--format", "{{.OCIv1.Config.User}}", container) == f"{UID}:{UID}"
    version = buildah("run", "--isolation", "chroot", container, "--", "voicecap", "--version")
    assert version == f"voicecap {metadata.version('voicecap-operator')}"
    who = buildah("run", "--isolation", "chroot", container, "--", "id", "-u")
    assert who == str(UID)


def test_the_image_reconciles_on_the_real_control_plane_as_the_chart_runs_it(
    where: Where, container: str, tmp_path: Path
) -> None:
    stack = where.real
    if stack is None:
        pytest.skip("runs the image against the real control plane this suite starts")
    cluster = where.cluster
    config = tmp_path / "config"
    config.mkdir(mode=0o755)
    (config / "kubeconfig").write_text(_self_contained(stack.operator_kubeconfig))
    (config / "kubeconfig").chmod(0o644)  # readable by 65532 (the chart mounts a token the same)
    root = Path(buildah("mount", container))
    health, metrics = free_port(), free_port()
    log = tmp_path / "image-operator.log"
    stack.logs.append(log)  # the suite's RBAC check reads every operator's log
    stack.operator.stop()  # one writer at a time
    process = None
    try:
        process = _run_from_image(root, config, log, stack.plane.prometheus_url, health, metrics)
        wait_until(
            lambda: _healthy(process, health), timeout=60, what="the image's operator healthy"
        )
        cluster.ensure_namespace(NAMESPACE)
        cluster.apply(agent("imaged-agent"))
        cluster.apply(voice_capacity("imaged", replicas={"min": 3, "max": 9}))
        eventually(
            lambda: (cluster.get(hpa_path("imaged")) or {}).get("spec", {}).get("minReplicas") == 3,
            "the HPA written by the operator from the image",
        )
        eventually(
            lambda: condition(cluster, NAMESPACE, "imaged", "Ready").get("status") == "True",
            "Ready",
        )
        assert _uids_of(health) == {UID}
        assert "READ-ONLY ROOT" in log.read_text()
    finally:
        if process is not None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        buildah("umount", container)
        stack.operator = stack.start_operator()


def _self_contained(kubeconfig: Path) -> str:
    """The ServiceAccount kubeconfig with its CA inlined: host paths do not exist in the image."""
    config = yaml.safe_load(kubeconfig.read_text())
    for cluster in config["clusters"]:
        path = cluster["cluster"].pop("certificate-authority")
        data = base64.b64encode(Path(path).read_bytes()).decode()
        cluster["cluster"]["certificate-authority-data"] = data
    return str(yaml.safe_dump(config))


def _run_from_image(
    root: Path, config: Path, log: Path, prometheus: str, health: int, metrics: int
) -> subprocess.Popen[bytes]:
    """The chart's pod, by hand: read-only root, tmpfs /tmp, uid 65532, the image's env."""
    script = f"""
set -e
mount --bind "{root}" "{root}"
mount -o remount,bind,ro "{root}"
mount -t proc proc "{root}/proc"
mount --rbind /dev "{root}/dev"
mount -t tmpfs -o size=64m,mode=1777 tmpfs "{root}/tmp"
mkdir -p "{root}/tmp/config" && mount --bind -o ro "{config}" "{root}/tmp/config"
if touch "{root}/opt/probe" 2>/dev/null; then echo "ROOT IS WRITABLE"; exit 3; fi
echo "READ-ONLY ROOT"
exec chroot --userspec={UID}:{UID} "{root}" /usr/bin/env -i \\
  PATH=/opt/voicecap/bin:/usr/local/bin:/usr/bin:/bin HOME=/tmp \\
  PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 KUBECONFIG=/tmp/config/kubeconfig \\
  /opt/voicecap/bin/voicecap run --all-namespaces --standalone --interval=1s \\
  --prometheus-url={prometheus} --health-port={health} --metrics-port={metrics} \\
  --bind-address=127.0.0.1 --log-format=plain
"""
    handle = log.open("w")
    return subprocess.Popen(
        ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script],
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # one process group: stopped together by its PID
    )


def _healthy(process: subprocess.Popen[bytes], port: int) -> bool:
    if process.poll() is not None:
        raise RuntimeError(f"the image's operator exited with {process.returncode}")
    return answers_healthz(port)


def _uids_of(health_port: int) -> set[int]:
    """The real uid of every process running the image's operator (found by its unique port)."""
    uids = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            command = (proc / "cmdline").read_bytes().split(b"\0")
            if f"--health-port={health_port}".encode() not in command or b"run" not in command:
                continue
            if not any(part.endswith(b"voicecap") for part in command):
                continue
            status = (proc / "status").read_text()
        except OSError:
            continue
        uids.add(int(re.search(r"^Uid:\s+(\d+)", status, re.MULTILINE).group(1)))  # type: ignore[union-attr]
    return uids


def test_the_chart_and_the_image_install_from_a_registry(
    image: str, where: Where, tmp_path: Path
) -> None:
    """`helm package` + `helm push` of the chart as an OCI artifact and `buildah push` of the
    image, to a real registry (distribution v3.0.0 from Go modules); then `helm install
    oci://...` with the image by digest. kwok runs no container, so the pull by digest is
    buildah's, from the reference the installed Deployment names."""
    if where.real is None:
        pytest.skip("installs on the real control plane this suite starts")
    stack, home = where.real, tmp_path / "helm"
    registry = Registry(tmp_path)
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    version, app = chart["version"], chart["appVersion"]
    namespace, reference = "from-registry", f"{registry.host}/voicecap-operator"
    pulled: list[str] = []
    try:
        helm(stack.plane, home, "package", str(CHART), "--destination", str(tmp_path))
        helm(stack.plane, home, "push", str(tmp_path / f"voicecap-operator-{version}.tgz"),
             f"oci://{registry.host}/charts", "--plain-http")  # fmt: skip
        assert registry.tags("charts/voicecap-operator") == [version]
        digest_file = tmp_path / "digest"
        buildah("push", "--quiet", "--tls-verify=false", "--digestfile", str(digest_file), image,
                f"docker://{reference}:{app}", timeout=600)  # fmt: skip
        digest = digest_file.read_text().strip()
        assert registry.manifest_digest("voicecap-operator", app) == digest

        helm(
            stack.plane, home, "install", "voicecap", f"oci://{registry.host}/charts/voicecap-operator",
            "--version", version, "--plain-http", "--namespace", namespace, "--create-namespace",
            "--set", "crds.install=false",  # the suite's release owns them
            "--set", f"image.registry={registry.host}", "--set", f"image.digest={digest}",
            "--set", f"operator.prometheusUrl={stack.plane.prometheus_url}",
        )  # fmt: skip
        cluster = where.cluster
        (deployment,) = cluster.items(path_of("apps/v1", "deployments", namespace))
        installed = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
        assert installed == f"{reference}@{digest}"
        buildah("pull", "--quiet", "--tls-verify=false", installed, timeout=600)
        pulled.append(installed)
        assert (
            buildah("inspect", "--type", "image", "--format", "{{.FromImageDigest}}", installed)
            == digest
        )
        helm(stack.plane, home, "uninstall", "voicecap", "--namespace", namespace, "--wait")
    finally:
        for name in pulled:  # the local copy only: the operator image itself stays cached
            subprocess.run(["buildah", "rmi", name], capture_output=True, timeout=120, check=False)
        registry.stop()
