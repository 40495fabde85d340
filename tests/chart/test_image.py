"""The container image recipe, read: the Dockerfile's shape, the lock file it installs from, and
the package it installs (complete, its entry point running with runtime dependencies only).
tests/e2e/test_image.py builds it for real with buildah and runs it on the control plane.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMPILERS = ("gcc", "g++", "build-essential", "clang", "make ", "python3-dev", "libc6-dev")


def stages() -> list[list[str]]:
    """Dockerfile instructions grouped by stage (continuation lines joined)."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    found: list[list[str]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or (line.startswith("ARG") and not found):
            continue
        if line.upper().startswith("FROM "):
            found.append([])
        found[-1].append(line)
    return found


def test_multi_stage_with_a_slim_runtime_and_no_compilers() -> None:
    build, final = stages()
    assert build[0].endswith(" AS build")
    assert "slim" in (ROOT / "Dockerfile").read_text().split("PYTHON_IMAGE=")[1].split()[0]
    final_text = "\n".join(final).lower()
    assert not [name for name in COMPILERS if name in final_text]
    assert "apt-get" not in final_text
    assert "pip install" not in final_text  # everything arrives prebuilt from the build stage
    assert any(line.startswith("COPY --from=build /opt/voicecap") for line in final)


def test_runs_as_a_numeric_non_root_user_with_the_operator_as_entrypoint() -> None:
    final = stages()[-1]
    (user,) = [line.split()[1] for line in final if line.startswith("USER ")]
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) != 0  # numeric, so runAsNonRoot can verify it
    assert gid.isdigit() and int(gid) != 0
    (entrypoint,) = [line for line in final if line.startswith("ENTRYPOINT")]
    assert entrypoint == 'ENTRYPOINT ["/opt/voicecap/bin/voicecap"]'
    # the chart's pod runs as the same user
    values = (ROOT / "charts" / "voicecap-operator" / "values.yaml").read_text()
    assert f"runAsUser: {uid}" in values


def test_build_context_is_only_what_the_image_needs() -> None:
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    assert ignore[1] == "*"
    copied = {line.split()[1] for line in stages()[0] if line.startswith("COPY ")}
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    assert copied <= allowed | {"operator"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
         "-w", str(out), str(ROOT)],
        check=True, timeout=120,
    )  # fmt: skip
    (built,) = out.glob("voicecap_operator-*.whl")
    return built


def test_the_installed_package_is_complete(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    sources = {
        str(path.relative_to(ROOT / "operator"))
        for path in (ROOT / "operator" / "voicecap").rglob("*.py")
    }
    assert sources <= names
    assert "voicecap/py.typed" in names
    entry_points = next(name for name in names if name.endswith("entry_points.txt"))
    assert "voicecap = voicecap.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_the_entrypoint_needs_no_test_or_dev_package() -> None:
    """`voicecap run` imports only runtime dependencies: block test/dev packages and import it."""
    blocked = [
        "kmock",
        "pytest",
        "hypothesis",
        "jsonschema",
        "celpy",
        "kubernetes_validate",
        "mypy",
    ]
    code = (
        "import sys\n"
        f"for name in {blocked!r}: sys.modules[name] = None\n"
        "import voicecap.runner, voicecap.cli\n"
        "sys.exit(voicecap.cli.main(['run', '--help']))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "--prometheus-url" in result.stdout


def test_the_lock_pins_every_runtime_dependency_within_its_range() -> None:
    """requirements.lock (make lock) is what the image and `make install` install: every runtime
    dependency of pyproject.toml is pinned there, inside the range pyproject.toml allows."""
    import tomllib  # noqa: PLC0415

    from packaging.requirements import Requirement  # noqa: PLC0415
    from packaging.utils import canonicalize_name  # noqa: PLC0415

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pinned = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        requirement = line.split("#")[0].strip()
        if requirement:
            name, _, version = requirement.partition("==")
            pinned[canonicalize_name(name)] = version.split(";")[0].strip()
    for text in declared:
        requirement = Requirement(text)
        version = pinned.get(canonicalize_name(requirement.name))
        assert version is not None, f"{requirement.name} is not in requirements.lock: make lock"
        assert requirement.specifier.contains(version), f"{requirement.name}=={version}: make lock"


def test_the_image_and_the_install_use_the_lock() -> None:
    build = "\n".join(stages()[0])
    assert "-r requirements.lock" in build and "--no-deps ." in build
    assert "-c requirements.lock" in (ROOT / "Makefile").read_text()
