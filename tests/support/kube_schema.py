"""What the API server does with a CRD's schema on `kubectl apply`, for tests that have no server.

1. structural defaulting (fill `default` into absent properties, recursively),
2. OpenAPI v3.0 validation (JSON Schema draft 4 semantics: boolean exclusiveMinimum),
3. the x-kubernetes-validations CEL rules, evaluated with cel-python on the defaulted object.
Errors come back as "<field path>: <message>" the way the server reports them.
"""

from __future__ import annotations

import copy
import functools
import operator
from collections.abc import Iterator
from typing import Any

import celpy
import jsonschema

Node = tuple[dict[str, Any], Any, tuple[Any, ...]]  # (its schema, the value, its field path)


def openapi_schema(crd: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema


def nodes(schema: dict[str, Any], value: Any, path: tuple[Any, ...] = ()) -> Iterator[Node]:
    """Every value in the object with the schema that governs it, parents before children.

    A parent's children are read only after the parent is yielded, so a caller may add keys
    to it (defaulting does) and see them walked.
    """
    yield schema, value, path
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for name, item in value.items():
            sub = properties.get(name, extra if isinstance(extra, dict) else None)
            if sub is not None:
                yield from nodes(sub, item, (*path, name))
    elif isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            yield from nodes(schema["items"], item, (*path, index))


def apply_defaults(schema: dict[str, Any], value: Any) -> Any:
    value = copy.deepcopy(value)
    for node_schema, node, _ in nodes(schema, value):
        if isinstance(node, dict):
            for name, sub in node_schema.get("properties", {}).items():
                if name not in node and "default" in sub:
                    node[name] = copy.deepcopy(sub["default"])
    return value


def schema_errors(schema: dict[str, Any], value: Any) -> list[str]:
    validator = jsonschema.Draft4Validator(schema)
    errors = []
    for error in sorted(
        validator.iter_errors(value), key=lambda e: list(map(str, e.absolute_path))
    ):
        if error.validator == "required":  # the server points at the missing field itself
            for name in error.validator_value:
                if name not in error.instance:
                    errors.append(f"{_path([*error.absolute_path, name])}: Required value")
        else:
            errors.append(f"{_path(error.absolute_path)}: {error.message}")
    return errors


def cel_errors(schema: dict[str, Any], value: Any) -> list[str]:
    errors = []
    for node_schema, node, path in nodes(schema, value):
        errors += _rule_errors(node_schema, node, _path(path))
    return errors


def _rule_errors(
    node_schema: dict[str, Any], value: Any, where: str, *, field_path: bool = True
) -> list[str]:
    """The node's x-kubernetes-validations that `value` fails, or cannot be evaluated on."""
    errors = []
    for rule in node_schema.get("x-kubernetes-validations", []):
        try:
            passed = evaluate(rule["rule"], _as_cel_json(node_schema, value))
        except celpy.CELEvalError as error:  # the server refuses these too ("no such key")
            errors.append(f"{where}: {error.args[0]} evaluating rule: {rule['rule']}")
            continue
        if not passed:
            suffix = rule.get("fieldPath", "") if field_path else ""
            errors.append(f"{where}{suffix}: {rule['message']}")
    return errors


def unknown_fields(schema: dict[str, Any], value: Any) -> list[str]:
    """What strict field validation (kubectl's default since 1.27) rejects instead of pruning."""
    return [
        f"{_path((*path, name))}: unknown field"
        for node_schema, node, path in nodes(schema, value)
        if isinstance(node, dict) and "properties" in node_schema
        for name in node
        if name not in node_schema["properties"]
    ]


def list_map_errors(schema: dict[str, Any], value: Any) -> list[str]:
    """x-kubernetes-list-type: map makes the map keys unique ("Duplicate value")."""
    errors = []
    for node_schema, node, path in nodes(schema, value):
        keys = node_schema.get("x-kubernetes-list-map-keys")
        if not (
            isinstance(node, list) and node_schema.get("x-kubernetes-list-type") == "map" and keys
        ):
            continue
        seen = set()
        for index, item in enumerate(node):
            key = tuple(item.get(k) for k in keys) if isinstance(item, dict) else None
            if key in seen:
                errors.append(f"{_path((*path, index))}: Duplicate value: {key}")
            seen.add(key)
    return errors


def default_errors(crd: dict[str, Any]) -> list[str]:
    """What the API server refuses in the CRD itself: a `default` must pass the CEL rules of its
    node as written (nested defaults are not applied to it first)."""
    errors = []
    for path, node_schema in schema_nodes(openapi_schema(crd)):
        if "default" in node_schema:
            errors += _rule_errors(
                node_schema, node_schema["default"], f"{path}.default", field_path=False
            )
    return errors


def schema_nodes(schema: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every node of a schema (not of an object), parents first, with its path in the schema:
    `.spec.peaks[items].name`."""
    yield path, schema
    for name, sub in schema.get("properties", {}).items():
        yield from schema_nodes(sub, f"{path}.{name}")
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            yield from schema_nodes(schema[key], f"{path}[{key}]")


def admission_errors(crd: dict[str, Any], body: dict[str, Any]) -> list[str]:
    """All the errors `kubectl apply` of `body` would get from a server with `crd` installed."""
    schema = openapi_schema(crd)
    defaulted = apply_defaults(schema, body)
    errors = unknown_fields(schema, defaulted) + schema_errors(schema, defaulted)
    errors += list_map_errors(schema, defaulted)
    if errors:  # the server runs CEL only on objects that pass the schema
        return errors
    return cel_errors(schema, defaulted)


_ENVIRONMENT = celpy.Environment()
_PROGRAMS: dict[str, Any] = {}


def _sum(values: Any) -> Any:
    """Kubernetes' CEL list library `<list>.sum()` (k8s.io/apiserver/pkg/cel/library/lists.go),
    which cel-python lacks: the sum of a list of ints (0 for an empty list)."""
    return functools.reduce(operator.add, values, celpy.celtypes.IntType(0))


# Functions the API server's CEL environment has beyond the CEL standard.
_KUBERNETES_FUNCTIONS = {"sum": _sum}


def evaluate(rule: str, value: Any) -> bool:
    program = _PROGRAMS.get(rule)
    if program is None:
        program = _PROGRAMS[rule] = _ENVIRONMENT.program(
            _ENVIRONMENT.compile(rule), functions=_KUBERNETES_FUNCTIONS
        )
    result = program.evaluate({"self": celpy.json_to_cel(value)})
    if isinstance(result, celpy.CELEvalError):  # cel-python returns some errors, raises others
        raise result
    return bool(result)


def _as_cel_json(schema: dict[str, Any], value: Any) -> Any:
    """In Kubernetes CEL a `number` field is always a double, even when written as 1."""
    if schema.get("type") == "number" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        return {k: _as_cel_json(properties.get(k, {}), v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_cel_json(schema.get("items", {}), item) for item in value]
    return value


def _path(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "<root>"
