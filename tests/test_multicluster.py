"""One Istio mesh across clusters on different networks (multi-primary, sidecars): given the
`prod-east` and `prod-west` stack files, each cluster names its mesh, cluster and network, runs an
east-west gateway that passes other networks' mTLS through, and lets the other clusters' istiod
read it through a read-only ServiceAccount; the link project (`multicluster/`) writes each
cluster's remote secret into the other. Ambient and the other meshes refuse the key."""

from __future__ import annotations

import base64
import json

import pulumi
import pytest
import yaml
from reference_data import HELM_CHARTS, MISSING_REASON
from stack_harness import DELETE, PROJECT_ROOT, run_program, run_stack, stack_config, stack_run

from mesh.istio.manifests import REMOTE_READER_RULES
from review.stacks import read_stack_file, stack_file
from settings.loader import ConfigError
from target_cluster import skip_readiness_waits

CHART = "kubernetes:helm.sh/v4:Chart"
NAMESPACE = "kubernetes:core/v1:Namespace"
SECRET = "kubernetes:core/v1:Secret"
CLUSTER_ROLE = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"
CLUSTER_ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
ISTIO_GATEWAY = "kubernetes:networking.istio.io/v1:Gateway"
CLUSTER_STACKS = ("prod-east", "prod-west")
LINK_PROJECT = PROJECT_ROOT / "multicluster"
WRITE_VERBS = {"create", "update", "patch", "delete", "deletecollection", "impersonate", "bind", "escalate", "*"}


def multi_cluster_config(stack):
    return read_stack_file(stack_file(stack))["servicemesh:mesh"]["istio"]["multiCluster"]


def mesh_charts(run):
    mesh = run.named("istio")
    return [resource for resource in run.of_type(CHART) if resource.parent == mesh.urn]


@pytest.fixture(params=CLUSTER_STACKS)
def cluster(request):
    return request.param


# Each cluster's identity in the mesh.


def test_every_istiod_names_the_mesh_the_cluster_and_the_network_of_its_stack_file(cluster):
    declared = multi_cluster_config(cluster)
    istiods = [chart for chart in mesh_charts(stack_run(cluster)) if chart.inputs["chart"] == "istiod"]

    assert istiods
    for istiod in istiods:
        values = istiod.inputs["values"]["global"]
        assert values["meshID"] == declared["meshId"]
        assert values["multiCluster"] == {"clusterName": declared["clusterName"]}
        assert values["network"] == declared["network"]


def test_the_two_clusters_share_the_mesh_and_differ_in_cluster_and_network():
    east, west = (multi_cluster_config(stack) for stack in CLUSTER_STACKS)

    assert east["meshId"] == west["meshId"]
    assert east["clusterName"] != west["clusterName"]
    assert east["network"] != west["network"]


@pytest.mark.skipif(not HELM_CHARTS.is_dir(), reason=MISSING_REASON)
def test_the_istiod_chart_reads_the_multi_cluster_values_where_the_program_writes_them():
    defaults = yaml.safe_load((HELM_CHARTS / "istiod" / "values.yaml").read_text())["_internal_defaults_do_not_set"]

    assert {"meshID", "network", "multiCluster"} <= set(defaults["global"])
    assert "clusterName" in defaults["global"]["multiCluster"]


def test_the_istio_namespace_carries_the_clusters_network(cluster):
    (namespace,) = [
        resource
        for resource in stack_run(cluster).of_type(NAMESPACE)
        if resource.inputs["metadata"]["name"] == "istio-system"
    ]

    assert namespace.inputs["metadata"]["labels"] == {
        "topology.istio.io/network": multi_cluster_config(cluster)["network"]
    }


def test_a_single_cluster_stack_has_no_network_east_west_gateway_or_reader():
    run = stack_run("prod")

    assert "multiCluster" not in run.outputs
    assert "remoteReaderKubeconfig" not in run.outputs
    assert [chart.inputs["name"] for chart in run.of_type(CHART) if chart.inputs["chart"] == "gateway"] == [
        "istio-ingressgateway"
    ]
    assert cross_network_gateways(run) == []
    assert not [account for account in run.of_type(SERVICE_ACCOUNT) if "remote-reader" in account.name]


# The east-west gateway and the cross-network Gateway.


def cross_network_gateways(run):
    return [
        gateway
        for gateway in run.of_type(ISTIO_GATEWAY)
        if gateway.inputs["metadata"]["name"] == "cross-network-gateway"
    ]


def east_west_gateway(run):
    (chart,) = [chart for chart in mesh_charts(run) if chart.inputs["name"] == "istio-eastwestgateway"]
    return chart


