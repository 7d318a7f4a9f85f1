"""Given the Consul stack files (`dev-consul`, `prod-consul`), the stack runs a Consul service mesh:
the `consul` chart with TLS, ACLs and gossip encryption on; opt-in connect injection with transparent
proxies and mTLS between injected services; "only these identities may call" as `ServiceIntentions`
behind a mesh-wide default deny; and Consul's UI showing metrics from the stack's Prometheus."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
import yaml
from reference_data import MISSING_REASON, REFERENCE
from stack_harness import StackRun, footprint_parts, run_program, run_stack, stack_config, stack_run
from test_chart_reference import unknown_keys

from mesh.charts import HELM_INSTALL_TYPES
from review.stacks import engine_config, read_stack_file, stack_file
from settings.loader import ConfigError
from settings.quantities import Requests, parse_quantity

CONSUL_STACKS = ("dev-consul", "prod-consul")
RELEASE = "kubernetes:helm.sh/v3:Release"
CHART = "kubernetes:helm.sh/v4:Chart"
CONSUL_API = "kubernetes:consul.hashicorp.com/v1alpha1"
MESH_ENTRY = f"{CONSUL_API}:Mesh"
PROXY_DEFAULTS = f"{CONSUL_API}:ProxyDefaults"
SERVICE_INTENTIONS = f"{CONSUL_API}:ServiceIntentions"
SERVICE_DEFAULTS = f"{CONSUL_API}:ServiceDefaults"
INJECT_ANNOTATION = "consul.hashicorp.com/connect-inject"
HASHICORP_REPOSITORY = "https://helm.releases.hashicorp.com"
ISTIO_CHARTS = {"base", "istiod", "gateway", "cni", "ztunnel"}
CONSUL_VALUES = REFERENCE / "charts" / "consul-2.0.3" / "values.yaml"
PRIVILEGED_POD_SECURITY = {
    "pod-security.kubernetes.io/enforce": "privileged",
    "pod-security.kubernetes.io/warn": "restricted",
    "pod-security.kubernetes.io/audit": "restricted",
}


@pytest.fixture(params=CONSUL_STACKS)
def consul_stack(request: pytest.FixtureRequest) -> StackRun:
    return stack_run(request.param)


def mesh_component(run):
    return run.named("consul")


def helm_installs(run):
    return [resource for resource in run.resources if resource.type in HELM_INSTALL_TYPES]


def control_plane(run):
    """The one Helm install of the mesh (the add-ons' are the observability component's)."""
    (install,) = [resource for resource in helm_installs(run) if resource.parent == mesh_component(run).urn]
    return install


def values(run) -> dict[str, Any]:
    return control_plane(run).inputs["values"]


def one(run, type_):
    (resource,) = run.of_type(type_)
    return resource


def pod_template(run, name):
    return run.named(name).inputs["spec"]["template"]


def with_app(stack, **changes):
    """The stack's config with its first app changed, as the engine would pass it."""
    config = read_stack_file(stack_file(stack))
    apps = copy.deepcopy(config["servicemesh:apps"])
    apps[0].update(changes)
    return engine_config(config, {"servicemesh:apps": apps})


def requests_of(resources) -> Requests:
    requests = resources["requests"]
    return Requests(parse_quantity(requests["cpu"]), parse_quantity(requests["memory"]))


# The control plane: one pinned chart, installed after its namespace


def test_the_consul_chart_is_pinned_and_is_the_only_mesh_chart(consul_stack):
    install = control_plane(consul_stack)

    assert install.inputs["chart"] == "consul"
    assert install.inputs["version"] == "2.0.3"
    assert install.inputs["repositoryOpts"]["repo"] == HASHICORP_REPOSITORY
    assert install.inputs["name"] == "consul"
    assert install.inputs["namespace"] == "consul"
    assert not ISTIO_CHARTS & {resource.inputs["chart"] for resource in helm_installs(consul_stack)}


def test_consul_is_installed_as_a_helm_release_whose_hooks_generate_its_ca_and_gossip_key(consul_stack):
    # helm.v4.Chart renders without hooks; tls-init and gossip-encryption-autogenerate are hooks.
    assert control_plane(consul_stack).type == RELEASE
    assert control_plane(consul_stack).inputs["atomic"] is True


