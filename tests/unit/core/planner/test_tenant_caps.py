"""core/planner/tenant_caps.py: `<tenant>: <cap>` lines; bad lines named and skipped."""

from __future__ import annotations

from voicecap.core.planner.tenant_caps import MISSING, parse_tenant_caps


def test_every_value_is_read_and_bad_lines_are_named_and_skipped() -> None:
    caps = parse_tenant_caps(
        {
            "starter": "# $149 plans\nacme: 50\nglobex: 50\n\n",
            "pro": "initech: 200  # $499\nhooli: lots\numbrella corp: 10\nacme: 60\nwayne: -5\n",
        }
    )
    assert dict(caps.caps) == {"initech": 200, "acme": 50, "globex": 50}  # keys in order
    assert caps.total == 300 and caps.found
    assert caps.problems == (
        "pro line 2: hooli's cap must be a non-negative integer, not 'lots'",
        "pro line 3: expected '<tenant>: <cap>', not 'umbrella corp: 10'",
        "pro line 5: wayne's cap must be a non-negative integer, not '-5'",
        "starter line 2: acme is listed again (this cap, 50, wins)",
    )


def test_an_empty_or_missing_config_map() -> None:
    assert parse_tenant_caps(None).caps == {} and parse_tenant_caps({}).problems == ()
    assert not MISSING.found