def test_the_east_west_gateway_is_a_second_install_of_the_gateway_chart_in_the_istio_namespace(cluster):
    run = stack_run(cluster)
    chart = east_west_gateway(run)
    injector = next(chart for chart in mesh_charts(run) if chart.inputs["chart"] == "istiod")

    assert chart.inputs["chart"] == "gateway"
    assert chart.inputs["namespace"] == "istio-system"
    assert run.depends_on(chart, injector), "its pods get their proxy image from istiod's injector"


def test_the_east_west_gateway_announces_its_network_and_publishes_only_the_health_and_passthrough_ports(cluster):
    values = east_west_gateway(stack_run(cluster)).inputs["values"]
    network = multi_cluster_config(cluster)["network"]

    assert values["labels"] == {"topology.istio.io/network": network}
    assert values["env"] == {"ISTIO_META_REQUESTED_NETWORK_VIEW": network}
    assert "networkGateway" not in values, "the chart's network gateway would publish istiod (15012, 15017) too"
    assert [(port["name"], port["port"], port["targetPort"]) for port in values["service"]["ports"]] == [
        ("status-port", 15021, 15021),
        ("tls", 15443, 15443),
    ]


def test_the_east_west_gateway_is_sized_by_its_keys(cluster):
    values = east_west_gateway(stack_run(cluster)).inputs["values"]
    declared = multi_cluster_config(cluster)["eastWestGateway"]

    assert values["service"]["type"] == declared["serviceType"]
    assert values["autoscaling"] == declared["autoscaling"]
    assert values["podDisruptionBudget"] == {"minAvailable": 1}
    assert values["resources"] == declared["resources"]


def test_the_east_west_gateway_is_sized_apart_from_the_ingress_gateway():
    run = run_program(
        stack_config(
            "prod-east",
            {"servicemesh:mesh.istio.multiCluster.eastWestGateway": {"replicas": 3, "serviceType": "NodePort"}},
        ),
        stack="prod-east",
    )
    values = east_west_gateway(run).inputs["values"]
    ingress = next(chart for chart in mesh_charts(run) if chart.inputs["name"] == "istio-ingressgateway")

    assert (values["replicaCount"], values["service"]["type"], values["autoscaling"]["enabled"]) == (
        3,
        "NodePort",
        False,
    )
    assert ingress.inputs["values"]["service"]["type"] == "LoadBalancer"


