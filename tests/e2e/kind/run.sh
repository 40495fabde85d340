#!/usr/bin/env bash
# `make e2e-kind`: the e2e scenarios on a real cluster. Needs Docker, kind and kubectl; the helm
# binary and pytest come from the project's virtual environment. Creates a kind cluster, builds
# and loads the operator image, installs the chart and a test Prometheus, runs tests/e2e, and
# deletes the cluster whatever happened (KEEP_CLUSTER=1 keeps it for debugging).
set -euo pipefail
cd "$(dirname "$0")/../../.."

CLUSTER=${KIND_CLUSTER:-voicecap-e2e}
IMAGE=voicecap-operator:e2e
BIN=${BIN:-.venv/bin}
WORK=$(mktemp -d)
export HELM_CACHE_HOME=$WORK/helm/cache HELM_CONFIG_HOME=$WORK/helm/config HELM_DATA_HOME=$WORK/helm/data
export KUBECONFIG=$WORK/kubeconfig

for tool in docker kind kubectl; do
  command -v "$tool" >/dev/null || { echo "e2e-kind needs $tool on PATH" >&2; exit 2; }
done
docker info >/dev/null 2>&1 || { echo "e2e-kind needs a running Docker engine" >&2; exit 2; }

forward_pid=""
cleanup() {
  [ -n "$forward_pid" ] && kill "$forward_pid" 2>/dev/null || true
  if [ "${KEEP_CLUSTER:-0}" = 1 ]; then
    echo "kept cluster $CLUSTER (KUBECONFIG=$KUBECONFIG)"
  else
    kind delete cluster --name "$CLUSTER" >/dev/null 2>&1 || true
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

echo "== kind cluster $CLUSTER"
kind create cluster --name "$CLUSTER" --kubeconfig "$KUBECONFIG" --wait 180s

echo "== image $IMAGE"
docker build --tag "$IMAGE" .
kind load docker-image "$IMAGE" --name "$CLUSTER"

echo "== test Prometheus and session exporter"
kubectl apply -f tests/e2e/kind/test-stack.yaml
kubectl -n monitoring create configmap session-exporter \
  --from-file=session_exporter.py=tests/support/session_exporter.py
kubectl -n monitoring rollout status deployment/session-exporter --timeout=180s
kubectl -n monitoring rollout status deployment/prometheus --timeout=180s

echo "== helm install voicecap-operator"
"$BIN/helm" install voicecap charts/voicecap-operator \
  --namespace voicecap-system --create-namespace \
  --set image.repository=voicecap-operator --set image.tag=e2e --set image.pullPolicy=Never \
  --set operator.prometheusUrl=http://prometheus.monitoring.svc:9090 \
  --set operator.interval=2s --set operator.logFormat=plain \
  --set metrics.service.enabled=true \
  --wait --timeout 180s

echo "== tests/e2e"
port=$("$BIN/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
kubectl -n monitoring port-forward svc/session-exporter "$port:9100" >"$WORK/port-forward.log" 2>&1 &
forward_pid=$!
for _ in $(seq 1 50); do curl -fsS "http://127.0.0.1:$port/metrics" >/dev/null 2>&1 && break; sleep 0.2; done

status=0
E2E_KUBECONFIG=$KUBECONFIG E2E_SESSIONS_URL=http://127.0.0.1:$port \
  timeout 900 "$BIN/pytest" -q tests/e2e -p no:cacheprovider || status=$?
if [ "$status" != 0 ]; then
  kubectl -n voicecap-system logs deployment/voicecap-voicecap-operator --tail=200 || true
  kubectl get vcap,hpa -A || true
fi
exit "$status"
