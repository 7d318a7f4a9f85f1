"""Given each real stack file, its apps run hardened in the mesh, reachable and least-privileged."""

from __future__ import annotations

import pytest
from stack_harness import run_stack

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SERVICE = "kubernetes:core/v1:Service"
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
AUTHORIZATION_POLICY = "kubernetes:security.istio.io/v1:AuthorizationPolicy"
GATEWAY = "kubernetes:networking.istio.io/v1:Gateway"
VIRTUAL_SERVICE = "kubernetes:networking.istio.io/v1:VirtualService"
INJECTION_LABELS = {"istio-injection", "istio.io/rev"}


def app_deployment(run):
    return run.named("app-httpbin-deployment")


def pod_spec(deployment):
    return deployment.inputs["spec"]["template"]["spec"]


def test_each_stack_runs_the_sample_app_as_a_mesh_app(any_stack):
    app = any_stack.named("app-httpbin")

    assert app.type == "servicemesh:apps:MeshApp"
    children = [resource for resource in any_stack.resources if resource.parent == app.urn]
    assert {SERVICE_ACCOUNT, DEPLOYMENT, SERVICE, AUTHORIZATION_POLICY} <= {child.type for child in children}


def test_the_app_namespace_carries_exactly_the_meshs_injection_label(any_stack):
    namespace = any_stack.named("enrolled-sample-namespace")
    labels = namespace.inputs["metadata"]["labels"]

    assert [label for label in labels if label in INJECTION_LABELS] == ["istio.io/rev"]
    assert labels["istio.io/rev"] == "stable"
    assert any_stack.depends_on(app_deployment(any_stack), namespace)


def test_the_app_starts_only_after_istiod_is_ready(any_stack):
    istiod = next(
        chart for chart in any_stack.of_type("kubernetes:helm.sh/v4:Chart") if chart.inputs["chart"] == "istiod"
    )

    assert any_stack.depends_on(app_deployment(any_stack), istiod)


def test_the_image_is_pinned(any_stack):
    (container,) = pod_spec(app_deployment(any_stack))["containers"]

    assert container["image"] == "docker.io/mccutchen/go-httpbin:v2.18.3"