@pytest.mark.skipif(not HELM_CHARTS.is_dir(), reason=MISSING_REASON)
def test_the_gateway_chart_labels_the_east_west_pods_as_the_cross_network_gateway_selects_them(cluster, helm):
    from test_policy_charts import rendered

    objects, _ = rendered(cluster, helm)
    (deployment,) = [
        o.props
        for o in objects
        if o.type == "kubernetes:apps/v1:Deployment" and o.name.endswith("/istio-eastwestgateway")
    ]
    (service,) = [
        o.props for o in objects if o.type == "kubernetes:core/v1:Service" and o.name.endswith("/istio-eastwestgateway")
    ]
    (gateway,) = cross_network_gateways(stack_run(cluster))
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    network = multi_cluster_config(cluster)["network"]

    assert gateway.inputs["spec"]["selector"].items() <= pod_labels.items()
    assert pod_labels["topology.istio.io/network"] == network
    assert {"name": "ISTIO_META_REQUESTED_NETWORK_VIEW", "value": network} in deployment["spec"]["template"]["spec"][
        "containers"
    ][0]["env"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert [port["port"] for port in service["spec"]["ports"]] == [15021, 15443]


def test_the_cross_network_gateway_passes_mtls_through_to_every_local_service(cluster):
    run = stack_run(cluster)
    (gateway,) = cross_network_gateways(run)
    istiods = [chart for chart in mesh_charts(run) if chart.inputs["chart"] == "istiod"]

    assert gateway.inputs["metadata"] == {"name": "cross-network-gateway", "namespace": "istio-system"}
    assert gateway.inputs["spec"] == {
        "selector": {"istio": "eastwestgateway"},
        "servers": [
            {
                "port": {"number": 15443, "name": "tls", "protocol": "TLS"},
                "tls": {"mode": "AUTO_PASSTHROUGH"},
                "hosts": ["*.local"],
            }
        ],
    }
    assert all(run.depends_on(gateway, istiod) for istiod in istiods), "istiod validates it"


# Read access for the other clusters.


def test_the_reader_can_only_read(cluster):
    (role,) = [role for role in stack_run(cluster).of_type(CLUSTER_ROLE) if "remote-reader" in role.name]
    rules = role.inputs["rules"]

    assert not {verb for rule in rules for verb in rule["verbs"]} & WRITE_VERBS
    assert all(set(rule["verbs"]) == {"get", "list", "watch"} for rule in rules)
    assert not [
        rule for rule in rules if "" in rule["apiGroups"] and {"secrets", "configmaps", "*"} & set(rule["resources"])
    ]


def test_the_reader_sees_the_pods_services_and_endpoints_istiod_routes_to(cluster):
    (role,) = [role for role in stack_run(cluster).of_type(CLUSTER_ROLE) if "remote-reader" in role.name]
    granted = {
        (group, resource)
        for rule in role.inputs["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
    }

    assert {
        ("", "pods"),
        ("", "services"),
        ("", "endpoints"),
        ("", "namespaces"),
        ("discovery.k8s.io", "endpointslices"),
    } <= granted


def chart_reader_rules():
    """The rules of the istiod chart's `istio-reader-clusterrole-*`, its template's defaults filled in
    and its primary-remote (istiodRemote) block left out."""
    text = (HELM_CHARTS / "istiod" / "templates" / "reader-clusterrole.yaml").read_text()
    text = text.split("{{- if .Values.istiodRemote.enabled }}")[0]
    text = text.replace("{{ $mcsAPIGroup }}", "multicluster.x-k8s.io")
    text = "\n".join(line for line in text.splitlines() if "{{" not in line)
    return yaml.safe_load(text)["rules"]


@pytest.mark.skipif(not HELM_CHARTS.is_dir(), reason=MISSING_REASON)
def test_the_reader_has_no_right_the_charts_own_reader_role_lacks_and_drops_its_secrets_and_writes():
    chart_grants = {
        (group, resource, verb)
        for rule in chart_reader_rules()
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }
    ours = {
        (group, resource, verb)
        for rule in REMOTE_READER_RULES
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }

    assert ours <= chart_grants
    dropped = chart_grants - ours
    assert {("", "secrets", "get"), ("", "secrets", "list"), ("", "secrets", "watch")} <= dropped
    assert {(g, r, v) for g, r, v in chart_grants if v in WRITE_VERBS} <= dropped


def test_the_reader_is_its_own_service_account_bound_to_the_reader_role(cluster):
    run = stack_run(cluster)
    (account,) = [account for account in run.of_type(SERVICE_ACCOUNT) if "remote-reader" in account.name]
    (role,) = [role for role in run.of_type(CLUSTER_ROLE) if "remote-reader" in role.name]
    (binding,) = [binding for binding in run.of_type(CLUSTER_ROLE_BINDING) if "remote-reader" in binding.name]

    # Not the charts' istio-reader-service-account: the istiod chart binds it to secrets and writes.
    assert account.inputs["metadata"] == {"name": "istio-remote-reader", "namespace": "istio-system"}
    assert account.inputs["automountServiceAccountToken"] is False
    assert binding.inputs["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": role.inputs["metadata"]["name"],
    }
    assert binding.inputs["subjects"] == [
        {"kind": "ServiceAccount", "name": "istio-remote-reader", "namespace": "istio-system"}
    ]


def test_the_readers_token_is_a_long_lived_service_account_token_secret(cluster):
    run = stack_run(cluster)
    (token,) = [secret for secret in run.of_type(SECRET) if "remote-reader" in secret.name]
    (account,) = [account for account in run.of_type(SERVICE_ACCOUNT) if "remote-reader" in account.name]

    assert token.inputs["type"] == "kubernetes.io/service-account-token"
    assert token.inputs["metadata"]["annotations"] == {"kubernetes.io/service-account.name": "istio-remote-reader"}
    assert run.depends_on(token, account)


def test_the_stack_exports_a_secret_kubeconfig_for_the_reader_at_the_configured_api_server(cluster):
    run = stack_run(cluster)
    (token,) = [secret for secret in run.of_type(SECRET) if "remote-reader" in secret.name]
    declared = multi_cluster_config(cluster)
    kubeconfig = yaml.safe_load(run.outputs["remoteReaderKubeconfig"])
    filled_in = token.inputs["data"]  # what the token controller wrote, under mocks

    assert "remoteReaderKubeconfig" in run.secret_outputs
    assert kubeconfig["current-context"] == declared["clusterName"]
    (entry,) = kubeconfig["clusters"]
    assert entry["cluster"] == {
        "server": declared["apiServer"],
        "certificate-authority-data": filled_in["ca.crt"],
    }
    (user,) = kubeconfig["users"]
    assert user["user"] == {"token": base64.b64decode(filled_in["token"]).decode()}


@pytest.mark.parametrize("server", ["https://10.0.0.1:6443", "https://[fd00::1]:6443"])
def test_an_api_server_may_be_an_ip_address_of_either_family(server):
    run = run_stack("prod-east", {"servicemesh:mesh.istio.multiCluster.apiServer": server})

    (entry,) = yaml.safe_load(run.outputs["remoteReaderKubeconfig"])["clusters"]
    assert entry["cluster"]["server"] == server


def test_the_stack_exports_its_identity_in_the_mesh(cluster):
    declared = multi_cluster_config(cluster)

    assert stack_run(cluster).outputs["multiCluster"] == {
        "meshId": declared["meshId"],
        "clusterName": declared["clusterName"],
        "network": declared["network"],
        "namespace": "istio-system",
        "eastWestGateway": "istio-eastwestgateway",
    }


# What is refused.


def refusal(stack, overrides, key):
    run = run_program(stack_config(stack, overrides), stack=stack)
    assert isinstance(run.error, ConfigError), run.error
    assert run.resources == []
    messages = [str(problem) for problem in run.error.problems if problem.key == key]
    assert messages, f"no problem names {key}: {run.error}"
    return messages[0]


MULTI_CLUSTER = {
    "meshId": "mesh1",
    "clusterName": "east",
    "network": "network-east",
    "apiServer": "https://api.east.example.com:6443",
}


def test_the_ambient_data_plane_refuses_multi_cluster_with_the_reason():
    message = refusal(
        "prod-ambient", {"servicemesh:mesh.istio.multiCluster": MULTI_CLUSTER}, "servicemesh:mesh.istio.multiCluster"
    )

    assert '"clusterName": "east"' in message
    assert "sidecar data plane only" in message
    assert "use dataplane: sidecar" in message


@pytest.mark.parametrize("trust", [DELETE, {"ca": "selfSigned"}])
def test_clusters_of_one_mesh_must_share_a_root_so_multi_cluster_needs_the_plugin_ca(trust):
    # istiod's self-signed root is its own cluster's: the other cluster's workloads would not verify.
    message = refusal("prod-east", {"servicemesh:mesh.istio.trust": trust}, "servicemesh:mesh.istio.trust.ca")

    assert '"selfSigned"' in message
    assert "must be plugin when mesh.istio.multiCluster is set" in message


@pytest.mark.parametrize("stack", ["prod-linkerd", "prod-consul"])
def test_the_other_meshes_refuse_istios_multi_cluster_key_and_say_which_keys_they_have(stack):
    message = refusal(stack, {"servicemesh:mesh.istio": {"multiCluster": MULTI_CLUSTER}}, "servicemesh:mesh.istio")
    provider = stack.removeprefix("prod-")

    assert "multiCluster" in message
    assert provider in message


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        ("apiServer", "http://api.east.example.com:6443", "https:// address of the cluster's API server"),
        ("apiServer", "https://admin:secret@api.east.example.com", "without credentials"),
        ("apiServer", "https://api.east.example.com:6443\n", "https:// address of the cluster's API server"),
        ("apiServer", "https://api.\u0435ast.example.com", "https:// address of the cluster's API server"),
        ("clusterName", "East_1", "must be a DNS-1123 label"),
        ("network", "", "must be a DNS-1123 label"),
        ("eastWestGateway.replicas", 0, "must be an integer >= 1"),
    ],
)
def test_a_bad_multi_cluster_value_is_named_with_what_is_allowed(key, value, allowed):
    full_key = f"servicemesh:mesh.istio.multiCluster.{key}"
    message = refusal("prod-east", {full_key: value}, full_key)

    assert json.dumps(value) in message or value == ""
    assert allowed in message


