#!/usr/bin/env bash
# Builds the small test tools that are Go modules, from tests/tools/*/go.mod, with the ordinary
# `go build` (kept apart from tests/cluster/build.sh so that adding a tool does not rebuild the
# control plane):
#   labelproxy/  prom-label-proxy: a tenant header checked in front of Prometheus
#   livekit/     livekit-server v1.13.5: a real media server for the LiveKit agents test
#   registry/    distribution v3.0.0: a real OCI registry the chart and the image are pushed to
# The binaries land in $VOICECAP_TOOLS_CACHE/<key>/ (default ~/.cache/voicecap/tools), keyed on
# every go.mod and go.sum here, this script and the Go version. Prints the directory.
set -euo pipefail
export GOTOOLCHAIN=local GOFLAGS=-mod=readonly

here=$(cd "$(dirname "$0")" && pwd)
cache=${VOICECAP_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/voicecap/tools}
command -v go >/dev/null || { echo "tools/build.sh: go is not on PATH (install Go 1.26)" >&2; exit 2; }
key=$({ go version; cat "$0"; cd "$here" && cat ./*/go.mod ./*/go.sum; } | sha256sum | cut -c1-16)
out="$cache/$key"
if [ -f "$out/.complete" ]; then
  echo "$out"
  exit 0
fi
mkdir -p "$cache"
tmp=$(mktemp -d "$cache/tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
(cd "$here/labelproxy" && go build -trimpath -ldflags="-s -w" -o "$tmp/prom-label-proxy" \
  github.com/prometheus-community/prom-label-proxy)
(cd "$here/livekit" && go build -trimpath -ldflags="-s -w" -o "$tmp/livekit-server" \
  github.com/livekit/livekit-server/cmd/server)
(cd "$here/registry" && go build -trimpath -ldflags="-s -w" -o "$tmp/registry" \
  github.com/distribution/distribution/v3/cmd/registry)
touch "$tmp/.complete"
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
find "$cache" -mindepth 1 -maxdepth 1 -type d ! -name "$key" -exec rm -rf {} +
echo "$out"
