"""The tests mirror the code, and the code says what it is for: every module of operator/voicecap
has tests/unit/<package>/test_<module>.py (or a line below saying why not), and every public
class and function of service/ and cli/ has a docstring."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "operator" / "voicecap"
UNIT = ROOT / "tests" / "unit"

# Modules without a mirrored unit test, and why. Keep it short: a module with logic gets a test.
NOT_MIRRORED = {
    "service/ports.py": "Protocols only: the doubles in tests/support/world.py satisfy them (mypy)",
    "service/world.py": "a Protocol only: tests/support/world.py's MemoryWorld satisfies it (mypy)",
    "api/names.py": "constants only: the CRD, RBAC and chart tests read them",
}


def modules() -> list[Path]:
    return sorted(
        path.relative_to(PACKAGE)
        for path in PACKAGE.rglob("*.py")
        if path.name not in {"__init__.py", "__main__.py"}
    )


def mirror(module: Path) -> Path:
    return UNIT.joinpath(*module.parts[:-1], f"test_{module.stem}.py")


def test_every_module_has_its_mirrored_test_or_a_reason() -> None:
    missing = [
        f"{module} -> {mirror(module).relative_to(ROOT)}"
        for module in modules()
        if not mirror(module).exists() and module.as_posix() not in NOT_MIRRORED
    ]
    assert not missing, "modules without a mirrored test:\n" + "\n".join(missing)


def test_the_list_of_exceptions_names_modules_that_exist_and_lack_a_test() -> None:
    for name in NOT_MIRRORED:
        module = Path(name)
        assert (PACKAGE / module).exists(), f"{name} is gone: take it off NOT_MIRRORED"
        assert not mirror(module).exists(), f"{name} has a test now: take it off NOT_MIRRORED"


def test_every_test_file_under_unit_mirrors_a_module_or_says_what_it_covers() -> None:
    """A test file named like a module that no longer exists is a leftover of a move."""
    names = {mirror(module) for module in modules()}
    strays = []
    for test in UNIT.rglob("test_*.py"):
        if test in names:
            continue
        tree = ast.parse(test.read_text(encoding="utf-8"))
        doc = ast.get_docstring(tree) or ""
        if not doc.strip():
            strays.append(str(test.relative_to(ROOT)))
    assert not strays, "test files that mirror no module and do not say what they cover: " + (
        ", ".join(strays)
    )


def _public_definitions(tree: ast.Module) -> list[tuple[str, ast.AST]]:
    found: list[tuple[str, ast.AST]] = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            if node.name.startswith("_"):
                continue
            found.append((node.name, node))
            if isinstance(node, ast.ClassDef):
                found += [
                    (f"{node.name}.{item.name}", item)
                    for item in node.body
                    if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
                    and not item.name.startswith("_")
                ]
    return found


@pytest.mark.parametrize("package", ["service", "cli"])
def test_every_public_class_and_function_says_what_it_is_for(package: str) -> None:
    undocumented = []
    for path in sorted((PACKAGE / package).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if ast.get_docstring(tree) is None:
            undocumented.append(f"{path.relative_to(PACKAGE)} (the module)")
        for name, node in _public_definitions(tree):
            assert isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            if ast.get_docstring(node) is None:
                undocumented.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {name}")
    assert not undocumented, "no docstring:\n" + "\n".join(undocumented)