@pytest.mark.parametrize("missing", ["meshId", "clusterName", "network", "apiServer"])
def test_every_identity_key_is_required(missing):
    key = f"servicemesh:mesh.istio.multiCluster.{missing}"

    assert "required" in refusal("prod-east", {key: DELETE}, key).lower()


# The link project.


def link_config(clusters=None):
    stack = yaml.safe_load((LINK_PROJECT / "Pulumi.prod.yaml").read_text())["config"]
    return {"servicemesh-multicluster:clusters": json.dumps(clusters or stack["servicemesh-multicluster:clusters"])}


def cluster_outputs(stack, **identity):
    outputs = stack_run(stack).outputs
    return {
        "multiCluster": {**outputs["multiCluster"], **identity},
        "remoteReaderKubeconfig": outputs["remoteReaderKubeconfig"],
    }


def run_link(config=None, **identities):
    return run_program(
        config or link_config(),
        stack="prod",
        program=LINK_PROJECT / "__main__.py",
        stack_outputs={
            f"organization/servicemesh/{stack}": cluster_outputs(stack, **identities.get(stack.replace("-", "_"), {}))
            for stack in CLUSTER_STACKS
        },
    )


def test_the_link_stack_file_names_both_cluster_stacks():
    clusters = json.loads(link_config()["servicemesh-multicluster:clusters"])

    assert [cluster["stack"] for cluster in clusters] == [
        f"organization/servicemesh/{stack}" for stack in CLUSTER_STACKS
    ]