def test_chart_mode_is_refused_because_it_would_skip_the_charts_hooks():
    run = run_program(stack_config("dev-consul", {"servicemesh:helm.installMode": "chart"}))

    assert isinstance(run.error, ConfigError)
    assert run.resources == []
    assert (
        'servicemesh:helm.installMode = "chart": the consul chart creates its TLS CA and gossip key in Helm hooks'
        in (str(run.error))
    )


def test_the_namespace_is_created_first_and_enforces_restricted(consul_stack):
    namespace = consul_stack.named("consul-namespace")

    assert namespace.inputs["metadata"]["name"] == "consul"
    assert namespace.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert consul_stack.depends_on(control_plane(consul_stack), namespace)


def test_mesh_wide_config_entries_wait_for_the_chart_in_the_consul_namespace(consul_stack):
    entries = [*consul_stack.of_type(MESH_ENTRY), *consul_stack.of_type(PROXY_DEFAULTS)]
    entries += [entry for entry in consul_stack.of_type(SERVICE_INTENTIONS) if entry.name == "consul-default-deny"]

    assert len(entries) >= 2
    for entry in entries:
        assert entry.inputs["metadata"]["namespace"] == "consul"
        assert consul_stack.depends_on(entry, control_plane(consul_stack))


def test_every_resource_of_the_mesh_is_a_child_of_the_consul_component(consul_stack):
    mesh = mesh_component(consul_stack)
    owned = [
        control_plane(consul_stack),
        consul_stack.named("consul-namespace"),
        *consul_stack.of_type(MESH_ENTRY),
        *consul_stack.of_type(PROXY_DEFAULTS),
    ]

    assert mesh.type == "servicemesh:mesh:ConsulMesh"
    assert all(resource.parent == mesh.urn for resource in owned)


def test_nothing_of_istio_is_registered(consul_stack):
    assert not [resource.type for resource in consul_stack.resources if "istio.io" in resource.type]
    assert not [resource.name for resource in consul_stack.resources if resource.name.startswith("istio")]
    assert consul_stack.outputs["mesh"] == "consul"


# Chart values: TLS, ACLs, gossip encryption, injection, metrics, UI


def test_tls_acls_and_gossip_encryption_are_on(consul_stack):
    global_values = values(consul_stack)["global"]

    assert global_values["name"] == "consul"
    assert global_values["datacenter"] == "dc1"
    assert global_values["tls"] == {"enabled": True, "enableAutoEncrypt": True, "verify": True, "httpsOnly": True}
    assert global_values["acls"] == {"manageSystemACLs": True}
    assert global_values["gossipEncryption"] == {"autoGenerate": True}


def test_no_key_material_is_a_chart_value(consul_stack):
    # The chart generates the CA, the gossip key and the ACL tokens in the cluster: no Secret is
    # referenced or created by the program, and no value looks like a key.
    text = yaml.safe_dump(values(consul_stack))
    mesh = mesh_component(consul_stack)

    assert not re.search(r"secretName|secretKey|bootstrapToken|caCert|caKey|serverCert|BEGIN", text)
    assert not re.search(r"[A-Za-z0-9+/]{40,}={0,2}", text)
    owned_types = {resource.type for resource in consul_stack.resources if resource.parent == mesh.urn}
    assert not [type_ for type_ in owned_types if type_.endswith(":Secret") or type_.startswith(("random:", "tls:"))]


def test_injection_is_opt_in_by_annotation_with_transparent_proxies(consul_stack):
    inject = values(consul_stack)["connectInject"]

    assert inject["enabled"] is True
    assert inject["default"] is False
    assert inject["transparentProxy"] == {"defaultEnabled": True}


def test_the_injector_is_asked_only_about_the_enrolled_namespaces(dev_consul):
    inject = values(dev_consul)["connectInject"]

    assert yaml.safe_load(inject["namespaceSelector"]) == {
        "matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["sandbox", "sample"]}]
    }
    assert inject["k8sAllowNamespaces"] == ["sandbox", "sample"]


def test_sidecars_and_ui_metrics_are_on_and_server_metrics_stay_off(consul_stack):
    chart_values = values(consul_stack)

    assert chart_values["global"]["metrics"] == {"enabled": True, "enableAgentMetrics": False}
    assert chart_values["connectInject"]["metrics"] == {"defaultEnabled": True, "defaultEnableMerging": False}
    assert chart_values["ui"]["enabled"] is True
    assert chart_values["ui"]["service"] == {"type": "ClusterIP"}


