"""api/base.py: the wire conventions every model shares: camelCase, unknown fields refused,
strict spec types, frozen values, and the wire form."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from voicecap.api.base import ObjectMeta, cel, defaulted, dump
from voicecap.api.spec_limits import Headroom, MetricsOutage
from voicecap.api.spec_peaks import Forecast


def test_camel_case_on_the_wire_snake_case_in_python() -> None:
    outage = MetricsOutage.model_validate({"maxStaleness": "90s"})
    assert outage.max_staleness.total_seconds() == 90
    assert dump(outage) == {"mode": "HoldLastKnown", "maxStaleness": "1m30s"}


def test_unknown_fields_are_errors_naming_them() -> None:
    with pytest.raises(ValidationError, match="maxStalenes"):
        MetricsOutage.model_validate({"maxStalenes": "90s"})


def test_spec_types_are_strict_as_the_api_server_checks_them() -> None:
    with pytest.raises(ValidationError, match="weeks"):
        Forecast.model_validate({"weeks": "13"})


def test_values_are_frozen() -> None:
    with pytest.raises(ValidationError):
        Forecast().weeks = 4  # type: ignore[misc]


def test_a_blocks_crd_default_has_its_nested_defaults_filled_in() -> None:
    assert defaulted(MetricsOutage) == {"default": {"mode": "HoldLastKnown", "maxStaleness": "5m"}}
    headroom = defaulted(Headroom)["default"]
    assert headroom["for"] == "10m"  # type: ignore[index]
    assert "warning" not in headroom  # type: ignore[operator]  # derived from the target


def test_metadata_keeps_what_the_operator_reads_and_ignores_the_rest() -> None:
    meta = ObjectMeta.model_validate(
        {"name": "healthcare", "resourceVersion": "42", "managedFields": [], "labels": {"a": "b"}}
    )
    assert (meta.name, meta.resource_version, meta.labels) == ("healthcare", "42", {"a": "b"})


def test_a_cel_rule_with_and_without_a_field_path() -> None:
    assert cel("self.a < self.b", "a below b") == {
        "rule": "self.a < self.b",
        "message": "a below b",
    }
    assert cel("x", "m", ".a")["fieldPath"] == ".a"