def test_the_link_writes_each_clusters_remote_secret_into_the_other_cluster():
    run = run_link()
    assert run.error is None, run.error
    providers = {provider.name: provider for provider in run.of_type("pulumi:providers:kubernetes")}

    for source, target in [("prod-east", "prod-west"), ("prod-west", "prod-east")]:
        name = stack_run(source).outputs["multiCluster"]["clusterName"]
        secret = run.named(f"{source}-in-{target}")
        assert secret.inputs["metadata"] == {
            "name": f"istio-remote-secret-{name}",
            "namespace": "istio-system",
            "labels": {"istio/multiCluster": "true"},
            "annotations": {"networking.istio.io/cluster": name},
        }
        assert secret.inputs["stringData"] == {name: stack_run(source).outputs["remoteReaderKubeconfig"]}
        assert secret.provider.startswith(f"{providers[target].urn}::")
        assert providers[target].inputs["context"] == target
    assert run.outputs["remoteSecrets"] == {
        "prod-east": ["istio-remote-secret-west"],
        "prod-west": ["istio-remote-secret-east"],
    }


def test_the_kubeconfigs_in_the_remote_secrets_stay_secret():
    run = run_link()

    for secret in run.of_type(SECRET):
        assert "mock-token" not in json.dumps(secret.redacted_inputs)


def test_the_link_refuses_stacks_of_different_meshes():
    run = run_link(prod_west={"meshId": "mesh2"})

    assert "different meshes (prod-east: mesh1, prod-west: mesh2)" in str(run.error)
    assert run.of_type(SECRET) == []


def test_the_link_refuses_two_clusters_of_one_name():
    run = run_link(prod_west={"clusterName": "east"})

    assert "same cluster name (prod-east: east, prod-west: east)" in str(run.error)


@pytest.mark.parametrize(
    ("clusters", "key", "allowed"),
    [
        ([{"stack": "organization/servicemesh/prod-east"}], "servicemesh-multicluster:clusters", "at least 2"),
        (
            [{"stack": "organization/servicemesh/prod-east"}, {"stack": "prod-west"}],
            "servicemesh-multicluster:clusters[1].stack",
            "must name a stack as <organization>/<project>/<stack>",
        ),
        (
            [{"stack": "organization/servicemesh/prod-east"}, {"stack": "other/servicemesh/prod-east"}],
            "servicemesh-multicluster:clusters[1].stack",
            "names the same stack as clusters[0]",
        ),
        (
            [{"stack": "organization/servicemesh/prod-east", "kubecontext": "east"}, {"stack": "o/p/prod-west"}],
            "servicemesh-multicluster:clusters[0].kubecontext",
            "unknown key; did you mean 'context'?",
        ),
    ],
)
def test_the_link_names_each_bad_cluster_entry(clusters, key, allowed):
    run = run_link(link_config(clusters))

    assert isinstance(run.error, ConfigError), run.error
    (problem,) = [problem for problem in run.error.problems if problem.key == key]
    assert allowed in str(problem)
    assert run.resources == []


def test_on_a_bare_api_server_the_stack_still_waits_for_the_readers_token(cluster):
    run = stack_run(cluster)
    (token,) = [secret for secret in run.of_type(SECRET) if "remote-reader" in secret.name]
    (account,) = [account for account in run.of_type(SERVICE_ACCOUNT) if "remote-reader" in account.name]

    def transformed(resource):
        args = pulumi.ResourceTransformArgs(
            True, resource.type, resource.name, resource.inputs, pulumi.ResourceOptions()
        )
        return skip_readiness_waits(args)

    # Its kube-controller-manager fills the token in, and the kubeconfig output needs the token.
    assert transformed(token) is None
    assert transformed(account).props["metadata"]["annotations"] == {"pulumi.com/skipAwait": "true"}