def test_the_pod_spec_is_hardened(any_stack):
    spec = pod_spec(app_deployment(any_stack))
    (container,) = spec["containers"]

    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert spec["automountServiceAccountToken"] is False
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
    }
    assert container["readinessProbe"]["httpGet"] == {"path": "/status/200", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/status/200", "port": "http"}
    assert set(container["resources"]["requests"]) == {"cpu", "memory"}
    assert set(container["resources"]["limits"]) == {"cpu", "memory"}


def test_the_service_port_is_named_with_an_app_protocol(any_stack):
    service = any_stack.named("app-httpbin-service")
    (container,) = pod_spec(app_deployment(any_stack))["containers"]

    (port,) = service.inputs["spec"]["ports"]
    assert port == {"name": "http", "port": 8080, "targetPort": "http", "appProtocol": "http"}
    assert container["ports"] == [{"name": "http", "containerPort": 8080}]
    assert service.inputs["spec"]["selector"] == {"app": "httpbin"}


def test_the_app_runs_as_its_own_service_account(any_stack):
    account = any_stack.named("app-httpbin-service-account")

    assert pod_spec(app_deployment(any_stack))["serviceAccountName"] == account.inputs["metadata"]["name"]


def test_dev_runs_one_replica_with_a_traffic_client(dev):
    assert app_deployment(dev).inputs["spec"]["replicas"] == 1
    assert "topologySpreadConstraints" not in pod_spec(app_deployment(dev))
    client = dev.named("app-httpbin-client")
    (container,) = pod_spec(client)["containers"]
    env = {variable["name"]: variable["value"] for variable in container["env"]}
    assert env == {"TARGET_URL": "http://httpbin.sample.svc.cluster.local:8080/get", "INTERVAL": "1.000"}
    assert container["image"] == "docker.io/curlimages/curl:8.16.0"
    assert pod_spec(client)["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}


def test_prod_runs_two_spread_replicas_behind_a_budget_and_no_client(prod):
    deployment = app_deployment(prod)

    assert deployment.inputs["spec"]["replicas"] == 2
    (spread,) = pod_spec(deployment)["topologySpreadConstraints"]
    assert spread["topologyKey"] == "kubernetes.io/hostname"
    assert spread["labelSelector"] == {"matchLabels": {"app": "httpbin"}}
    budget = prod.named("app-httpbin-pdb")
    assert budget.inputs["spec"] == {"minAvailable": 1, "selector": {"matchLabels": {"app": "httpbin"}}}
    assert not [resource for resource in prod.resources if resource.name == "app-httpbin-client"]


def test_prod_differs_from_dev_only_as_its_stack_file_says(dev, prod):
    dev_spec, prod_spec = pod_spec(app_deployment(dev)), pod_spec(app_deployment(prod))

    differing = {key for key in {*dev_spec, *prod_spec} if dev_spec.get(key) != prod_spec.get(key)}
    assert differing == {"containers", "topologySpreadConstraints"}
    (dev_container,), (prod_container,) = dev_spec["containers"], prod_spec["containers"]
    assert {key for key in dev_container if dev_container[key] != prod_container[key]} == {"resources"}


# Least-privilege authorization


def principals(policy):
    return [
        principal
        for rule in policy.inputs["spec"].get("rules", [])
        for source in rule["from"]
        for principal in source["source"]["principals"]
    ]


def test_dev_allows_only_its_traffic_client_and_the_ingress_gateway(dev):
    policy = dev.named("app-httpbin-authorization")
    client_account = dev.named("app-httpbin-client-service-account").inputs["metadata"]
    gateway_chart = next(
        chart for chart in dev.of_type("kubernetes:helm.sh/v4:Chart") if chart.inputs["chart"] == "gateway"
    )

    assert policy.inputs["spec"]["selector"] == {"matchLabels": {"app": "httpbin"}}
    assert policy.inputs["spec"]["action"] == "ALLOW"
    assert principals(policy) == [
        f"cluster.local/ns/{client_account['namespace']}/sa/{client_account['name']}",
        f"cluster.local/ns/{gateway_chart.inputs['namespace']}/sa/{gateway_chart.inputs['name']}",
    ]


def test_principals_follow_the_trust_domain():
    run = run_stack("dev", {"servicemesh:mesh.trustDomain": "mesh.example.org"})

    assert all(
        principal.startswith("mesh.example.org/ns/") for principal in principals(run.named("app-httpbin-authorization"))
    )


def test_prod_allows_only_the_ingress_gateway_and_denies_the_rest(prod):
    assert principals(prod.named("app-httpbin-authorization")) == [
        "cluster.local/ns/istio-ingress/sa/istio-ingressgateway"
    ]
    deny = prod.named("enrolled-sample-allow-nothing")
    assert deny.inputs["metadata"] == {"name": "allow-nothing", "namespace": "sample"}
    assert deny.inputs["spec"] == {}


def test_an_app_nobody_may_call_gets_a_policy_without_rules():
    run = run_stack(
        "prod",
        {"servicemesh:apps": [{"name": "quiet", "namespace": "quiet", "replicas": 2, "podDisruptionBudget": True}]},
    )

    assert "rules" not in run.named("app-quiet-authorization").inputs["spec"]


def test_dev_has_no_default_deny(dev):
    assert not [resource for resource in dev.resources if resource.name.endswith("allow-nothing")]


# Ingress


def test_the_route_points_at_the_service_and_port_actually_created(any_stack):
    route = any_stack.named("app-httpbin-route").inputs
    service = any_stack.named("app-httpbin-service").inputs
    gateway = any_stack.named("app-httpbin-gateway").inputs

    (http,) = route["spec"]["http"]
    (destination,) = http["route"]
    metadata = service["metadata"]
    assert destination["destination"] == {
        "host": f"{metadata['name']}.{metadata['namespace']}.svc.cluster.local",
        "port": {"number": service["spec"]["ports"][0]["port"]},
    }
    assert route["spec"]["gateways"] == [f"{gateway['metadata']['namespace']}/{gateway['metadata']['name']}"]
    assert (
        route["spec"]["hosts"]
        == [server_host for server in gateway["spec"]["servers"] for server_host in server["hosts"]][:1]
    )
    assert gateway["spec"]["selector"] == {"istio": "ingressgateway"}


def test_dev_routes_plain_http(dev):
    (server,) = dev.named("app-httpbin-gateway").inputs["spec"]["servers"]

    assert server == {"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": ["httpbin.example.local"]}


def test_prod_serves_https_with_its_certificate_and_redirects_http(prod):
    https, http = prod.named("app-httpbin-gateway").inputs["spec"]["servers"]

    assert https["tls"] == {"mode": "SIMPLE", "credentialName": "httpbin-tls"}
    assert https["port"]["number"] == 443
    assert http["tls"] == {"httpsRedirect": True}


@pytest.mark.parametrize(
    ("stack", "gateway_url"),
    [("dev", "http://httpbin.example.local/"), ("prod", "https://httpbin.example.com/")],
)
def test_outputs_give_each_apps_urls_and_port_forward(stack, gateway_url):
    urls = run_stack(stack).outputs["apps"]["httpbin"]

    assert urls == {
        "inMesh": "http://httpbin.sample.svc.cluster.local:8080",
        "gateway": gateway_url,
        "portForward": "kubectl -n sample port-forward svc/httpbin 8080:8080  # then http://localhost:8080/",
    }


def test_several_apps_share_a_namespace_enrolled_once():
    run = run_stack(
        "dev",
        {"servicemesh:apps": [{"name": "one", "namespace": "team"}, {"name": "two", "namespace": "team"}]},
    )

    assert len([r for r in run.of_type("kubernetes:core/v1:Namespace") if r.inputs["metadata"]["name"] == "team"]) == 1
    assert {"app-one", "app-two"} <= {resource.name for resource in run.resources}