def test_the_ui_reads_metrics_from_the_stacks_prometheus(consul_stack):
    (prometheus,) = [resource for resource in helm_installs(consul_stack) if resource.inputs["chart"] == "prometheus"]
    server = prometheus.inputs["values"]["server"]
    prometheus_url = (
        f"http://{server['fullnameOverride']}.{prometheus.inputs['namespace']}.svc.cluster.local:"
        f"{int(server['service']['servicePort'])}"
    )

    assert values(consul_stack)["ui"]["metrics"] == {
        "enabled": True,
        "provider": "prometheus",
        "baseURL": prometheus_url,
    }
    assert prometheus_url == "http://prometheus.observability.svc.cluster.local:9090"


def test_without_prometheus_the_ui_shows_no_metrics():
    run = run_stack(
        "dev-consul",
        {"servicemesh:observability.prometheus.enabled": False, "servicemesh:observability.grafana.enabled": False},
    )

    assert values(run)["ui"]["metrics"] == {"enabled": False}


def test_the_gateway_api_crds_the_injector_watches_are_installed(consul_stack):
    assert values(consul_stack)["connectInject"]["apiGateway"] == {"manageExternalCRDs": True}


# Sizing per environment


def test_dev_runs_one_small_server_without_a_budget_that_would_block_drains(dev_consul):
    server = values(dev_consul)["server"]
    inject = values(dev_consul)["connectInject"]

    assert server["replicas"] == 1
    assert server["storage"] == "1Gi"
    assert server["disruptionBudget"] == {"enabled": False}
    assert server["resources"] == {
        "requests": {"cpu": "50m", "memory": "128Mi"},
        "limits": {"cpu": "500m", "memory": "512Mi"},
    }
    assert inject["replicas"] == 1
    assert inject["disruptionBudget"]["enabled"] is False


def test_prod_runs_a_three_server_quorum_and_two_injectors_behind_budgets(prod_consul):
    server = values(prod_consul)["server"]
    inject = values(prod_consul)["connectInject"]

    assert server["replicas"] == 3
    assert server["storage"] == "20Gi"
    assert server["disruptionBudget"] == {"enabled": True}
    assert server["resources"]["requests"] == {"cpu": "500m", "memory": "1Gi"}
    assert inject["replicas"] == 2
    assert inject["disruptionBudget"] == {"enabled": True, "minAvailable": 1}
    assert inject["resources"]["requests"] == {"cpu": "250m", "memory": "500Mi"}


def test_sidecars_request_what_the_proxy_settings_say(dev_consul, prod_consul):
    assert values(dev_consul)["connectInject"]["sidecarProxy"]["resources"]["requests"] == {
        "cpu": "10m",
        "memory": "40Mi",
    }
    assert values(prod_consul)["connectInject"]["sidecarProxy"]["resources"]["requests"] == {
        "cpu": "100m",
        "memory": "128Mi",
    }


def test_the_init_container_injected_into_meshed_pods_has_requests_and_both_limits(consul_stack):
    # The chart's default has no CPU limit: a namespace whose quota demands limits would refuse the pods.
    resources = values(consul_stack)["connectInject"]["initContainer"]["resources"]

    assert set(resources["requests"]) == {"cpu", "memory"}
    assert set(resources["limits"]) == {"cpu", "memory"}


def test_every_long_running_pod_has_explicit_requests_and_the_footprint_counts_them(consul_stack):
    chart_values = values(consul_stack)
    server, inject = chart_values["server"], chart_values["connectInject"]
    expected = (
        requests_of(server["resources"]) * int(server["replicas"])
        + requests_of(inject["resources"]) * int(inject["replicas"])
        + requests_of(chart_values["webhookCertManager"]["resources"])
    )

    assert footprint_parts(consul_stack)["controlPlane"] == expected.describe()


def test_the_apps_footprint_counts_a_sidecar_per_meshed_pod(dev_consul):
    sidecar = requests_of(values(dev_consul)["connectInject"]["sidecarProxy"]["resources"])
    app = requests_of({"requests": {"cpu": "10m", "memory": "32Mi"}})
    client = requests_of({"requests": {"cpu": "5m", "memory": "16Mi"}})

    assert footprint_parts(dev_consul)["apps"] == (app + sidecar + client + sidecar).describe()


def test_a_prod_mirror_of_the_chart_repository_is_used():
    run = run_stack("prod-consul", {"servicemesh:mesh.consul.chartRepository": "oci://mirror.internal/hashicorp/"})

    assert control_plane(run).inputs["chart"] == "oci://mirror.internal/hashicorp/consul"


