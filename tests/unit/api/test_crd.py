"""api/crd.py: the CRDs generated from the models: admitted like the models, defaulted like them, structural, described for kubectl explain, printer columns on declared fields, and on disk as generated."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from support.kube_schema import (
    admission_errors,
    apply_defaults,
    default_errors,
    openapi_schema,
    schema_nodes,
)
from support.objects import BROKEN, ROOT, Broken, example_documents
from voicecap.api.crd import all_crds, tokenbudget_crd, voicecapacity_crd
from voicecap.api.models import TokenBudget, VoiceCapacity, dump
from voicecap.api.types import DURATION_PATTERN, parse_duration
from voicecap.cli.offline import render_yaml

CRDS = {"VoiceCapacity": voicecapacity_crd(), "TokenBudget": tokenbudget_crd()}


MODELS: dict[str, Any] = {"VoiceCapacity": VoiceCapacity, "TokenBudget": TokenBudget}


DURATION = re.compile(DURATION_PATTERN)


def _assert_agree(model: Any, server: Any, path: str) -> None:
    """Same values everywhere; the model may add only empty collections the CRD leaves absent."""
    if isinstance(model, dict) and isinstance(server, dict):
        for key in server.keys() | model.keys():
            if key not in server:
                assert model[key] in ([], {}), f"{path}.{key}: model default {model[key]!r}"
            elif key not in model:
                assert server[key] is None, f"{path}.{key}: only the CRD sets {server[key]!r}"
            else:
                _assert_agree(model[key], server[key], f"{path}.{key}")
    elif isinstance(model, list) and isinstance(server, list):
        assert len(model) == len(server), path
        for index, (left, right) in enumerate(zip(model, server, strict=True)):
            _assert_agree(left, right, f"{path}[{index}]")
    elif isinstance(model, str) and isinstance(server, str) and server and DURATION.match(server):
        assert parse_duration(model) == parse_duration(server), path  # 90m is 1h30m
    else:
        assert model == server, f"{path}: model {model!r} != server {server!r}"


def undescribed(schema: dict[str, Any], path: str) -> list[str]:
    """Every property, down to list items, without a description (`kubectl explain` shows it)."""
    missing = []
    for name, prop in (schema.get("properties") or {}).items():
        where = f"{path}.{name}"
        if where.count(".") == 1 and name == "metadata":
            continue  # the API server allows only `type` there and explains ObjectMeta itself
        if not str(prop.get("description", "")).strip():
            missing.append(where)
        missing += undescribed(prop, where)
        if isinstance(prop.get("items"), dict):
            missing += undescribed(prop["items"], where)
    return missing


@pytest.mark.parametrize(
    ("where", "body"), example_documents(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_crd_defaults_agree_with_model_defaults(where: str, body: dict[str, Any]) -> None:
    """What the API server stores after defaulting is what the operator parses, unchanged."""
    crd_schema = openapi_schema(CRDS[body["kind"]])
    defaulted_by_server = apply_defaults(crd_schema, body)["spec"]
    parsed = MODELS[body["kind"]].model_validate(body)
    _assert_agree(dump(parsed.spec), defaulted_by_server, "spec")
    assert MODELS[body["kind"]].model_validate({**body, "spec": defaulted_by_server}) == parsed


@pytest.mark.parametrize("case", BROKEN, ids=lambda c: c.id)
def test_crd_rejects_at_apply_what_it_can_express(case: Broken) -> None:
    errors = admission_errors(voicecapacity_crd(), case.body())
    if case.caught_at == "apply":
        assert errors, f"{case.id} would be admitted by the API server"
        assert any(error.startswith(case.field) for error in errors), errors
    else:
        # Not expressible in OpenAPI/CEL: admitted, then Ready=False InvalidSpec at reconcile.
        assert errors == []


@pytest.mark.parametrize("file_name", sorted(all_crds()))
def test_kubectl_explain_has_a_description_for_every_field(file_name: str) -> None:
    crd = all_crds()[file_name]
    kind = crd["spec"]["names"]["kind"]
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    assert undescribed(schema, kind) == []


def test_the_undescribed_field_check_finds_one() -> None:
    schema = {"properties": {"spec": {"description": "d", "properties": {"x": {"type": "string"}}}}}
    assert undescribed(schema, "Kind") == ["Kind.spec.x"]


def test_crds_on_disk_match_the_models() -> None:
    """The drift check: crds/ is exactly what `voicecap crds` generates (run `make crds`)."""
    on_disk = {path.name: path.read_text() for path in (ROOT / "crds").glob("*.yaml")}
    generated = {name: render_yaml(crd) for name, crd in all_crds().items()}
    assert on_disk == generated


@pytest.mark.parametrize("kind", sorted(CRDS))
def test_schema_is_structural(kind: str) -> None:
    schema = openapi_schema(CRDS[kind])
    for path, node in schema_nodes(schema):
        assert "$ref" not in node and "$defs" not in node, path
        assert "type" in node or node.get("x-kubernetes-int-or-string"), f"{path} has no type"
        assert not ("properties" in node and "additionalProperties" in node), path
        for keyword in ("exclusiveMinimum", "exclusiveMaximum"):
            assert isinstance(node.get(keyword, False), bool), f"{path}: {keyword} must be boolean"
        assert node.get("type") != "null", path


@pytest.mark.parametrize("kind", sorted(CRDS))
def test_every_default_passes_its_own_cel_rules(kind: str) -> None:
    """The API server refuses a CRD whose default fails a CEL rule of its node, as written: the
    first real server this project met refused `scaleDown: {default: {}}` ("no such key")."""
    assert default_errors(CRDS[kind]) == []


def test_printer_columns_and_names_follow_the_contract() -> None:
    crd = voicecapacity_crd()
    version = crd["spec"]["versions"][0]
    names = [column["name"].upper() for column in version["additionalPrinterColumns"]]
    assert names == [
        "VERTICAL",
        "MODE",
        "SESSIONS",
        "CAPACITY",
        "UTIL",
        "FLOOR",
        "CEILING",
        "REPLICAS",
        "NEXT-PEAK",
        "READY",
        "AGE",
    ]
    assert crd["spec"]["names"]["shortNames"] == ["vcap"]
    assert crd["spec"]["scope"] == "Namespaced"
    assert version["subresources"] == {"status": {}}
    budget = tokenbudget_crd()
    assert budget["spec"]["names"]["shortNames"] == ["tb"]
    assert budget["spec"]["scope"] == "Cluster"
    assert "voicecap" in crd["spec"]["names"]["categories"]


def test_printer_column_paths_exist_in_the_schema() -> None:
    for crd in CRDS.values():
        schema = openapi_schema(crd)
        for column in crd["spec"]["versions"][0]["additionalPrinterColumns"]:
            parts = column["jsonPath"].split("[?")[0].strip(".").split(".")
            if parts[0] == "metadata":  # the API server's own, not ours to declare
                continue
            node = schema
            for part in parts:
                node = node["properties"][part]  # KeyError: the column reads an undeclared field


def test_crd_files_are_valid_yaml_with_one_document_each() -> None:
    for path in Path(ROOT / "crds").glob("*.yaml"):
        documents = list(yaml.safe_load_all(path.read_text()))
        assert len(documents) == 1
        assert documents[0]["kind"] == "CustomResourceDefinition"
