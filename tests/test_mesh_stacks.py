"""Given each real stack file, the stack contains this Istio mesh."""

from __future__ import annotations

import pulumi
import pytest
from stack_harness import DELETE, STACKS, run_stack

from mesh.charts import ChartSource, ignore_webhook_ca_bundle_changes, keep_crds_on_delete
from mesh.istio.artifacts import ISTIO_CHART_REPOSITORY, ISTIO_IMAGE_HUB, ISTIO_OCI_CHART_REPOSITORY, ISTIO_VERSION
from mesh.istio.manifests import is_injected
from settings.loader import ConfigError
from settings.quantities import parse_quantity

CHART = "kubernetes:helm.sh/v4:Chart"
NAMESPACE = "kubernetes:core/v1:Namespace"
PEER_AUTHENTICATION = "kubernetes:security.istio.io/v1:PeerAuthentication"


def charts(run):
    """The mesh's own charts (the add-ons' are the observability component's)."""
    mesh = run.named("istio")
    return {resource.inputs["chart"]: resource for resource in run.of_type(CHART) if resource.parent == mesh.urn}


def values(run, chart):
    return charts(run)[chart].inputs["values"]


# The control plane and its charts


def test_base_istiod_and_gateway_are_installed_at_one_pinned_version(any_stack):
    installed = charts(any_stack)

    assert sorted(installed) == ["base", "gateway", "istiod"]
    assert {chart.inputs["version"] for chart in installed.values()} == {ISTIO_VERSION}
    assert {chart.inputs["repositoryOpts"]["repo"] for chart in installed.values()} == {ISTIO_CHART_REPOSITORY}


UNREVISIONED = {
    "servicemesh:mesh.istio.revisions": DELETE,
    "servicemesh:mesh.istio.revisionTags": DELETE,
    "servicemesh:mesh.istio.injectionRevision": DELETE,
}


def test_without_revisions_the_version_is_set_once_for_all_three_charts():
    run = run_stack("dev", {**UNREVISIONED, "servicemesh:mesh.istio.version": "1.30.4"})

    assert {chart.inputs["version"] for chart in charts(run).values()} == {"1.30.4"}
    assert run.outputs["istioVersion"] == "1.30.4"


def test_charts_go_to_the_control_plane_and_gateway_namespaces(any_stack):
    installed = charts(any_stack)

    assert installed["base"].inputs["namespace"] == "istio-system"
    assert installed["istiod"].inputs["namespace"] == "istio-system"
    assert installed["gateway"].inputs["namespace"] == "istio-ingress"
    assert installed["gateway"].inputs["name"] == "istio-ingressgateway"
    namespaces = {resource.inputs["metadata"]["name"] for resource in any_stack.of_type(NAMESPACE)}
    assert {"istio-system", "istio-ingress"} <= namespaces


def test_a_gateway_in_the_control_plane_namespace_shares_it():
    run = run_stack("dev", {"servicemesh:mesh.istio.gateway.namespace": "istio-system"})

    namespaces = [resource.inputs["metadata"]["name"] for resource in run.of_type(NAMESPACE)]
    assert namespaces.count("istio-system") == 1
    assert charts(run)["gateway"].inputs["namespace"] == "istio-system"


def test_every_resource_of_the_mesh_is_a_child_of_the_mesh_component(any_stack):
    mesh = any_stack.named("istio")
    owned = [*charts(any_stack).values(), *any_stack.of_type(PEER_AUTHENTICATION)]

    assert mesh.type == "servicemesh:mesh:IstioMesh"
    assert all(resource.parent == mesh.urn for resource in owned)


# Ordering as Istio requires


def test_istiod_waits_for_the_crds_and_the_gateway_for_a_ready_istiod(any_stack):
    installed = charts(any_stack)
    system_namespace = any_stack.named("istio-system-namespace")

    assert any_stack.depends_on(installed["base"], system_namespace)
    assert any_stack.depends_on(installed["istiod"], installed["base"])
    assert any_stack.depends_on(installed["gateway"], installed["istiod"])
    assert any_stack.depends_on(installed["gateway"], any_stack.named("istio-gateway-namespace"))


