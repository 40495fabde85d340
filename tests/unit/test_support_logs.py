"""The e2e suite's 403 detector reads RBAC refusals, not timestamps that end in 403 ms."""

from __future__ import annotations

from pathlib import Path

from support.real_stack import forbidden_lines


def test_a_refusal_is_found_and_a_millisecond_is_not(tmp_path: Path) -> None:
    log = tmp_path / "operator-1.log"
    log.write_text(
        '[2026-11-28 10:32:24,403] aiohttp.access [INFO] "GET /healthz HTTP/1.1" 200 200\n'
        "[2026-11-28 10:32:25,001] voicecap [WARNING] 403 Forbidden: configmaps is forbidden\n"
        '[2026-11-28 10:32:26,002] aiohttp.access [INFO] "GET /metrics HTTP/1.1" 403 12\n'
    )
    found = forbidden_lines([log])
    assert [line.split("] ", 1)[0][-6:] for line in found] == ["25,001", "26,002"]
