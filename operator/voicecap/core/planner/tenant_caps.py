"""Per-tenant caps for the gateway (spec.admission.tenantCaps): what a tenants ConfigMap lists.

Every data value is read, one `<tenant>: <cap>` per line (`acme: 50`); `#` starts a comment,
blank lines are skipped. A line that is not a tenant and a non-negative integer is a problem
named by its key and line and skipped: the other lines still apply (hundreds of tenants must not
lose their caps to one typo). A tenant listed twice keeps its last cap and is named too.
Pure: the service reads the ConfigMap.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from voicecap.core.lines import entries

TENANT = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")


@dataclass(frozen=True)
class TenantCaps:
    """What one tenants ConfigMap holds (found=False: it does not exist)."""

    caps: Mapping[str, int] = field(default_factory=dict)
    problems: tuple[str, ...] = ()
    found: bool = True

    @property
    def total(self) -> int:
        return sum(self.caps.values())


MISSING = TenantCaps(found=False)


def parse_tenant_caps(data: Mapping[str, str] | None) -> TenantCaps:
    caps: dict[str, int] = {}
    problems: list[str] = []
    for where, entry in entries(data):
        tenant, colon, value = (part.strip() for part in entry.partition(":"))
        if not colon or not TENANT.match(tenant):
            problems.append(f"{where}: expected '<tenant>: <cap>', not {entry!r}")
            continue
        if not re.fullmatch(r"[0-9]{1,9}", value):
            problems.append(
                f"{where}: {tenant}'s cap must be a non-negative integer, not {value!r}"
            )
            continue
        if tenant in caps:
            problems.append(f"{where}: {tenant} is listed again (this cap, {int(value)}, wins)")
        caps[tenant] = int(value)
    return TenantCaps(caps, tuple(problems))
