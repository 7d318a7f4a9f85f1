"""The footprint of each mesh implementation, in its own charts' terms: Istio ambient's node agents
and waypoints, Linkerd's control plane, viz extension and proxies, Consul's servers, injector and
dataplanes. Each is checked on small registrations and on the real stack files."""

from __future__ import annotations

import pytest
from stack_harness import StackRun, run_stack
from test_review_footprint import requests, resource

from mesh.consul.footprint import consul_pods
from mesh.footprint import APPS, NODE_AGENTS, Pods, UnknownFootprintError
from mesh.istio.footprint import cni_pods, ztunnel_pods
from mesh.linkerd.footprint import control_plane_pods as linkerd_control_plane_pods
from review.footprint import stack_footprint
from settings.quantities import Requests


def chart(name, values):
    return resource("kubernetes:helm.sh/v4:Chart", name, {"chart": name, "values": values})


def namespace(name, labels=None, annotations=None):
    metadata = {"name": name, "labels": labels or {}, "annotations": annotations or {}}
    return resource("kubernetes:core/v1:Namespace", f"ns-{name}", {"metadata": metadata})


def deployment(name, namespace, replicas=1, annotations=None):
    container = {"name": "app", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}
    pod = {"metadata": {"annotations": annotations or {}}, "spec": {"containers": [container]}}
    return resource(
        "kubernetes:apps/v1:Deployment",
        name,
        {"metadata": {"name": name, "namespace": namespace}, "spec": {"replicas": replicas, "template": pod}},
    )


def component(run, name):
    (match,) = [component for component in stack_footprint(run).components if component.component == name]
    return match


def components(run):
    return {component.component: component for component in stack_footprint(run).components}


def pod_groups(run, name):
    return [group.what for group in component(run, name).pods]


APP = Pods("Deployment", 2, requests("100m", "64Mi"), APPS)


# Istio ambient


def test_the_ambient_node_agents_are_sized_from_their_resources_for_one_node():
    values = {"profile": "ambient", "resources": {"requests": {"cpu": "200m", "memory": "512Mi"}}}

    assert ztunnel_pods(values) == [Pods("ztunnel (per node)", 1, requests("200m", "512Mi"), NODE_AGENTS)]
    assert cni_pods(values) == [Pods("istio-cni (per node)", 1, requests("200m", "512Mi"), NODE_AGENTS)]
    with pytest.raises(UnknownFootprintError, match="chart's default"):
        cni_pods({"profile": "ambient"})


