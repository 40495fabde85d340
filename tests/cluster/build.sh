#!/usr/bin/env bash
# Builds the real control plane the tests run, with the ordinary `go build`, from the pinned Go
# modules under tests/cluster/go/ (one module per upstream project, so each keeps the dependency
# versions its own release was tested with):
#   kube/     kube-apiserver, kube-controller-manager, kube-scheduler, kubectl (k8s.io/kubernetes)
#   etcd/     etcd (go.etcd.io/etcd/server/v3)
#   kwok/     kwok (sigs.k8s.io/kwok): fake Nodes, and Pods that become Running and Ready
#   adapter/  prometheus-adapter (sigs.k8s.io/prometheus-adapter): custom.metrics.k8s.io
#   monitoring/  prometheus-operator's ServiceMonitor and PrometheusRule CRDs (files, not built)
#
# The binaries land in $VOICECAP_CLUSTER_CACHE/<key>/ (default ~/.cache/voicecap/cluster), where
# <key> hashes every go.mod and go.sum, this script and the Go version: a second run, or a fresh
# clone on the same machine, reuses them without calling go at all. Prints the directory.
set -euo pipefail
export GOTOOLCHAIN=local GOFLAGS=-mod=readonly

here=$(cd "$(dirname "$0")" && pwd)
cache=${VOICECAP_CLUSTER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/voicecap/cluster}
command -v go >/dev/null || { echo "build.sh: go is not on PATH (install Go 1.26)" >&2; exit 2; }
key=$({ go version; cat "$0"; cd "$here/go" && cat ./*/go.mod ./*/go.sum; } | sha256sum | cut -c1-16)
out="$cache/$key"
if [ -f "$out/.complete" ]; then
  echo "$out"
  exit 0
fi

tmp=$(mktemp -d "$cache.tmp.XXXXXX" 2>/dev/null || { mkdir -p "$cache" && mktemp -d "$cache.tmp.XXXXXX"; })
trap 'rm -rf "$tmp"' EXIT
started=$SECONDS
build() {  # build MODULE OUTPUT PACKAGE...: OUTPUT is a file for one package, a folder for several
  local module=$1 output=$2
  shift 2
  local began=$SECONDS
  (cd "$here/go/$module" && go build -trimpath -ldflags="-s -w ${LDFLAGS:-}" -o "$output" "$@")
  echo "build.sh: $module built in $((SECONDS - began)) s" >&2
}
build etcd "$tmp/etcd" go.etcd.io/etcd/server/v3
build kwok "$tmp/kwok" sigs.k8s.io/kwok/cmd/kwok
build adapter "$tmp/prometheus-adapter" sigs.k8s.io/prometheus-adapter/cmd/adapter
# The version the binaries report (`kubectl version`, /version), stamped the way Kubernetes'
# hack/lib/version.sh stamps releases: helm and clients check it (kubeVersion constraints).
kube=$(cd "$here/go/kube" && go list -m -f '{{.Version}}' k8s.io/kubernetes)
minor=${kube#v*.}
minor=${minor%%.*}
LDFLAGS=""
for package in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  LDFLAGS+=" -X $package.gitVersion=$kube -X $package.gitMajor=1 -X $package.gitMinor=$minor"
  LDFLAGS+=" -X $package.gitTreeState=clean -X $package.buildDate=1970-01-01T00:00:00Z"
done
LDFLAGS=$LDFLAGS build kube "$tmp/" \
  k8s.io/kubernetes/cmd/kube-apiserver \
  k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler \
  k8s.io/kubernetes/cmd/kubectl
module_dir() {  # module_dir MODULE PATH: where the go command keeps the pinned module's files
  (cd "$here/go/$1" && go mod download -json "$2" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
}
# kwok's own stages, as kwokctl uses them: nodes Ready with lease heartbeats; pods created,
# Running and Ready after kwok's default 1-6 s delays, and removed when deleted.
stages=$(module_dir kwok sigs.k8s.io/kwok)/kustomize/stage
for stage in node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease \
  pod/general/pod-create pod/general/pod-init-container-running \
  pod/general/pod-init-container-completed pod/general/pod-ready pod/general/pod-complete \
  pod/general/pod-delete; do
  echo "---"
  cat "$stages/$stage.yaml"
done >"$tmp/kwok-stages.yaml"
mkdir "$tmp/monitoring-crds"
crds=$(module_dir monitoring github.com/prometheus-operator/prometheus-operator)/example/prometheus-operator-crd
cp "$crds"/monitoring.coreos.com_{servicemonitors,prometheusrules}.yaml "$tmp/monitoring-crds/"
touch "$tmp/.complete"
mkdir -p "$cache"
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
# Older builds (another go.sum) are ~500 MB each: keep only this one.
find "$cache" -mindepth 1 -maxdepth 1 -type d ! -name "$key" -exec rm -rf {} +
echo "build.sh: control plane built in $((SECONDS - started)) s into $out" >&2
echo "$out"