def test_the_peer_authentication_waits_for_its_crd_and_the_validating_webhook(any_stack):
    installed = charts(any_stack)
    (peer_authentication,) = any_stack.of_type(PEER_AUTHENTICATION)

    assert any_stack.depends_on(peer_authentication, installed["base"])
    assert any_stack.depends_on(peer_authentication, installed["istiod"])


def test_charts_wait_for_their_objects_to_be_ready(any_stack):
    # skipAwait would let the gateway start before istiod serves the injector.
    assert all(not chart.inputs.get("skipAwait") for chart in any_stack.of_type(CHART))


# Mutual TLS


def test_one_mesh_wide_strict_peer_authentication_in_the_root_namespace(any_stack):
    (peer_authentication,) = any_stack.of_type(PEER_AUTHENTICATION)

    assert peer_authentication.inputs["apiVersion"] == "security.istio.io/v1"
    assert peer_authentication.inputs["kind"] == "PeerAuthentication"
    assert peer_authentication.inputs["metadata"] == {"name": "default", "namespace": "istio-system"}
    assert peer_authentication.inputs["spec"] == {"mtls": {"mode": "STRICT"}}
    assert values(any_stack, "istiod")["meshConfig"]["rootNamespace"] == "istio-system"


def test_a_non_prod_stack_may_run_permissive_while_migrating():
    run = run_stack("staging", {"servicemesh:mesh.mtlsMode": "PERMISSIVE"})

    (peer_authentication,) = run.of_type(PEER_AUTHENTICATION)
    assert peer_authentication.inputs["spec"] == {"mtls": {"mode": "PERMISSIVE"}}


# Values per environment


def test_dev_is_small_single_replica_and_reachable_without_a_load_balancer(dev):
    istiod = values(dev, "istiod")
    gateway = values(dev, "gateway")

    assert istiod["replicaCount"] == 1
    assert istiod["autoscaleEnabled"] is False
    assert istiod["global"]["defaultPodDisruptionBudget"] == {"enabled": False}
    assert istiod["resources"] == {"requests": {"cpu": "10m", "memory": "100Mi"}, "limits": {"memory": "1Gi"}}
    assert istiod["global"]["proxy"]["resources"]["requests"] == {"cpu": "10m", "memory": "40Mi"}
    assert istiod["meshConfig"]["accessLogFile"] == "/dev/stdout"
    assert gateway["service"] == {"type": "NodePort"}
    assert gateway["autoscaling"]["enabled"] is False
    assert gateway["podDisruptionBudget"] == {}
    assert gateway["resources"]["requests"] == {"cpu": "10m", "memory": "40Mi"}


def test_prod_autoscales_behind_disruption_budgets_with_upstream_requests(prod):
    istiod = values(prod, "istiod")
    gateway = values(prod, "gateway")

    assert istiod["autoscaleEnabled"] is True
    assert istiod["autoscaleMin"] >= 2
    assert istiod["global"]["defaultPodDisruptionBudget"] == {"enabled": True}
    assert istiod["resources"]["requests"] == {"cpu": "500m", "memory": "2048Mi"}
    assert istiod["global"]["proxy"]["resources"]["requests"] == {"cpu": "100m", "memory": "128Mi"}
    assert gateway["service"] == {"type": "LoadBalancer"}
    assert gateway["autoscaling"] == {"enabled": True, "minReplicas": 2, "maxReplicas": 5}
    assert gateway["podDisruptionBudget"] == {"minAvailable": 1}
    assert gateway["resources"] == {
        "requests": {"cpu": "100m", "memory": "128Mi"},
        "limits": {"cpu": "2000m", "memory": "1024Mi"},
    }


REQUESTS = {
    "istiod": lambda run: values(run, "istiod")["resources"]["requests"],
    "sidecar": lambda run: values(run, "istiod")["global"]["proxy"]["resources"]["requests"],
    "gateway": lambda run: values(run, "gateway")["resources"]["requests"],
}


