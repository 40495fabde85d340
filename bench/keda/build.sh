#!/usr/bin/env bash
# Builds KEDA (github.com/kedacore/keda/v2, pinned in go.mod/go.sum here) with the ordinary
# `go build`: the operator (ScaledObject controller, scalers, the metrics gRPC service) and the
# metrics adapter (external.metrics.k8s.io for the HPA), and copies KEDA's CRDs from the same
# module. For bench/keda_compare.py only; `make test` never builds it.
#
# Lands in $VOICECAP_KEDA_CACHE/<key>/ (default ~/.cache/voicecap/keda), <key> hashing go.mod,
# go.sum, this script and the Go version; a second run reuses it. Prints the directory.
set -euo pipefail
export GOTOOLCHAIN=local GOFLAGS=-mod=readonly

here=$(cd "$(dirname "$0")" && pwd)
cache=${VOICECAP_KEDA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/voicecap/keda}
command -v go >/dev/null || { echo "build.sh: go is not on PATH (install Go 1.26)" >&2; exit 2; }
key=$({ go version; cat "$0" "$here/go.mod" "$here/go.sum"; } | sha256sum | cut -c1-16)
out="$cache/$key"
if [ -f "$out/.complete" ]; then
  echo "$out"
  exit 0
fi
mkdir -p "$cache"
tmp=$(mktemp -d "$cache.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
started=$SECONDS
version=$(cd "$here" && go list -m -f '{{.Version}}' github.com/kedacore/keda/v2)
(cd "$here" && go build -trimpath \
  -ldflags="-s -w -X github.com/kedacore/keda/v2/version.Version=$version" \
  -o "$tmp/" github.com/kedacore/keda/v2/cmd/operator github.com/kedacore/keda/v2/cmd/adapter)
module=$(cd "$here" && go mod download -json github.com/kedacore/keda/v2 \
  | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
mkdir "$tmp/crds"
cp "$module"/config/crd/bases/*.yaml "$tmp/crds/"  # every CRD: the operator watches them all
touch "$tmp/.complete"
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
find "$cache" -mindepth 1 -maxdepth 1 -type d ! -name "$key" -exec rm -rf {} +
echo "build.sh: KEDA $version built in $((SECONDS - started)) s into $out" >&2
echo "$out"
