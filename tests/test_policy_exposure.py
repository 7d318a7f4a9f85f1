"""Exposure in prod: nothing is reachable from outside the cluster but the mesh's ingress gateway,
whatever a Service is named; the gateway is recognised by what its pods run, not by a name."""

from __future__ import annotations

import pytest
from policy_fixtures import DEV, PROD, chart, findings, hardened_container, messages, resource, workload

EXPOSURE = "no-external-exposure-in-prod"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"


def service(name, service_type="ClusterIP", *, namespace="team", selector=None, **spec):
    return resource(
        "kubernetes:core/v1:Service",
        f"{namespace}-{name}",
        {
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"type": service_type, "selector": selector if selector is not None else {"app": name}, **spec},
        },
    )


def gateway_pods(name="istio-ingressgateway", namespace="istio-ingress", *, containers=None):
    """The gateway chart's pods: one `istio-proxy` container, whose image the injector's gateway template fills in."""
    return workload(
        DEPLOYMENT,
        name,
        namespace,
        labels={"istio": "ingressgateway"},
        annotations={"inject.istio.io/templates": "gateway"},
        spec={"containers": containers or [{"name": "istio-proxy", "image": "auto"}]},
    )


def gateway_service(service_type="LoadBalancer", **spec):
    return service(
        "istio-ingressgateway", service_type, namespace="istio-ingress", selector={"istio": "ingressgateway"}, **spec
    )


@pytest.mark.parametrize("service_type", ["LoadBalancer", "NodePort"])
@pytest.mark.parametrize("name", ["grafana", "kiali", "payments-api", "internal"])
def test_a_loadbalancer_or_nodeport_is_refused_in_prod_whatever_it_is_named(service_type, name):
    exposed = service(name, service_type)

    (finding,) = findings(EXPOSURE, workload(DEPLOYMENT, name), exposed, stack_config=PROD)

    assert finding.urn == exposed.urn
    assert finding.message.startswith(f"Service team/{name} is a {service_type}, reachable from outside the cluster")
    assert "not the mesh's ingress gateway" in finding.message
    assert "kubectl port-forward" in finding.message


def test_external_ips_are_refused_on_any_service_type():
    # Issue 17: Grafana behind externalIPs.
    (message,) = messages(EXPOSURE, service("grafana", externalIPs=["203.0.113.10"]), stack_config=PROD)

    assert message.startswith("Service team/grafana has externalIPs 203.0.113.10, reachable from outside")


def test_source_ranges_narrow_a_loadbalancer_but_do_not_make_it_private():
    ranged = service("internal", "LoadBalancer", loadBalancerSourceRanges=["10.0.0.0/8"])

    (message,) = messages(EXPOSURE, ranged, stack_config=PROD)

    assert "loadBalancerSourceRanges narrow who reaches it, they do not make it private" in message


def test_the_ingress_gateway_may_be_a_loadbalancer():
    assert messages(EXPOSURE, gateway_pods(), gateway_service(), stack_config=PROD) == []
    assert messages(EXPOSURE, gateway_pods(), gateway_service("NodePort"), stack_config=PROD) == []


def test_a_service_named_like_the_gateway_is_not_the_gateway():
    impostor = service("istio-ingressgateway", "LoadBalancer", namespace="istio-ingress", selector={"app": "shell"})

    assert (
        len(
            messages(
                EXPOSURE, gateway_pods(), workload(DEPLOYMENT, "shell", "istio-ingress"), impostor, stack_config=PROD
            )
        )
        == 1
    )


@pytest.mark.parametrize(
    "pods",
    [
        [{"name": "istio-proxy", "image": "auto"}, hardened_container("shell")],
        [{"name": "istio-proxy", "image": "docker.io/org/envoy:1.0.0"}],
        [{"name": "app", "image": "auto"}],
    ],
    ids=["extra-container", "own-proxy-image", "other-container"],
)
def test_pods_that_run_anything_but_the_injected_gateway_are_no_gateway(pods):
    assert len(messages(EXPOSURE, gateway_pods(containers=pods), gateway_service(), stack_config=PROD)) == 1


def test_a_service_that_selects_the_gateway_and_other_pods_is_refused():
    other = workload(DEPLOYMENT, "shell", "istio-ingress", labels={"istio": "ingressgateway", "app": "shell"})

    assert len(messages(EXPOSURE, gateway_pods(), other, gateway_service(), stack_config=PROD)) == 1


def test_a_service_without_a_selector_or_pods_is_no_gateway():
    assert len(messages(EXPOSURE, gateway_service(), stack_config=PROD)) == 1
    assert (
        len(messages(EXPOSURE, gateway_pods(), service("manual", "LoadBalancer", selector={}), stack_config=PROD)) == 1
    )