AMBIENT_ISTIOD = chart(
    "istiod",
    {
        "replicaCount": 1,
        "resources": {"requests": {"cpu": "500m", "memory": "2Gi"}},
        "global": {
            "proxy": {"resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}},
            "waypoint": {"resources": {"requests": {"cpu": "50m", "memory": "64Mi"}}},
        },
    },
)


def gateway(name, gateway_class):
    return resource(
        "kubernetes:gateway.networking.k8s.io/v1:Gateway",
        name,
        {"metadata": {"name": name, "namespace": "shop"}, "spec": {"gatewayClassName": gateway_class}},
    )


def test_a_waypoint_runs_one_pod_sized_by_istiods_waypoint_resources():
    run = StackRun([AMBIENT_ISTIOD, gateway("shop-waypoint", "istio-waypoint")])

    assert component(run, "shop-waypoint").pods == (Pods("waypoint", 1, requests("50m", "64Mi"), APPS),)


def test_a_gateway_of_another_class_is_not_a_waypoint():
    run = StackRun([AMBIENT_ISTIOD, gateway("edge", "cilium")])

    assert "edge" not in components(run)


def test_a_waypoint_istiod_does_not_size_is_unknown():
    sidecar_istiod = chart("istiod", {"replicaCount": 1, "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}})

    waypoint = component(StackRun([sidecar_istiod, gateway("shop-waypoint", "istio-waypoint")]), "shop-waypoint")

    assert "istiod global.waypoint.resources sets no cpu or memory request" in waypoint.unknown


def test_pods_in_an_ambient_namespace_get_no_sidecar():
    ambient = namespace("shop", labels={"istio.io/dataplane-mode": "ambient"})

    run = StackRun([ambient, AMBIENT_ISTIOD, deployment("web", "shop", 2)])

    assert component(run, "web").pods == (APP,)


def test_dev_ambient_sizes_its_node_agents_and_waypoint_as_its_stack_file_says():
    parts = components(run_stack("dev-ambient"))

    # Pulumi.dev-ambient.yaml: mesh.istio.ambient.{ztunnel,cni,waypoint}.resources.requests.
    assert parts["istio-ztunnel"].total == requests("10m", "64Mi")
    assert parts["istio-cni"].total == requests("10m", "40Mi")
    assert parts["enrolled-sample-waypoint"].pods == (Pods("waypoint", 1, requests("10m", "40Mi"), APPS),)
    assert [group.what for group in parts["app-httpbin-deployment"].pods] == ["Deployment"]


# Linkerd


def linkerd(cpu, memory):
    """A resources block in Linkerd's shape."""
    return {"cpu": {"request": cpu}, "memory": {"request": memory, "limit": "250Mi"}}


CONTROLLER = linkerd("100m", "50Mi")
CONTROL_PLANE_VALUES = {
    "controllerReplicas": 2,
    "proxy": {"defaultInboundPolicy": "all-authenticated", "resources": linkerd("10m", "20Mi")},
    "destinationResources": CONTROLLER,
    "spValidatorResources": CONTROLLER,
    "policyController": {"resources": CONTROLLER},
    "identityResources": CONTROLLER,
    "proxyInjectorResources": CONTROLLER,
}
CONTROL_PLANE = chart("linkerd-control-plane", CONTROL_PLANE_VALUES)
VIZ_COMPONENT = {"resources": linkerd("30m", "40Mi")}
VIZ = chart(
    "linkerd-viz",
    {
        "prometheus": {"enabled": False},
        **dict.fromkeys(("metricsAPI", "tap", "tapInjector", "dashboard"), VIZ_COMPONENT),
    },
)


def test_the_linkerd_control_plane_runs_five_containers_and_three_proxies_per_replica():
    pods = linkerd_control_plane_pods(CONTROL_PLANE_VALUES)

    assert [group.what for group in pods] == [
        "destination",
        "sp-validator",
        "policy-controller",
        "identity",
        "proxy-injector",
        "destination linkerd-proxy",
        "identity linkerd-proxy",
        "proxy-injector linkerd-proxy",
    ]
    assert {group.replicas for group in pods} == {2}
    assert (
        sum((group.requests * group.replicas for group in pods), Requests())
        == (requests("100m", "50Mi") * 5 + requests("10m", "20Mi") * 3) * 2
    )


def test_a_control_plane_pod_may_size_its_own_proxy():
    pods = linkerd_control_plane_pods({**CONTROL_PLANE_VALUES, "identityProxyResources": linkerd("5m", "10Mi")})

    assert Pods("identity linkerd-proxy", 2, requests("5m", "10Mi")) in pods
    assert Pods("destination linkerd-proxy", 2, requests("10m", "20Mi")) in pods


def test_a_linkerd_container_without_a_request_is_unknown_because_the_chart_sets_none():
    with pytest.raises(UnknownFootprintError, match="spValidatorResources sets no cpu request"):
        linkerd_control_plane_pods({**CONTROL_PLANE_VALUES, "spValidatorResources": {"memory": {"request": "50Mi"}}})


def test_linkerd_crds_run_no_pods():
    assert component(StackRun([chart("linkerd-crds", {})]), "linkerd-crds").pods == ()


def test_each_viz_component_runs_one_pod_with_a_proxy_sized_by_the_control_plane():
    viz = component(StackRun([CONTROL_PLANE, VIZ]), "linkerd-viz")

    assert viz.pods[:2] == (
        Pods("metricsAPI", 1, requests("30m", "40Mi")),
        Pods("metricsAPI linkerd-proxy", 1, requests("10m", "20Mi")),
    )
    assert viz.total == (requests("30m", "40Mi") + requests("10m", "20Mi")) * 4


def test_viz_proxies_without_a_control_plane_to_size_them_are_unknown():
    assert "the stack lacks" in component(StackRun([VIZ]), "linkerd-viz").unknown


def test_viz_running_its_own_prometheus_is_unknown():
    own_prometheus = chart("linkerd-viz", {**VIZ.inputs["values"], "prometheus": {}})

    assert "runs its own Prometheus" in component(StackRun([CONTROL_PLANE, own_prometheus]), "linkerd-viz").unknown


def test_pods_in_a_namespace_annotated_for_linkerd_get_one_proxy_each_unless_they_opt_out():
    meshed = namespace("shop", annotations={"linkerd.io/inject": "enabled"})
    opted_out = deployment("batch", "shop", 2, annotations={"linkerd.io/inject": "disabled"})

    run = StackRun([meshed, CONTROL_PLANE, deployment("web", "shop", 2), opted_out])

    assert component(run, "web").pods == (APP, Pods("linkerd-proxy", 2, requests("10m", "20Mi"), APPS))
    assert pod_groups(run, "batch") == ["Deployment"]


def test_a_pod_may_override_its_linkerd_proxys_requests():
    meshed = namespace("shop", annotations={"linkerd.io/inject": "enabled"})
    overridden = deployment("web", "shop", 2, annotations={"config.linkerd.io/proxy-cpu-request": "50m"})

    run = StackRun([meshed, CONTROL_PLANE, overridden])

    assert component(run, "web").pods[1] == Pods("linkerd-proxy", 2, requests("50m", "20Mi"), APPS)


def test_prod_linkerd_sizes_its_control_plane_and_app_proxies_as_its_stack_file_says():
    parts = components(run_stack("prod-linkerd"))
    # Pulumi.prod-linkerd.yaml: two replicas of each controller (100m / 50Mi per container), proxies
    # of 100m / 20Mi, viz components of 100m / 50Mi.
    controller, proxy, viz = requests("100m", "50Mi"), requests("100m", "20Mi"), requests("100m", "50Mi")

    assert parts["linkerd-crds"].pods == ()
    assert parts["linkerd-control-plane"].total == (controller * 5 + proxy * 3) * 2
    assert parts["linkerd-viz"].total == (viz + proxy) * 4
    assert parts["app-httpbin-deployment"].pods[1] == Pods("linkerd-proxy", 2, proxy, APPS)


# Consul

CONSUL_VALUES = {
    "server": {"replicas": 3, "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}}},
    "connectInject": {
        "enabled": True,
        "default": False,
        "replicas": 2,
        "resources": {"requests": {"cpu": "250m", "memory": "500Mi"}},
        "sidecarProxy": {"resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}},
    },
    "webhookCertManager": {"resources": {"requests": {"cpu": "100m", "memory": "50Mi"}}},
}
CONSUL = resource("kubernetes:helm.sh/v3:Release", "consul", {"chart": "consul", "values": CONSUL_VALUES})


def test_the_consul_chart_runs_its_servers_injectors_and_webhook_cert_manager():
    assert consul_pods(CONSUL_VALUES) == [
        Pods("server", 3, requests("500m", "1Gi")),
        Pods("connect-injector", 2, requests("250m", "500Mi")),
        Pods("webhook-cert-manager", 1, requests("100m", "50Mi")),
    ]


@pytest.mark.parametrize("part", ["client", "meshGateway", "syncCatalog"])
def test_consul_parts_that_run_pods_this_module_does_not_size_are_unknown(part):
    with pytest.raises(UnknownFootprintError, match=f"enables {part}"):
        consul_pods({**CONSUL_VALUES, part: {"enabled": True}})


def test_only_pods_annotated_for_consul_get_a_consul_dataplane():
    injected = deployment("web", "shop", 2, annotations={"consul.hashicorp.com/connect-inject": "true"})

    run = StackRun([namespace("shop"), CONSUL, injected, deployment("batch", "shop", 2)])

    assert component(run, "web").pods == (APP, Pods("consul-dataplane", 2, requests("100m", "128Mi"), APPS))
    assert pod_groups(run, "batch") == ["Deployment"]


def test_a_pod_annotated_for_consul_in_a_stack_without_consul_is_unknown_not_zero():
    injected = deployment("web", "shop", 2, annotations={"consul.hashicorp.com/connect-inject": "true"})

    (unknown,) = stack_footprint(StackRun([namespace("shop"), injected])).unknown

    assert unknown.component == "web (sidecar)"
    assert "no consul chart to size the sidecar" in unknown.unknown


def test_prod_consul_sizes_its_control_plane_and_dataplanes_as_its_stack_file_says():
    parts = components(run_stack("prod-consul"))

    # Pulumi.prod-consul.yaml: three servers, two connect-injectors, the chart's webhook-cert-manager.
    assert parts["consul-control-plane"].total == (
        requests("500m", "1Gi") * 3 + requests("250m", "500Mi") * 2 + requests("100m", "50Mi")
    )
    assert parts["app-httpbin-deployment"].pods[1] == Pods("consul-dataplane", 2, requests("100m", "128Mi"), APPS)
