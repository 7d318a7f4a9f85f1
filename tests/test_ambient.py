"""Given the ambient stack files, the stack contains Istio's ambient data plane: no sidecars, a
ztunnel and istio-cni per node, namespaces enrolled by label, and a waypoint for L7 rules."""

from __future__ import annotations

import pytest
import yaml
from stack_harness import footprint_parts, run_program, run_stack, stack_config, stack_run

from review.stacks import stack_file
from settings.loader import ConfigError

CHART = "kubernetes:helm.sh/v4:Chart"
CONFIG_FILE = "kubernetes:yaml/v2:ConfigFile"
AUTHORIZATION_POLICY = "kubernetes:security.istio.io/v1:AuthorizationPolicy"
WAYPOINT = "kubernetes:gateway.networking.k8s.io/v1:Gateway"


@pytest.fixture(params=["dev-ambient", "prod-ambient"])
def ambient(request):
    return stack_run(request.param)


def charts(run):
    mesh = run.named("istio")
    return {resource.inputs["chart"]: resource for resource in run.of_type(CHART) if resource.parent == mesh.urn}


def test_base_istiod_cni_ztunnel_and_gateway_are_installed_in_istios_order(ambient):
    installed = charts(ambient)
    gateway_api = ambient.named("istio-gateway-api-crds")

    assert set(installed) == {"base", "istiod", "cni", "ztunnel", "gateway"}
    assert ambient.depends_on(gateway_api, installed["base"])
    assert ambient.depends_on(installed["istiod"], gateway_api)
    assert ambient.depends_on(installed["cni"], installed["istiod"])
    assert ambient.depends_on(installed["ztunnel"], installed["cni"])
    assert {chart.inputs["version"] for chart in installed.values()} == {"1.30.3"}


def test_the_gateway_api_crds_come_from_the_release_istio_is_built_against(ambient):
    (crds,) = ambient.of_type(CONFIG_FILE)

    assert crds.inputs["file"] == (
        "https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.5.1/standard-install.yaml"
    )


def test_istiod_and_cni_run_the_ambient_profile_and_ztunnel_trusts_istiod(ambient):
    installed = charts(ambient)

    assert installed["istiod"].inputs["values"]["profile"] == "ambient"
    assert installed["cni"].inputs["values"]["profile"] == "ambient"
    assert installed["ztunnel"].inputs["values"]["istioNamespace"] == "istio-system"


def test_the_mesh_namespace_allows_the_privileged_node_agents():
    (namespace,) = [
        resource
        for resource in stack_run("dev-ambient").of_type("kubernetes:core/v1:Namespace")
        if resource.inputs["metadata"]["name"] == "istio-system"
    ]

    assert namespace.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"


def test_app_namespaces_join_by_label_and_enforce_restricted(ambient):
    labels = ambient.named("enrolled-sample-namespace").inputs["metadata"]["labels"]

    assert labels["istio.io/dataplane-mode"] == "ambient"
    assert "istio-injection" not in labels
    assert "istio.io/rev" not in labels
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


def test_waypoints_pass_restricted_pod_security(ambient):
    values = charts(ambient)["istiod"].inputs["values"]

    assert values["gateways"]["seccompProfile"] == {"type": "RuntimeDefault"}


def test_pods_get_no_sidecar_and_the_node_agents_are_counted_per_node():
    run = run_stack("dev-ambient", {"servicemesh:apps": [{**dev_app(), "allowedMethods": []}]})
    footprint = footprint_parts(run)

    # httpbin 10m / 32Mi and its client 5m / 16Mi (the defaults), with nothing added per pod.
    assert footprint["apps"] == {"cpu": "0.015", "memoryMiB": "48"}
    # ztunnel 10m / 64Mi and istio-cni 10m / 40Mi, as dev-ambient sizes them, for one node.
    assert footprint["nodeAgents"] == {"cpu": "0.02", "memoryMiB": "104"}


def test_strict_mtls_is_one_mesh_wide_peer_authentication(ambient):
    (policy,) = ambient.of_type("kubernetes:security.istio.io/v1:PeerAuthentication")

    assert policy.inputs["spec"] == {"mtls": {"mode": "STRICT"}}


