"""The boundary: raw watch-cache bodies become typed values, once per resourceVersion.

The service never sees a raw VoiceCapacity or TokenBudget. It gets a `CapacityEntry` (a valid
VoiceCapacity, or the reasons it is invalid, with its previous status parsed) or a `BudgetEntry`,
and a `LiveChild` for what the operator owns. Parsing is cached per (key, resourceVersion): with
10,000 objects a steady cycle validates nothing again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from voicecap.adapters.manifests import validation_problems
from voicecap.api.models import (
    ObjectMeta,
    TokenBudget,
    TokenBudgetStatus,
    VoiceCapacity,
    VoiceCapacityStatus,
)
from voicecap.api.timefmt import parse_iso
from voicecap.core.apply.autoscaler import HPA_CONDITION_TYPES, HPACondition, HPAReport
from voicecap.core.planner.observation import Memory
from voicecap.core.status.budget import parse_budget_status
from voicecap.core.status.memory import memory_from_status, parse_status


@dataclass(frozen=True)
class CapacityEntry:
    """One VoiceCapacity as the watch cache has it: valid (`capacity`) or not (`invalid`)."""

    key: str  # namespace/name
    meta: ObjectMeta
    capacity: VoiceCapacity | None
    invalid: str | None  # every problem with its field path, when `capacity` is None
    memory: Memory  # what the previous evaluation decided, read back from its status
    observed_generation: int | None  # the generation the status answers
    # The status exactly as stored: parsed again only when a status is rebuilt (a parsed one
    # is ten times the size of the object, held for every object), and the base of the
    # smallest merge patch.
    stored_status: Mapping[str, Any] = field(default_factory=dict, repr=False)
    # The grant its status last reported, and where from: what its HPA carries (seeds the ledger
    # after a restart, also while the spec is invalid).
    reported_grant: tuple[str, int] | None = None

    @property
    def generation(self) -> int | None:
        return self.meta.generation

    def status(self) -> VoiceCapacityStatus | None:
        """The previous status, parsed (None: none, or unreadable)."""
        return parse_status(self.stored_status)


@dataclass(frozen=True)
class BudgetEntry:
    name: str
    generation: int | None
    budget: TokenBudget | None
    invalid: str | None
    status: TokenBudgetStatus | None
    stored_status: Mapping[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class LiveChild:
    """An object the operator may own (HPA, rules), trimmed to what it compares and reads."""

    owners: tuple[tuple[str, str, str | None], ...]  # (kind, name, uid) of ownerReferences
    body: Mapping[str, Any] = field(repr=False)  # metadata (no managedFields), spec, data
    hpa: HPAReport | None = None  # the HPA's own status, for HPAs
    version: str | None = None  # resourceVersion: unchanged means as last compared

    def owned_by(self, capacity: VoiceCapacity) -> bool:
        """Owned through an ownerReference to this VoiceCapacity (a uid, when both have one)."""
        uid = capacity.metadata.uid
        return any(
            kind == capacity.kind
            and name == capacity.metadata.name
            and (owner_uid is None or uid is None or owner_uid == uid)
            for kind, name, owner_uid in self.owners
        )


def invalid_message(error: ValidationError) -> str:
    """Every problem with its field path, e.g. `spec.peaks[0].timeZone: unknown IANA zone`."""
    return "; ".join(
        f"{problem.field}: {problem.message}" for problem in validation_problems("", error)
    )


_KEPT_METADATA = (
    "name", "namespace", "uid", "generation", "resourceVersion", "creationTimestamp", "labels",
    "ownerReferences",
)  # fmt: skip


def trimmed(body: Mapping[str, Any]) -> dict[str, Any]:
    """A watched VoiceCapacity or TokenBudget as the watch cache keeps it: without
    managedFields and annotations (Kopf's own copy of the last spec among them), most of a
    body's size and never read."""
    meta = body.get("metadata") or {}
    kept = {key: meta[key] for key in _KEPT_METADATA if key in meta}
    return {**{k: v for k, v in body.items() if k != "metadata"}, "metadata": kept}


def live_child(body: Mapping[str, Any], *, hpa: bool = False) -> LiveChild:
    """Trim a watched child: managedFields and status are most of its size and never compared."""
    meta = body.get("metadata") or {}
    kept_meta = {
        key: meta[key]
        for key in ("name", "namespace", "labels", "annotations", "ownerReferences")
        if key in meta
    }
    owners = tuple(
        (str(ref.get("kind", "")), str(ref.get("name", "")), ref.get("uid"))
        for ref in meta.get("ownerReferences") or ()
    )
    trimmed = {key: value for key, value in body.items() if key not in {"metadata", "status"}}
    report = hpa_report(body) if hpa else None
    return LiveChild(
        owners=owners,
        body={**trimmed, "metadata": kept_meta},
        hpa=report,
        version=meta.get("resourceVersion"),
    )


def hpa_report(body: Mapping[str, Any]) -> HPAReport:
    """The live HPA's own status, typed (what `kubectl describe hpa` shows)."""
    status = body.get("status") or {}
    return HPAReport(
        conditions=tuple(
            HPACondition(
                type=str(c.get("type", "")),
                status=str(c.get("status", "Unknown")),
                reason=str(c.get("reason", "")),
                message=str(c.get("message", "")),
                since=parse_iso(str(c.get("lastTransitionTime") or "")),
            )
            for c in status.get("conditions") or []
            if c.get("type") in HPA_CONDITION_TYPES
        ),
        current_replicas=status.get("currentReplicas"),
        desired_replicas=status.get("desiredReplicas"),
    )


class ObjectParser:
    """Parses watch-cache bodies, caching each object's result per resourceVersion."""

    def __init__(self) -> None:
        self._capacities: dict[str, tuple[str, CapacityEntry]] = {}
        self._budgets: dict[str, tuple[str, BudgetEntry]] = {}

    def capacity(self, key: str, body: Mapping[str, Any]) -> CapacityEntry:
        version = (body.get("metadata") or {}).get("resourceVersion")
        cached = self._capacities.get(key)
        if cached is not None and version is not None and cached[0] == version:
            return cached[1]
        entry = parse_capacity(key, body)
        if version is not None:
            self._capacities[key] = (version, entry)
        return entry

    def budget(self, body: Mapping[str, Any]) -> BudgetEntry:
        meta = body.get("metadata") or {}
        name, version = str(meta.get("name", "")), meta.get("resourceVersion")
        cached = self._budgets.get(name)
        if cached is not None and version is not None and cached[0] == version:
            return cached[1]
        entry = parse_budget(body)
        if version is not None:
            self._budgets[name] = (version, entry)
        return entry

    def forget_except(self, capacity_keys: Iterable[str], budget_names: Iterable[str]) -> None:
        """Drop what was deleted, so memory follows the object count."""
        for cache, keep in ((self._capacities, capacity_keys), (self._budgets, budget_names)):
            for gone in set(cache) - set(keep):
                del cache[gone]


def parse_capacity(key: str, body: Mapping[str, Any]) -> CapacityEntry:
    stored: Mapping[str, Any] = body.get("status") or {}
    capacity: VoiceCapacity | None = None
    invalid: str | None = None
    try:
        capacity = VoiceCapacity.model_validate(_without_status(body))
        meta = capacity.metadata
    except ValidationError as error:
        invalid = invalid_message(error)
        meta = ObjectMeta.model_validate(body.get("metadata") or {"name": key.rpartition("/")[2]})
    status = parse_status(stored)
    return CapacityEntry(
        key=key,
        meta=meta,
        capacity=capacity,
        invalid=invalid,
        memory=memory_from_status(status),
        observed_generation=status.observed_generation if status is not None else None,
        stored_status=stored,
        reported_grant=_reported_grant(body),
    )


def parse_budget(body: Mapping[str, Any]) -> BudgetEntry:
    stored = dict(body.get("status") or {})
    meta = body.get("metadata") or {}
    budget: TokenBudget | None = None
    invalid: str | None = None
    try:
        budget = TokenBudget.model_validate(_without_status(body))
    except ValidationError as error:
        invalid = invalid_message(error)
    return BudgetEntry(
        name=str(meta.get("name", "")),
        generation=meta.get("generation"),
        budget=budget,
        invalid=invalid,
        status=parse_budget_status(stored),
        stored_status=stored,
    )


def _reported_grant(body: Mapping[str, Any]) -> tuple[str, int] | None:
    budget = ((body.get("spec") or {}).get("model") or {}).get("budgetRef")
    granted = ((body.get("status") or {}).get("tpm") or {}).get("granted")
    if isinstance(budget, str) and isinstance(granted, int):
        return budget, granted
    return None


def _without_status(body: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key != "status"}