# Namespaces and pods joining the mesh


def test_enrolled_namespaces_carry_no_injection_label_only_their_pod_security_level(dev_consul):
    for name in ("sandbox", "sample"):
        namespace = dev_consul.named(f"enrolled-{name}-namespace")

        # connect-inject-init runs as root with NET_ADMIN: only `privileged` admits it.
        assert namespace.inputs["metadata"]["labels"] == PRIVILEGED_POD_SECURITY
        assert not namespace.inputs["metadata"].get("annotations")
        assert dev_consul.depends_on(namespace, control_plane(dev_consul))


def test_the_app_and_its_client_opt_in_by_pod_annotation(dev_consul):
    for deployment in ("app-httpbin-deployment", "app-httpbin-client"):
        assert pod_template(dev_consul, deployment)["metadata"]["annotations"] == {INJECT_ANNOTATION: "true"}


def test_the_traffic_client_has_a_service_of_its_own_to_be_registered_in_consul(dev_consul):
    service = dev_consul.named("app-httpbin-client-service")

    assert service.inputs["metadata"]["name"] == "httpbin-client"
    assert service.inputs["spec"]["selector"] == {"app": "httpbin-client"}


def test_with_acls_each_meshed_pod_runs_as_the_service_account_named_like_its_service(dev_consul):
    for deployment, service in (
        ("app-httpbin-deployment", "app-httpbin-service"),
        ("app-httpbin-client", "app-httpbin-client-service"),
    ):
        account = pod_template(dev_consul, deployment)["spec"]["serviceAccountName"]

        assert account == dev_consul.named(service).inputs["metadata"]["name"]


def test_meshed_pods_mount_the_service_account_token_consul_logs_in_with(dev_consul):
    for deployment in ("app-httpbin-deployment", "app-httpbin-client"):
        assert pod_template(dev_consul, deployment)["spec"]["automountServiceAccountToken"] is True


# Who may call whom


def test_the_app_allows_exactly_its_traffic_client(dev_consul):
    intentions = dev_consul.named("app-httpbin-serviceintentions")

    assert intentions.inputs["metadata"] == {"name": "httpbin", "namespace": "sample"}
    assert intentions.inputs["spec"] == {
        "destination": {"name": "httpbin"},
        "sources": [{"name": "httpbin-client", "action": "allow"}],
    }
    assert intentions.parent == dev_consul.named("app-httpbin").urn


def test_the_app_states_its_protocol_for_consuls_proxies(dev_consul):
    defaults = dev_consul.named("app-httpbin-servicedefaults")

    assert defaults.type == SERVICE_DEFAULTS
    assert defaults.inputs["metadata"] == {"name": "httpbin", "namespace": "sample"}
    assert defaults.inputs["spec"] == {"protocol": "http"}


def test_an_app_without_callers_denies_every_caller(prod_consul):
    intentions = prod_consul.named("app-httpbin-serviceintentions")

    assert intentions.inputs["spec"] == {
        "destination": {"name": "httpbin"},
        "sources": [{"name": "*", "action": "deny"}],
    }


def test_allowed_methods_become_http_permissions_on_an_http_service():
    run = run_program(with_app("dev-consul", allowedMethods=["GET", "HEAD"], protocol="http"), stack="dev-consul")
    assert run.error is None

    assert run.named("app-httpbin-serviceintentions").inputs["spec"]["sources"] == [
        {"name": "httpbin-client", "permissions": [{"action": "allow", "http": {"methods": ["GET", "HEAD"]}}]}
    ]
    assert run.named("app-httpbin-servicedefaults").inputs["spec"] == {"protocol": "http"}


def test_a_grpc_app_is_declared_grpc_to_consul():
    run = run_program(with_app("dev-consul", protocol="grpc"), stack="dev-consul")
    assert run.error is None

    assert run.named("app-httpbin-servicedefaults").inputs["spec"] == {"protocol": "grpc"}


def test_prod_denies_every_call_no_intention_allows(prod_consul):
    deny = prod_consul.named("consul-default-deny")

    assert deny.type == SERVICE_INTENTIONS
    assert deny.inputs["spec"] == {"destination": {"name": "*"}, "sources": [{"name": "*", "action": "deny"}]}


def test_dev_has_no_mesh_wide_deny_intention(dev_consul):
    assert [intentions.name for intentions in dev_consul.of_type(SERVICE_INTENTIONS)] == [
        "app-httpbin-serviceintentions"
    ]


