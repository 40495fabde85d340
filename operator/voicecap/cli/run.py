"""`voicecap run`: its flags, turned into one frozen Settings for the operator."""

from __future__ import annotations

import argparse
from typing import Literal

from voicecap.adapters.prometheus_access import PrometheusAccess
from voicecap.cli.args import UsageError, add_runbook_flag, duration, instant
from voicecap.cli.prometheus_flags import add_prometheus_flags, prometheus_access
from voicecap.settings import Settings


def add_run(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `run`, the operator itself, with every flag the chart passes."""
    run = commands.add_parser(
        "run",
        help="run the operator (kubeconfig from KUBECONFIG, or in-cluster)",
        description="Run the operator: reconcile every VoiceCapacity into its HPA from live "
        "Prometheus session metrics. Credentials come from KUBECONFIG (or ~/.kube/config), "
        "or from the pod's service account in a cluster.",
    )
    add_prometheus_flags(run)
    run.add_argument(
        "--kubeconfig",
        metavar="FILE",
        help="kubeconfig to use (default: $KUBECONFIG, ~/.kube/config, or in-cluster in a pod)",
    )
    run.add_argument("--context", help="kubeconfig context to use (default: its current one)")
    add_runbook_flag(run)
    where = run.add_mutually_exclusive_group()
    where.add_argument(
        "--namespace",
        "-n",
        action="append",
        default=[],
        metavar="NS",
        help="watch only this namespace; repeatable",
    )
    where.add_argument(
        "--all-namespaces", "-A", action="store_true", help="watch every namespace (the default)"
    )
    run.add_argument(
        "--interval",
        type=duration,
        default=15.0,
        help="re-evaluate every VoiceCapacity this often: 15s, 1m, or seconds (0.25); default 15s",
    )
    run.add_argument(
        "--metrics-port", type=int, default=8080, help="port of /metrics (default 8080; 0: off)"
    )
    run.add_argument(
        "--health-port", type=int, default=8081, help="port of /healthz (default 8081; 0: off)"
    )
    run.add_argument("--bind-address", default="0.0.0.0", help="address for /metrics and /healthz")
    run.add_argument(
        "--hpa-metric-grace",
        type=duration,
        default=45.0,
        help="how long the owned HPA must report that it cannot read its metric before "
        "maxReplicas is held at the floor; shorter losses (a failed sync) write nothing "
        "(default 45s: three HPA syncs)",
    )
    run.add_argument(
        "--prometheus-failure-grace",
        type=duration,
        default=30.0,
        help="how long Prometheus may fail to answer before sessions are unknown; meanwhile "
        "the last answer stands, so a blip writes nothing (default 30s)",
    )
    run.add_argument(
        "--peering",
        metavar="NAME",
        help="Kopf peering object that elects one writer among replicas; when given, the "
        "operator waits until the peering CRD exists (default: use peering 'default' if its "
        "CRD is installed, else run standalone)",
    )
    run.add_argument(
        "--priority",
        type=peering_priority,
        default=0,
        help="peering priority: an integer (the highest live one writes), or 'auto' for "
        "replicas of one Deployment: the replica that started first writes (default 0)",
    )
    run.add_argument(
        "--peering-lifetime",
        type=int,
        default=60,
        metavar="SECONDS",
        help="how long a replica's peering entry lives without a keep-alive (sent every "
        "lifetime - 5..10 s): a SIGKILLed writer is replaced within this (default 60, Kopf's)",
    )
    run.add_argument("--standalone", action="store_true", help="ignore peering")
    run.add_argument(
        "--no-prometheus-rules",
        dest="prometheus_rules",
        action="store_false",
        help="never watch or write PrometheusRules; rules go to ConfigMaps even where "
        "prometheus-operator is installed (when RBAC does not grant prometheusrules)",
    )
    run.add_argument(
        "--no-keda",
        dest="keda",
        action="store_false",
        help="never watch KEDA ScaledObjects for conflicts (when RBAC does not grant them)",
    )
    run.add_argument(
        "--log-format", choices=("plain", "full", "json"), default="full", help="log format"
    )
    run.add_argument("--verbose", "-v", action="store_true", help="debug logs")
    run.add_argument(
        "--clock-start",
        type=instant,
        help="demos and tests: start the operator's clock at this instant instead of now",
    )
    run.add_argument(
        "--clock-speed",
        type=float,
        default=1.0,
        help="demos and tests: run the operator's clock this many times faster",
    )
    run.add_argument(
        "--clock-origin",
        type=float,
        metavar="UNIX_SECONDS",
        help="demos and tests: the real time at which the clock reads --clock-start, so other "
        "processes can share the timeline (default: when the operator starts)",
    )
    run.set_defaults(handler=start_operator)


def peering_priority(text: str) -> int | Literal["auto"]:
    """An argparse type: an integer priority, or 'auto'."""
    if text == "auto":
        return "auto"
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer or 'auto': {text!r}") from None


def start_operator(args: argparse.Namespace) -> int:
    """`voicecap run`: check the flags, then hand one frozen Settings to the runner."""
    access = prometheus_access(args)
    if args.clock_speed <= 0:
        raise UsageError("--clock-speed must be above zero")
    if args.peering_lifetime < 11:  # Kopf sends keep-alives every lifetime - 5..10 s
        raise UsageError("--peering-lifetime must be at least 11 seconds")
    from voicecap import runner  # noqa: PLC0415  (kopf and API clients load only for `run`)
    from voicecap.adapters.credentials import CredentialsError  # noqa: PLC0415

    try:
        return runner.run(_settings(args, access))
    except CredentialsError as error:
        raise UsageError(str(error)) from None


def _settings(args: argparse.Namespace, access: PrometheusAccess) -> Settings:
    return Settings(
        prometheus=access,
        namespaces=tuple(args.namespace),
        interval=args.interval,
        metrics_port=args.metrics_port or None,
        health_port=args.health_port or None,
        bind_address=args.bind_address,
        hpa_metric_grace=args.hpa_metric_grace,
        prometheus_failure_grace=args.prometheus_failure_grace,
        peering=args.peering,
        standalone=args.standalone,
        priority=0 if args.priority == "auto" else args.priority,
        auto_priority=args.priority == "auto",
        peering_lifetime=args.peering_lifetime,
        prometheus_rules=args.prometheus_rules,
        keda=args.keda,
        log_format=args.log_format,
        verbose=args.verbose,
        clock_start=args.clock_start,
        clock_speed=args.clock_speed,
        clock_origin=args.clock_origin,
        runbook_base_url=args.runbook_base_url,
        kubeconfig=args.kubeconfig,
        context=args.context,
    )