@pytest.mark.parametrize("component", sorted(REQUESTS))
def test_every_component_has_explicit_requests_and_staging_sits_between(component, dev, staging, prod):
    requests = [REQUESTS[component](run) for run in (dev, staging, prod)]

    for resource in ("cpu", "memory"):
        amounts = [parse_quantity(request[resource]) for request in requests]
        assert amounts == sorted(amounts), f"{component} {resource} requests should grow dev → staging → prod"


def test_staging_runs_two_of_everything(staging):
    assert values(staging, "istiod")["autoscaleMin"] == 2
    assert values(staging, "gateway")["autoscaling"]["minReplicas"] == 2
    assert values(staging, "gateway")["podDisruptionBudget"] == {"minAvailable": 1}


# Istio's webhooks under server-side apply


def test_both_validating_webhooks_fail_closed_from_the_start(any_stack):
    # istiod's own webhook, and the base chart's default-revision webhook, read the same key.
    assert values(any_stack, "istiod")["base"] == {"validationFailurePolicy": "Fail"}
    assert values(any_stack, "base")["base"] == {"validationFailurePolicy": "Fail"}


def test_the_webhook_ca_bundle_is_left_to_istiod(any_stack):
    installed = charts(any_stack)

    assert ignore_webhook_ca_bundle_changes in installed["base"].transforms
    assert ignore_webhook_ca_bundle_changes in installed["istiod"].transforms


def _transform(function, type_):
    return function(pulumi.ResourceTransformArgs(True, type_, "object", {}, pulumi.ResourceOptions()))


@pytest.mark.parametrize("kind", ["ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"])
def test_webhook_transform_ignores_only_the_ca_bundle(kind):
    result = _transform(ignore_webhook_ca_bundle_changes, f"kubernetes:admissionregistration.k8s.io/v1:{kind}")

    assert result.opts.ignore_changes == ["webhooks[*].clientConfig.caBundle"]


def test_webhook_transform_leaves_other_objects_alone():
    assert _transform(ignore_webhook_ca_bundle_changes, "kubernetes:apps/v1:Deployment") is None


# Protecting Istio's CRDs


def test_prod_protects_the_base_chart_and_keeps_its_crds(prod):
    base = charts(prod)["base"]

    assert base.protect is True
    assert keep_crds_on_delete in base.transforms


def test_dev_can_be_torn_down_completely(dev):
    base = charts(dev)["base"]

    assert base.protect is False
    assert keep_crds_on_delete not in base.transforms


def test_crd_transform_protects_and_retains_crds_only():
    crd = _transform(keep_crds_on_delete, "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition")

    assert crd.opts.protect is True
    assert crd.opts.retain_on_delete is True
    assert _transform(keep_crds_on_delete, "kubernetes:core/v1:ServiceAccount") is None


# Namespaces enrolled in the mesh


def test_enrolled_namespaces_are_labelled_for_injection_after_istiod_is_ready(dev):
    namespace = dev.named("enrolled-sandbox-namespace")

    assert namespace.inputs["metadata"] == {
        "name": "sandbox",
        "labels": {
            "istio.io/rev": "stable",
            # Sidecars without istio-cni need NET_ADMIN/NET_RAW in istio-init: only `privileged`
            # admits them; app containers are still warned and audited against `restricted`.
            "pod-security.kubernetes.io/enforce": "privileged",
            "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/audit": "restricted",
        },
    }
    assert dev.depends_on(namespace, charts(dev)["istiod"])
    assert dev.outputs["enrolledNamespaces"] == ["sandbox", "sample"]


# Outputs


@pytest.mark.parametrize(
    ("stack", "hint"),
    [("dev", "nodePort"), ("prod", "status.loadBalancer.ingress")],
)
def test_outputs_say_what_runs_and_how_to_reach_the_gateway(stack, hint):
    run = run_stack(stack)

    assert run.outputs["environment"] == stack
    assert run.outputs["istioVersion"] == "1.30.3"
    assert run.outputs["istioNamespace"] == "istio-system"
    gateway = run.outputs["ingressGateway"]
    assert gateway["namespace"] == "istio-ingress"
    assert gateway["service"] == "istio-ingressgateway"
    assert hint in gateway["access"]
    assert "svc/istio-ingressgateway" in gateway["access"]


