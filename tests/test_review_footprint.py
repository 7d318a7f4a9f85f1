"""Given what a stack registers, its footprint is the requests it deploys, per component."""

from __future__ import annotations

from decimal import Decimal

import pytest
from stack_harness import RegisteredResource, StackRun, run_stack

from mesh.footprint import ADDONS, APPS, CONTROL_PLANE, GATEWAY, NODE_AGENTS, Pods, UnknownFootprintError
from mesh.istio.footprint import gateway_pods, istiod_pods
from mesh.objects import chart_name
from review.footprint import stack_footprint
from review.stacks import stack_names
from settings.quantities import Requests, parse_quantity

MI = 2**20


def requests(cpu, memory):
    return Requests(parse_quantity(cpu), parse_quantity(memory))


def resource(type_, name, inputs):
    return RegisteredResource(
        type=type_,
        name=name,
        urn=f"urn:{name}",
        inputs=inputs,
        redacted_inputs=inputs,
        parent="",
        dependencies=(),
        protect=False,
        retain_on_delete=False,
        ignore_changes=(),
        transforms=(),
    )


def chart(name, chart_name, values):
    return resource("kubernetes:helm.sh/v4:Chart", name, {"chart": chart_name, "values": values})


def deployment(name, namespace, replicas, labels=None):
    container = {"name": "app", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}
    pod = {"metadata": {"labels": labels or {}}, "spec": {"containers": [container]}}
    return resource(
        "kubernetes:apps/v1:Deployment",
        name,
        {"metadata": {"name": name, "namespace": namespace}, "spec": {"replicas": replicas, "template": pod}},
    )


INJECTED_NAMESPACE = resource(
    "kubernetes:core/v1:Namespace", "mesh-ns", {"metadata": {"name": "shop", "labels": {"istio-injection": "enabled"}}}
)
ISTIOD = chart(
    "istiod",
    "istiod",
    {
        "replicaCount": 1,
        "resources": {"requests": {"cpu": "500m", "memory": "2Gi"}},
        "global": {"proxy": {"resources": {"requests": {"cpu": "10m", "memory": "40Mi"}}}},
    },
)


def test_istiod_runs_its_autoscaling_minimum_when_autoscaled_else_its_replica_count():
    values = {"replicaCount": 1, "autoscaleMin": 3, "resources": {"requests": {"cpu": "500m", "memory": "2Gi"}}}

    assert istiod_pods({**values, "autoscaleEnabled": True}) == [Pods("istiod", 3, requests("500m", "2Gi"))]
    assert istiod_pods({**values, "autoscaleEnabled": False}) == [Pods("istiod", 1, requests("500m", "2Gi"))]


def test_the_gateway_runs_its_autoscaling_minimum_when_autoscaled_else_its_replica_count():
    values = {"replicaCount": 1, "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}

    autoscaled = gateway_pods({**values, "autoscaling": {"enabled": True, "minReplicas": 2}})
    fixed = gateway_pods({**values, "autoscaling": {"enabled": False, "minReplicas": 2}})

    assert autoscaled == [Pods("gateway", 2, requests("100m", "128Mi"), GATEWAY)]
    assert fixed == [Pods("gateway", 1, requests("100m", "128Mi"), GATEWAY)]


def test_chart_values_without_requests_are_unknown_because_the_chart_default_applies():
    with pytest.raises(UnknownFootprintError, match="chart's default"):
        istiod_pods({"replicaCount": 1})


def test_an_unknown_chart_is_reported_not_counted_as_zero():
    footprint = stack_footprint(StackRun([chart("loki", "oci://registry.example.com/loki", {})]))

    (unknown,) = footprint.unknown
    assert unknown.component == "loki"
    assert "'loki' has no footprint extractor" in unknown.unknown


def test_a_deployment_in_an_injected_namespace_adds_one_sidecar_per_replica():
    run = StackRun([INJECTED_NAMESPACE, ISTIOD, deployment("shop", "shop", 3)])

    (shop,) = [component for component in stack_footprint(run).components if component.component == "shop"]
    assert shop.pods == (
        Pods("Deployment", 3, requests("100m", "64Mi"), APPS),
        Pods("istio-proxy", 3, requests("10m", "40Mi"), APPS),
    )
    assert shop.total == Requests(Decimal("0.33"), Decimal(3 * 104 * MI))


def test_a_pod_that_opts_out_of_injection_has_no_sidecar():
    run = StackRun([INJECTED_NAMESPACE, ISTIOD, deployment("job", "shop", 1, {"sidecar.istio.io/inject": "false"})])

    (job,) = [component for component in stack_footprint(run).components if component.component == "job"]
    assert [group.what for group in job.pods] == ["Deployment"]


def charts_total(run, footprint, charts):
    """The footprint of the stack's installs of `charts` (by chart name)."""
    names = {resource.name for resource in run.resources if chart_name(resource.inputs.get("chart", "")) in charts}
    return sum((component.total for component in footprint.components if component.component in names), Requests())


@pytest.mark.parametrize("stack", stack_names())
def test_every_stack_is_sized_without_unknowns(stack):
    footprint = stack_footprint(run_stack(stack))

    assert footprint.unknown == (), "every chart and sidecar of every stack can be sized"
    assert footprint.total == sum((component.total for component in footprint.components), Requests())
    assert footprint.total == sum(footprint.by_part().values(), Requests())


# Each part of a stack's footprint, by the charts that run it; what no chart runs (the apps, their
# sidecars and waypoints) is the apps'.
PART_CHARTS = {
    CONTROL_PLANE: {"base", "istiod", "linkerd-crds", "linkerd-control-plane", "linkerd-viz", "consul"},
    NODE_AGENTS: {"cni", "ztunnel"},
    GATEWAY: {"gateway"},
    ADDONS: {"prometheus", "grafana", "kiali-server", "jaeger"},
}


@pytest.mark.parametrize("stack", stack_names())
def test_each_part_is_what_its_charts_run_and_the_apps_are_the_rest(stack):
    run = run_stack(stack)
    footprint = stack_footprint(run)
    parts = footprint.by_part()

    for part, charts in PART_CHARTS.items():
        assert parts[part] == charts_total(run, footprint, charts), part
    all_charts = set().union(*PART_CHARTS.values())
    assert parts[APPS] + charts_total(run, footprint, all_charts) == footprint.total


def test_prod_runs_two_istiods_and_two_gateways_at_upstream_requests(prod):
    components = {component.component: component for component in stack_footprint(prod).components}

    assert components["istio-istiod-1-30-3"].total == requests("1000m", "4096Mi")
    assert components["istio-gateway"].total == requests("200m", "256Mi")
    assert components["istio-base"].pods == ()


def test_every_injected_workload_in_the_stacks_gets_the_stacks_sidecar_requests(prod):
    proxy = requests("100m", "128Mi")  # Pulumi.prod.yaml: mesh.istio.proxy.resources.requests
    workloads = [
        component
        for component in stack_footprint(prod).components
        if [group.what for group in component.pods][1:] == ["istio-proxy"]
    ]

    assert workloads, "prod deploys injected apps"
    for workload in workloads:
        app, sidecar = workload.pods
        assert sidecar == Pods("istio-proxy", app.replicas, proxy, APPS)
