"""A real OCI registry (distribution v3.0.0, built from Go modules by tests/tools/build.sh) on a
loopback port of its own, plain HTTP, its storage in a temporary folder; stopped by PID."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

from support.servers import ReadyServer, free_port, tool


class Registry(ReadyServer):
    """`registry serve` on 127.0.0.1:<port>: `host` is what helm and buildah push to."""

    ready_path = "/v2/"

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.host}"
        config = workdir / "registry.yaml"
        storage = workdir / "storage"
        config.write_text(
            "version: 0.1\nlog: {level: warn}\n"
            f"storage: {{filesystem: {{rootdirectory: {storage}}}, delete: {{enabled: true}}}}\n"
            f"http: {{addr: {self.host}}}\n"
        )
        command = [str(tool("registry")), "serve", str(config)]
        self._launch(command, workdir / "registry.log", "the registry")

    def manifest_digest(self, repository: str, reference: str) -> str | None:
        """The digest the registry serves for `repository:reference` (a tag or a digest), from
        its own Docker-Content-Digest header (None: not there)."""
        request = urllib.request.Request(
            f"http://{self.host}/v2/{repository}/manifests/{reference}",
            method="HEAD",
            headers={"Accept": ", ".join([
                "application/vnd.oci.image.manifest.v1+json",
                "application/vnd.oci.image.index.v1+json",
                "application/vnd.docker.distribution.manifest.v2+json",
            ])},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:
                return answer.headers.get("Docker-Content-Digest")
        except OSError:
            return None

    def tags(self, repository: str) -> list[str]:
        with urllib.request.urlopen(
            f"http://{self.host}/v2/{repository}/tags/list", timeout=5
        ) as a:
            return list(json.loads(a.read())["tags"] or [])