def test_a_cluster_ip_gateway_is_reached_by_port_forward():
    run = run_stack("dev", {"servicemesh:mesh.istio.gateway.serviceType": "ClusterIP"})

    assert run.outputs["ingressGateway"]["access"].startswith("kubectl port-forward -n istio-ingress")


# Chart sources


@pytest.mark.parametrize(
    ("repository", "reference", "repo"),
    [
        ("https://charts.example.com/istio", "istiod", "https://charts.example.com/istio"),
        ("oci://registry.example.com/istio", "oci://registry.example.com/istio/istiod", None),
        ("/srv/charts/istio", "/srv/charts/istio/istiod", None),
        ("file:///srv/charts/istio", "/srv/charts/istio/istiod", None),
        ("charts/istio", "./charts/istio/istiod", None),
        ("../mirror", "../mirror/istiod", None),
    ],
)
def test_the_chart_repository_may_be_a_mirror_an_oci_registry_or_a_local_directory(repository, reference, repo):
    assert ChartSource(repository=repository, version="1.30.3").locate("istiod") == (reference, repo)


def test_istio_publishes_its_charts_at_blob_istio_io_and_as_oci_on_ghcr():
    assert ISTIO_CHART_REPOSITORY == "https://blob.istio.io/istio-release/charts"
    assert ISTIO_OCI_CHART_REPOSITORY == "oci://ghcr.io/istio/release/charts"


@pytest.mark.parametrize(
    ("repository", "chart", "repository_opts"),
    [
        (ISTIO_CHART_REPOSITORY, "istiod", {"repo": ISTIO_CHART_REPOSITORY}),
        (ISTIO_OCI_CHART_REPOSITORY, f"{ISTIO_OCI_CHART_REPOSITORY}/istiod", None),
    ],
)
def test_both_forms_of_istios_chart_source_give_helm_the_chart_and_version(repository, chart, repository_opts):
    run = run_stack("prod", {"servicemesh:mesh.istio.chartRepository": repository})
    istiod = run.named("istio-istiod-1-30-3").inputs

    assert istiod["chart"] == chart
    assert istiod["version"] == ISTIO_VERSION
    assert istiod.get("repositoryOpts") == repository_opts


RETIRED_CHART_SOURCES = [
    "https://istio-release.storage.googleapis.com/charts",
    "http://istio-release.storage.googleapis.com/charts/",
    "oci://gcr.io/istio-release/charts",
    "https://GCR.io/istio-release/charts",
]


@pytest.mark.parametrize("repository", RETIRED_CHART_SOURCES)
def test_a_retired_istio_chart_source_is_refused_with_its_replacement(repository):
    with pytest.raises(ConfigError) as refused:
        run_stack("prod", {"servicemesh:mesh.istio.chartRepository": repository})

    # (An http:// one is also refused as plain http in prod.)
    (problem,) = [problem for problem in refused.value.problems if "retired" in problem.message]
    assert problem.key == "servicemesh:mesh.istio.chartRepository"
    assert problem.value == repository.rstrip("/")  # as the setting reads it
    assert "retired in December 2026" in problem.message
    assert ISTIO_CHART_REPOSITORY in problem.message or ISTIO_OCI_CHART_REPOSITORY in problem.message


@pytest.mark.parametrize(
    ("stack", "key"),
    [
        ("dev", "servicemesh:observability.grafana.chartRepository"),
        ("dev-linkerd", "servicemesh:mesh.linkerd.chartRepository"),
        ("dev-consul", "servicemesh:mesh.consul.chartRepository"),
    ],
)
def test_no_chart_source_of_any_kind_may_point_into_a_retired_location(stack, key):
    with pytest.raises(ConfigError, match="retired in December 2026"):
        run_stack(stack, {key: "oci://gcr.io/istio-release/charts"})


