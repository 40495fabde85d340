// prometheus-operator's CRDs (ServiceMonitor, PrometheusRule, ...), read from its module's
// example/prometheus-operator-crd folder: nothing is built from it.
module voicecap.test/cluster/monitoring

go 1.26.0

require github.com/prometheus-operator/prometheus-operator v0.85.0 // indirect