def test_disable_is_refused_because_ambient_always_speaks_mtls():
    run = run_program(stack_config("dev-ambient", {"servicemesh:mesh.mtlsMode": "DISABLE"}))

    assert isinstance(run.error, ConfigError)
    assert run.resources == []
    assert 'servicemesh:mesh.mtlsMode = "DISABLE": ztunnel always speaks mTLS' in str(run.error)
    assert "allowed: STRICT or PERMISSIVE" in str(run.error)


def test_an_app_with_l7_rules_gets_a_waypoint_that_enforces_them():
    run = stack_run("dev-ambient")
    (waypoint,) = run.of_type(WAYPOINT)
    service = run.named("app-httpbin-service").inputs["metadata"]["labels"]
    at_waypoint = run.named("app-httpbin-authorization").inputs["spec"]
    at_ztunnel = run.named("app-httpbin-authorization-waypoint").inputs["spec"]

    assert waypoint.inputs["metadata"]["namespace"] == "sample"
    assert waypoint.inputs["spec"]["gatewayClassName"] == "istio-waypoint"
    assert waypoint.inputs["spec"]["listeners"] == [{"name": "mesh", "port": 15008, "protocol": "HBONE"}]
    assert service["istio.io/use-waypoint"] == "waypoint"
    assert service["istio.io/ingress-use-waypoint"] == "true"
    assert at_waypoint["targetRefs"] == [{"kind": "Service", "group": "", "name": "httpbin"}]
    assert at_waypoint["rules"] == [
        {
            "from": [
                {
                    "source": {
                        "principals": [
                            "cluster.local/ns/sample/sa/httpbin-client",
                            "cluster.local/ns/istio-ingress/sa/istio-ingressgateway",
                        ]
                    }
                }
            ],
            "to": [{"operation": {"methods": ["GET", "HEAD"]}}],
        }
    ]
    assert at_ztunnel["selector"] == {"matchLabels": {"app": "httpbin"}}
    assert at_ztunnel["rules"] == [{"from": [{"source": {"principals": ["cluster.local/ns/sample/sa/waypoint"]}}]}]
    assert run.depends_on(waypoint, run.named("enrolled-sample-namespace"))


def test_an_app_without_l7_rules_is_authorized_by_ztunnel_alone(prod_ambient):
    app_policy = prod_ambient.named("app-httpbin-authorization").inputs["spec"]

    assert prod_ambient.of_type(WAYPOINT) == []
    assert app_policy["selector"] == {"matchLabels": {"app": "httpbin"}}
    assert "to" not in app_policy["rules"][0]


def test_the_waypoint_is_counted_in_the_footprint():
    with_methods = footprint_parts(stack_run("dev-ambient"))["apps"]
    without = footprint_parts(run_stack("dev-ambient", {"servicemesh:apps": [{**dev_app(), "allowedMethods": []}]}))[
        "apps"
    ]

    assert float(with_methods["cpu"]) == pytest.approx(float(without["cpu"]) + 0.01)


def test_revisions_are_refused_because_ambient_upgrades_in_place():
    run = run_program(
        stack_config(
            "dev-ambient",
            {
                "servicemesh:mesh.istio.revisions": [{"name": "1-30-3", "version": "1.30.3"}],
                "servicemesh:mesh.istio.injectionRevision": "1-30-3",
            },
        )
    )

    assert isinstance(run.error, ConfigError)
    assert "servicemesh:mesh.istio.revisions" in str(run.error)
    assert "ztunnel and istio-cni" in str(run.error)


def test_grafana_provisions_istios_ztunnel_dashboard_too(ambient):
    (grafana,) = [chart for chart in ambient.of_type(CHART) if chart.inputs["chart"] == "grafana"]
    dashboards = grafana.inputs["values"]["dashboards"]["istio"]

    assert dashboards["istio-ztunnel"]["url"].endswith("/1.30.3/manifests/addons/dashboards/ztunnel-dashboard.gen.json")


def test_addons_stay_out_of_the_ambient_mesh(ambient):
    (prometheus,) = [chart for chart in ambient.of_type(CHART) if chart.inputs["chart"] == "prometheus"]

    assert prometheus.inputs["values"]["server"]["podLabels"] == {"istio.io/dataplane-mode": "none"}


def dev_app():
    """The app as `Pulumi.dev-ambient.yaml` declares it."""
    return yaml.safe_load(stack_file("dev-ambient").read_text())["config"]["servicemesh:apps"][0]