@pytest.mark.parametrize(
    ("stack", "overrides", "key"),
    [
        (
            "dev-linkerd",
            {"servicemesh:apps": [{"name": "web", "namespace": "sample", "image": "gcr.io/istio-release/app:1.0"}]},
            "servicemesh:apps[0].image",
        ),
        (
            "prod-consul",
            {"servicemesh:cluster.allowedRegistries": ["docker.io", "registry.istio.io/release"]},
            "servicemesh:cluster.allowedRegistries[1]",
        ),
    ],
)
def test_no_setting_of_any_stack_may_point_into_a_retired_location(stack, overrides, key):
    # The locations are a mesh's, the refusal is every stack's: an image or registry is a download too.
    with pytest.raises(ConfigError) as refused:
        run_stack(stack, overrides)

    assert [problem.key for problem in refused.value.problems if "retired in December 2026" in problem.message] == [key]


# Image hub


def istio_hubs(run) -> dict[str, str]:
    """The hub each Istio chart pulls its images from, by chart, as the values set it."""
    hubs = {}
    for chart, resource in charts(run).items():
        values = resource.inputs["values"]
        if hub := values.get("hub") or values.get("global", {}).get("hub"):
            hubs[chart] = hub
    return hubs


def test_every_istio_image_comes_from_docker_hub_by_default(any_stack):
    # istiod's hub is also the hub of everything it injects: sidecars, their init containers, the
    # gateway (`image: auto`) and waypoints; base and the gateway chart name no image of their own.
    assert istio_hubs(any_stack) == {"istiod": ISTIO_IMAGE_HUB}
    assert ISTIO_IMAGE_HUB == "docker.io/istio"


def test_the_ambient_node_agents_pull_from_the_same_hub():
    run = run_stack("dev-ambient", {"servicemesh:mesh.istio.imageHub": "mirror.internal:5000/istio"})

    assert istio_hubs(run) == dict.fromkeys(["cni", "istiod", "ztunnel"], "mirror.internal:5000/istio")


@pytest.mark.parametrize(
    ("hub", "complaint"),
    [
        ("registry.istio.io/release", "retired in December 2026"),
        ("gcr.io/istio-release", "retired in December 2026"),
        ("docker.io/istio:1.30.3", "without scheme, tag or digest"),
        ("https://docker.io/istio", "without scheme, tag or digest"),
        ("docker.io/istio/", "without scheme, tag or digest"),
        ("Docker.io/Istio", "without scheme, tag or digest"),
        ("docker.io/istio\n", "without scheme, tag or digest"),
        ("", "without scheme, tag or digest"),
    ],
)
def test_an_image_hub_that_cannot_serve_istios_images_is_refused(hub, complaint):
    with pytest.raises(ConfigError) as refused:
        run_stack("dev", {"servicemesh:mesh.istio.imageHub": hub})

    (problem,) = refused.value.problems
    assert problem.key == "servicemesh:mesh.istio.imageHub"
    assert problem.value == hub
    assert complaint in problem.message


def test_the_image_hub_is_istios_alone():
    with pytest.raises(ConfigError, match=r"mesh\.istio = .*imageHub.*applies to mesh.provider istio only"):
        run_stack("dev-linkerd", {"servicemesh:mesh.istio.imageHub": "docker.io/istio"})


def test_a_mirror_from_stack_config_is_used_for_every_chart():
    run = run_stack("prod", {"servicemesh:mesh.istio.chartRepository": "oci://mirror.internal/istio/"})

    assert sorted(chart.inputs["chart"] for chart in charts(run).values()) == [
        "oci://mirror.internal/istio/base",
        "oci://mirror.internal/istio/gateway",
        "oci://mirror.internal/istio/istiod",
    ]


@pytest.mark.parametrize(
    ("labels", "injected"),
    [
        ({"istio-injection": "enabled"}, True),
        ({"istio.io/rev": "stable"}, True),
        ({"istio-injection": "disabled", "istio.io/rev": "stable"}, False),
        ({"istio.io/rev": ""}, False),
        ({}, False),
    ],
)
def test_injection_follows_istios_label_precedence(labels, injected):
    assert is_injected(labels) is injected


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_file_names_its_environment(stack):
    assert run_stack(stack).outputs["environment"] == stack