# Mutual TLS and access logs


def test_strict_mtls_forbids_permissive_proxies_and_plain_text_out_of_the_mesh(consul_stack):
    mesh_entry, defaults = one(consul_stack, MESH_ENTRY), one(consul_stack, PROXY_DEFAULTS)

    assert mesh_entry.inputs["metadata"] == {"name": "mesh", "namespace": "consul"}
    assert mesh_entry.inputs["spec"] == {
        "allowEnablingPermissiveMutualTLS": False,
        "transparentProxy": {"meshDestinationsOnly": True},
    }
    assert defaults.inputs["metadata"] == {"name": "global", "namespace": "consul"}
    assert defaults.inputs["spec"]["mutualTLSMode"] == "strict"


def test_proxy_defaults_wait_for_the_mesh_entry_that_may_allow_permissive_mtls(consul_stack):
    assert consul_stack.depends_on(one(consul_stack, PROXY_DEFAULTS), one(consul_stack, MESH_ENTRY))


def test_a_dev_stack_may_run_permissive_while_migrating():
    run = run_stack("dev-consul", {"servicemesh:mesh.mtlsMode": "PERMISSIVE"})

    assert one(run, MESH_ENTRY).inputs["spec"] == {
        "allowEnablingPermissiveMutualTLS": True,
        "transparentProxy": {"meshDestinationsOnly": False},
    }
    assert one(run, PROXY_DEFAULTS).inputs["spec"]["mutualTLSMode"] == "permissive"


def test_consul_never_runs_without_mtls():
    with pytest.raises(ConfigError, match="Consul always uses mTLS"):
        run_stack("dev-consul", {"servicemesh:mesh.mtlsMode": "DISABLE"})


def test_access_logs_follow_the_stack_setting(dev_consul, prod_consul):
    assert one(dev_consul, PROXY_DEFAULTS).inputs["spec"]["accessLogs"] == {"enabled": True}
    assert one(prod_consul, PROXY_DEFAULTS).inputs["spec"]["accessLogs"] == {"enabled": False}


# Protection and outputs


def test_prod_protects_the_release_and_keeps_consuls_crds(dev_consul, prod_consul):
    assert control_plane(prod_consul).protect is True
    assert control_plane(prod_consul).retain_on_delete is True
    assert control_plane(dev_consul).protect is False


@pytest.mark.parametrize("stack", CONSUL_STACKS)
def test_outputs_say_what_runs_and_how_to_reach_the_ui(stack):
    outputs = stack_run(stack).outputs

    assert outputs["environment"] == stack.removesuffix("-consul")
    assert outputs["consulVersion"] == "2.0.3"
    assert outputs["consulNamespace"] == "consul"
    assert outputs["consulUi"]["command"] == "kubectl -n consul port-forward svc/consul-ui 8501:443"
    assert outputs["consulUi"]["url"] == "https://localhost:8501/ui/"
    assert "secret consul-bootstrap-acl-token" in outputs["consulUi"]["token"]
    assert "ingressGateway" not in outputs
    assert "kiali" not in outputs["addons"]


# Every value exists in the chart


@pytest.mark.skipif(not CONSUL_VALUES.is_file(), reason=MISSING_REASON)
def test_every_value_key_exists_in_the_consul_chart(consul_stack):
    text = CONSUL_VALUES.read_text()

    assert unknown_keys(values(consul_stack), yaml.safe_load(text), text) == []


@pytest.mark.skipif(not CONSUL_VALUES.is_file(), reason=MISSING_REASON)
def test_the_unknown_key_check_catches_a_misspelled_consul_key():
    text = CONSUL_VALUES.read_text()

    misspelled = {"connectInject": {"transparentProxy": {"defaultEnable": True}}}

    assert unknown_keys(misspelled, yaml.safe_load(text), text) == ["connectInject.transparentProxy.defaultEnable"]


def test_consul_resources_need_both_limits_or_the_charts_small_defaults_would_stay():
    run = run_program(
        stack_config(
            "dev-consul",
            {"servicemesh:mesh.consul.server.resources": {"requests": {"cpu": "500m", "memory": "1Gi"}}},
        )
    )

    assert isinstance(run.error, ConfigError)
    assert run.resources == []
    assert {problem.key for problem in run.error.problems} == {
        "servicemesh:mesh.consul.server.resources.limits.cpu",
        "servicemesh:mesh.consul.server.resources.limits.memory",
    }