def test_an_ingress_is_refused_in_prod():
    # Issue 17: Grafana behind an Ingress.
    ingress = resource(
        "kubernetes:networking.k8s.io/v1:Ingress",
        "grafana",
        {
            "metadata": {"name": "grafana", "namespace": "istio-system"},
            "spec": {"rules": [{"host": "grafana.example.com"}]},
        },
    )

    (message,) = messages(EXPOSURE, ingress, stack_config=PROD)

    assert message.startswith("Ingress istio-system/grafana routes traffic from outside the cluster in prod")


def gateway_api(kind, name, spec, namespace="team"):
    return resource(
        f"kubernetes:gateway.networking.k8s.io/v1:{kind}",
        f"{kind}-{name}",
        {"metadata": {"name": name, "namespace": namespace}, "spec": spec},
    )


def test_a_gateway_api_gateway_and_the_routes_attached_to_it_are_refused_in_prod():
    public = gateway_api("Gateway", "public", {"gatewayClassName": "istio", "listeners": [{"port": 80}]})
    route = gateway_api("HTTPRoute", "grafana", {"parentRefs": [{"name": "public"}], "rules": [{}]})

    on_gateway, on_route = messages(EXPOSURE, public, route, stack_config=PROD)

    assert on_gateway.startswith("Gateway team/public (class 'istio') is a second entry point into the cluster")
    assert on_route.startswith("HTTPRoute team/grafana attaches to the Gateway team/public")


def test_a_route_to_a_gateway_outside_the_stack_is_refused_too():
    route = gateway_api("GRPCRoute", "api", {"parentRefs": [{"name": "shared", "namespace": "gateways"}]})

    (message,) = messages(EXPOSURE, route, stack_config=PROD)

    assert "attaches to the Gateway gateways/shared" in message


def test_waypoints_and_routes_inside_the_mesh_are_not_entry_points():
    waypoint = gateway_api("Gateway", "waypoint", {"gatewayClassName": "istio-waypoint"})
    to_waypoint = gateway_api("HTTPRoute", "via-waypoint", {"parentRefs": [{"name": "waypoint"}]})
    mesh_route = gateway_api("HTTPRoute", "mesh", {"parentRefs": [{"group": "", "kind": "Service", "name": "httpbin"}]})
    linkerd_route = resource(
        "kubernetes:policy.linkerd.io/v1beta3:HTTPRoute",
        "probes",
        {
            "metadata": {"name": "probes", "namespace": "team"},
            "spec": {"parentRefs": [{"group": "policy.linkerd.io", "kind": "Server", "name": "web"}]},
        },
    )

    assert messages(EXPOSURE, waypoint, to_waypoint, mesh_route, linkerd_route, stack_config=PROD) == []


@pytest.mark.parametrize(
    ("addon", "path", "value"),
    [
        (chart("grafana", values={"service": {"type": "LoadBalancer"}}), "service.type", "LoadBalancer"),
        (
            chart("kiali-server", values={"deployment": {"service_type": "NodePort"}}),
            "deployment.service_type",
            "NodePort",
        ),
        (chart("prometheus", values={"server": {"service": {"type": "NodePort"}}}), "server.service.type", "NodePort"),
        (
            chart("oci://ghcr.io/org/jaeger", values={"jaeger": {"ingress": {"enabled": True}}}),
            "jaeger.ingress.enabled",
            "True",
        ),
        (chart("jaeger", values={"jaeger": {"httproute": {"enabled": True}}}), "jaeger.httproute.enabled", "True"),
        (
            chart("grafana", values={"service": {"externalIPs": ["203.0.113.10"]}}),
            "service.externalIPs",
            "['203.0.113.10']",
        ),
        (chart("consul", values={"ui": {"service": {"type": "LoadBalancer"}}}), "ui.service.type", "LoadBalancer"),
        (chart("anything", values={"apps": [{"serviceType": "LoadBalancer"}]}), "apps[0].serviceType", "LoadBalancer"),
    ],
    ids=[
        "grafana",
        "kiali",
        "prometheus",
        "jaeger-ingress",
        "jaeger-httproute",
        "external-ips",
        "consul-ui",
        "in-a-list",
    ],
)
def test_chart_values_that_would_expose_what_the_chart_installs_are_refused_in_prod(addon, path, value):
    (message,) = messages(EXPOSURE, addon, stack_config=PROD)

    assert f"sets values.{path} = {value}, which makes what it installs reachable from outside the cluster" in message


def test_the_ingress_gateways_chart_may_expose_it_and_private_values_pass():
    gateway = chart("gateway", values={"service": {"type": "LoadBalancer"}})
    private = chart("grafana", values={"service": {"type": "ClusterIP"}, "ingress": {"enabled": False}})

    assert messages(EXPOSURE, gateway, private, stack_config=PROD) == []


def test_outside_prod_nothing_is_judged_and_which_environments_are_prod_is_configurable():
    exposed = service("kiali", "NodePort")
    staging = {"servicemesh:environment": "staging"}

    assert messages(EXPOSURE, exposed, stack_config=DEV) == []
    assert len(messages(EXPOSURE, exposed, stack_config=staging, config={"prodEnvironments": ["staging", "prod"]})) == 1
