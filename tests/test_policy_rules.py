"""Each policy of the pack, on compliant and violating resources, through its CrossGuard validate
function (`policy.offline.evaluate` builds the same arguments the policy SDK builds)."""

from __future__ import annotations

import pytest

from policy.checks import Resource
from policy.offline import evaluate
from policy.pack import POLICIES

PROD = {"servicemesh:environment": "prod"}
DEV = {"servicemesh:environment": "dev"}
DIGEST = "sha256:" + "a" * 64
RESOURCES = {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "64Mi"}}


def findings(policy_name, *resources, config=None, stack_config=DEV):
    (policy,) = [policy for policy in POLICIES if policy.name == policy_name]
    return evaluate(
        list(resources),
        stack_config=stack_config,
        pack_config={policy_name: config} if config else None,
        policies=[policy],
    )


def messages(policy_name, *resources, **options):
    return [finding.message for finding in findings(policy_name, *resources, **options)]


def resource(type_, name, props):
    return Resource(type=type_, props=props, urn=f"urn:pulumi:test::servicemesh::{type_}::{name}", name=name)


def peer_authentication(name="default", namespace="istio-system", mode="STRICT", **spec):
    if mode is not None:
        spec["mtls"] = {"mode": mode}
    return resource(
        "kubernetes:security.istio.io/v1:PeerAuthentication",
        f"{namespace}-{name}",
        {"kind": "PeerAuthentication", "metadata": {"name": name, "namespace": namespace}, "spec": spec},
    )


def container(name="app", image="docker.io/org/app:1.2.3", resources=RESOURCES):
    return {"name": name, "image": image, "resources": resources}


def pod_spec(*containers, init_containers=()):
    spec = {"containers": list(containers or [container()])}
    if init_containers:
        spec["initContainers"] = list(init_containers)
    return spec


def deployment(name="app", namespace="team", *containers, replicas=1, init_containers=(), annotations=None):
    template = {"metadata": {"labels": {"app": name}}, "spec": pod_spec(*containers, init_containers=init_containers)}
    if annotations:
        template["metadata"]["annotations"] = annotations
    return resource(
        "kubernetes:apps/v1:Deployment",
        name,
        {
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}}, "template": template},
        },
    )


def namespace(name, labels=None, annotations=None):
    metadata = {"name": name, "labels": labels or {}}
    if annotations:
        metadata["annotations"] = annotations
    return resource("kubernetes:core/v1:Namespace", f"ns-{name}", {"metadata": metadata})


def chart(chart_name, version="1.2.3", repo=None, type_="kubernetes:helm.sh/v4:Chart", values=None):
    props = {"chart": chart_name, "version": version, "values": values or {}}
    if repo:
        props["repositoryOpts"] = {"repo": repo}
    return resource(type_, chart_name.rsplit("/", 1)[-1], props)


def linkerd_control_plane(default_inbound_policy="all-authenticated"):
    proxy = {"resources": {}} if default_inbound_policy is None else {"defaultInboundPolicy": default_inbound_policy}
    return chart("linkerd-control-plane", "2026.8.3", repo="https://helm.linkerd.io/edge", values={"proxy": proxy})


def linkerd_config(default_inbound_policy):
    """The ConfigMap the control-plane chart renders with its values: what a real preview shows of a v4 Chart."""
    values = f"controllerReplicas: 1\nproxy:\n  defaultInboundPolicy: {default_inbound_policy}\n"
    return resource(
        "kubernetes:core/v1:ConfigMap",
        "linkerd-config",
        {"metadata": {"name": "linkerd-config", "namespace": "linkerd"}, "data": {"values": values}},
    )


def consul_entry(kind, name, namespace="consul", **spec):
    return resource(
        f"kubernetes:consul.hashicorp.com/v1alpha1:{kind}",
        f"{namespace}-{kind}-{name}",
        {"kind": kind, "metadata": {"name": name, "namespace": namespace}, "spec": spec},
    )


CONSUL_CHART = chart(
    "consul", "2.0.3", repo="https://helm.releases.hashicorp.com", type_="kubernetes:helm.sh/v3:Release"
)
STRICT_CONSUL_MESH = consul_entry("Mesh", "mesh", allowEnablingPermissiveMutualTLS=False)


def service(name, service_type="ClusterIP", labels=None):
    return resource(
        "kubernetes:core/v1:Service",
        name,
        {
            "kind": "Service",
            "metadata": {"name": name, "namespace": "istio-system", "labels": labels or {}},
            "spec": {"type": service_type},
        },
    )


def budget(selector, namespace="team"):
    return resource(
        "kubernetes:policy/v1:PodDisruptionBudget",
        "budget",
        {"metadata": {"name": "budget", "namespace": namespace}, "spec": {"minAvailable": 1, "selector": selector}},
    )


# mesh-mtls-strict


def test_one_strict_mesh_wide_peer_authentication_passes():
    assert messages("mesh-mtls-strict", peer_authentication()) == []


def test_a_stack_without_a_mesh_wide_peer_authentication_is_told_to_add_one():
    (message,) = messages("mesh-mtls-strict", peer_authentication(namespace="team"))

    assert "no mesh-wide PeerAuthentication" in message
    assert "'istio-system'" in message
    assert "STRICT" in message


@pytest.mark.parametrize("mode", ["PERMISSIVE", "DISABLE", "UNSET", None])
def test_a_mesh_wide_peer_authentication_that_is_not_strict_is_a_violation(mode):
    (finding,) = findings("mesh-mtls-strict", peer_authentication(mode=mode))

    assert "set spec.mtls.mode to STRICT" in finding.message
    assert finding.urn == peer_authentication().urn
    assert finding.mandatory


def test_two_mesh_wide_peer_authentications_are_each_reported():
    first, second = peer_authentication(), peer_authentication(name="other", mode="PERMISSIVE")

    reported = findings("mesh-mtls-strict", first, second)

    assert {finding.urn for finding in reported} == {first.urn, second.urn}
    assert all("keep exactly one" in finding.message for finding in reported)


def test_a_selector_makes_a_root_namespace_policy_workload_specific_not_mesh_wide():
    workload_policy = peer_authentication(name="gateway", mode="PERMISSIVE", selector={"matchLabels": {"a": "b"}})

    assert messages("mesh-mtls-strict", peer_authentication(), workload_policy) == []


def test_the_root_namespace_is_configurable():
    mesh_wide = peer_authentication(namespace="istio-control")

    assert messages("mesh-mtls-strict", mesh_wide, config={"rootNamespace": "istio-control"}) == []
    assert messages("mesh-mtls-strict", mesh_wide) != []


def test_a_stack_whose_mesh_the_pack_does_not_recognise_is_held_to_istios_rule():
    assert messages("mesh-mtls-strict", chart("loki", "6.0.0", repo="https://grafana.github.io/helm-charts")) != []


@pytest.mark.parametrize("policy", ["all-authenticated", "cluster-authenticated", "deny"])
def test_a_linkerd_stack_requires_an_authenticated_default_inbound_policy_and_no_peer_authentication(policy):
    assert messages("mesh-mtls-strict", linkerd_control_plane(policy)) == []


@pytest.mark.parametrize("policy", ["all-unauthenticated", "cluster-unauthenticated", "audit"])
def test_a_linkerd_control_plane_that_admits_unauthenticated_clients_is_told_what_to_set(policy):
    control_plane = linkerd_control_plane(policy)

    (finding,) = findings("mesh-mtls-strict", control_plane)

    assert finding.urn == control_plane.urn
    assert f"sets proxy.defaultInboundPolicy {policy}" in finding.message
    assert "set proxy.defaultInboundPolicy to all-authenticated (servicemesh:mesh.mtlsMode STRICT)" in finding.message


def test_a_linkerd_control_plane_without_a_default_inbound_policy_gets_the_charts_unauthenticated_one():
    (message,) = messages("mesh-mtls-strict", linkerd_control_plane(None))

    assert "sets no proxy.defaultInboundPolicy, so the chart's all-unauthenticated applies" in message


def test_linkerd_is_recognised_on_a_real_preview_by_the_config_map_its_chart_renders():
    # A real preview passes no inputs of a helm.sh/v4:Chart: its rendered linkerd-config holds the values.
    component = resource("kubernetes:helm.sh/v4:Chart", "linkerd-control-plane", {})
    permissive = linkerd_config("all-unauthenticated")

    assert messages("mesh-mtls-strict", component, linkerd_config("all-authenticated")) == []
    (finding,) = findings("mesh-mtls-strict", component, permissive)
    assert finding.urn == permissive.urn
    assert "ConfigMap linkerd/linkerd-config" in finding.message


@pytest.mark.parametrize(
    "entries",
    [
        [STRICT_CONSUL_MESH],
        [consul_entry("Mesh", "mesh")],
        [STRICT_CONSUL_MESH, consul_entry("ProxyDefaults", "global", mutualTLSMode="strict")],
        [STRICT_CONSUL_MESH, consul_entry("ProxyDefaults", "global", accessLogs={"enabled": True})],
    ],
    ids=["mesh-forbids-permissive", "mesh-leaves-it-unset", "proxy-defaults-strict", "proxy-defaults-unset"],
)
def test_a_consul_stack_passes_with_a_mesh_entry_that_forbids_permissive_mtls(entries):
    assert messages("mesh-mtls-strict", CONSUL_CHART, *entries) == []


def test_a_consul_stack_without_a_mesh_entry_is_told_to_add_one():
    (message,) = messages("mesh-mtls-strict", CONSUL_CHART)

    assert "no Consul Mesh config entry" in message
    assert "spec.allowEnablingPermissiveMutualTLS false" in message


def test_a_consul_mesh_entry_that_allows_permissive_mtls_is_refused():
    lenient = consul_entry("Mesh", "mesh", allowEnablingPermissiveMutualTLS=True)

    (finding,) = findings("mesh-mtls-strict", CONSUL_CHART, lenient)

    assert finding.urn == lenient.urn
    assert "set it to false" in finding.message


def test_consul_proxy_defaults_in_permissive_mode_are_refused():
    permissive = consul_entry("ProxyDefaults", "global", mutualTLSMode="permissive")

    (finding,) = findings("mesh-mtls-strict", CONSUL_CHART, STRICT_CONSUL_MESH, permissive)

    assert finding.urn == permissive.urn
    assert "sets spec.mutualTLSMode permissive" in finding.message
    assert "set it to strict" in finding.message


# peer-authentication-no-plaintext


@pytest.mark.parametrize("mode", ["STRICT", "UNSET", None])
def test_strict_or_inherited_modes_pass(mode):
    assert messages("peer-authentication-no-plaintext", peer_authentication(namespace="team", mode=mode)) == []


@pytest.mark.parametrize("mode", ["PERMISSIVE", "DISABLE"])
def test_plaintext_modes_are_refused_with_the_way_out(mode):
    (message,) = messages("peer-authentication-no-plaintext", peer_authentication(namespace="team", mode=mode))

    assert f"spec.mtls.mode {mode}" in message
    assert "use STRICT" in message
    assert "allowedNamespaces" in message


def test_a_plaintext_port_is_refused_too():
    policy = peer_authentication(namespace="team", portLevelMtls={"8080": {"mode": "DISABLE"}})

    (message,) = messages("peer-authentication-no-plaintext", policy)

    assert "spec.portLevelMtls.8080.mode DISABLE" in message


def test_allowlisted_namespaces_may_migrate_in_permissive_mode():
    legacy = peer_authentication(namespace="legacy", mode="PERMISSIVE")

    assert messages("peer-authentication-no-plaintext", legacy, config={"allowedNamespaces": ["legacy"]}) == []


LINKERD_POLICY = "config.linkerd.io/default-inbound-policy"


@pytest.mark.parametrize("policy", ["all-authenticated", "cluster-authenticated", "deny"])
def test_linkerd_inbound_policy_annotations_that_require_a_mesh_identity_pass(policy):
    team = namespace("team", annotations={LINKERD_POLICY: policy})
    workload = deployment("app", "team", annotations={LINKERD_POLICY: policy})

    assert messages("peer-authentication-no-plaintext", team, workload) == []


@pytest.mark.parametrize("policy", ["all-unauthenticated", "cluster-unauthenticated", "audit"])
def test_a_linkerd_namespace_or_pod_that_admits_unauthenticated_clients_is_refused(policy):
    team = namespace("team", annotations={LINKERD_POLICY: policy})
    workload = deployment("app", "team", annotations={LINKERD_POLICY: policy})

    on_namespace, on_workload = messages("peer-authentication-no-plaintext", team, workload)

    assert on_namespace.startswith(f"Namespace 'team' sets the annotation {LINKERD_POLICY}: {policy}")
    assert on_workload.startswith(f"Deployment team/app (pod template) sets the annotation {LINKERD_POLICY}")
    assert "use all-authenticated, cluster-authenticated, deny" in on_workload
    assert messages("peer-authentication-no-plaintext", team, workload, config={"allowedNamespaces": ["team"]}) == []


@pytest.mark.parametrize("kind", ["ServiceDefaults", "ProxyDefaults"])
def test_consul_config_entries_that_make_proxies_permissive_are_refused(kind):
    (message,) = messages(
        "peer-authentication-no-plaintext", consul_entry(kind, "web", "team", mutualTLSMode="permissive")
    )

    assert f"{kind} 'web' in namespace 'team' sets spec.mutualTLSMode permissive" in message
    assert "use strict" in message
    assert "allowedNamespaces" in message


@pytest.mark.parametrize("spec", [{"mutualTLSMode": "strict"}, {"protocol": "http"}])
def test_consul_config_entries_that_are_strict_or_inherit_pass(spec):
    assert messages("peer-authentication-no-plaintext", consul_entry("ServiceDefaults", "web", "team", **spec)) == []


def test_a_permissive_consul_service_in_an_allowlisted_namespace_may_migrate():
    legacy = consul_entry("ServiceDefaults", "web", "legacy", mutualTLSMode="permissive")

    assert messages("peer-authentication-no-plaintext", legacy, config={"allowedNamespaces": ["legacy"]}) == []


# helm-chart-pinned


@pytest.mark.parametrize(
    "compliant",
    [
        chart("istiod", "1.30.3", repo="https://blob.istio.io/istio-release/charts"),
        chart("oci://registry.example.com/charts/istiod", "1.30.3"),
        chart("/srv/charts/istiod", "1.30.3"),
        chart("./vendor/charts/istiod", "1.30.3"),
        chart("grafana", "v10.1.0-rc.1+build.7", repo="https://grafana.github.io/helm-charts"),
        chart("istiod", "1.30.3", repo="https://example.com/charts", type_="kubernetes:helm.sh/v3:Release"),
    ],
    ids=["https-repository", "oci", "absolute-path", "relative-path", "semver-prerelease", "v3-release"],
)
def test_charts_pinned_to_an_exact_version_from_a_named_source_pass(compliant):
    assert messages("helm-chart-pinned", compliant) == []


@pytest.mark.parametrize("version", ["", "^1.30.0", "~1.30", "1.30", ">=1.30.0", "1.30.x", "latest"])
def test_a_chart_version_that_is_not_one_exact_version_is_refused(version):
    (message,) = messages("helm-chart-pinned", chart("istiod", version, repo="https://example.com/charts"))

    assert "pin one exact chart version" in message


@pytest.mark.parametrize("chart_name", ["istiod", "istio/istiod"])
def test_a_chart_resolved_through_the_local_helm_configuration_is_refused(chart_name):
    (message,) = messages("helm-chart-pinned", chart(chart_name, "1.30.3"))

    assert "does not name its source" in message
    assert "repositoryOpts.repo" in message


def test_a_release_is_held_to_the_same_rule():
    unpinned = chart("istiod", version="", type_="kubernetes:helm.sh/v3:Release")

    assert len(messages("helm-chart-pinned", unpinned)) == 2


def test_a_chart_whose_inputs_the_engine_does_not_pass_cannot_be_judged():
    # A real preview passes no inputs of a v4 Chart (a component resource), only its rendered objects.
    component = resource("kubernetes:helm.sh/v4:Chart", "istiod", {})

    assert messages("helm-chart-pinned", component) == []


# container-image-pinned


@pytest.mark.parametrize(
    "image",
    ["docker.io/org/app:1.2.3", f"docker.io/org/app@{DIGEST}", f"org/app:1.2.3@{DIGEST}", "registry:5000/app:v1"],
)
def test_images_pinned_by_tag_or_digest_pass(image):
    assert messages("container-image-pinned", deployment("app", "team", container(image=image))) == []


@pytest.mark.parametrize(
    ("image", "reason"),
    [
        ("docker.io/org/app", "untagged"),
        ("registry:5000/app", "untagged"),
        ("docker.io/org/app:latest", "not 'latest'"),
        ("", "must be an image reference"),
    ],
)
def test_untagged_or_latest_images_are_refused(image, reason):
    (message,) = messages("container-image-pinned", deployment("web", "team", container(image=image)))

    assert message.startswith("Deployment team/web container 'app'")
    assert reason in message


def test_init_containers_are_checked_too():
    unpinned_init = deployment("app", "team", init_containers=[container(name="setup", image="busybox")])

    (message,) = messages("container-image-pinned", unpinned_init)

    assert "container 'setup'" in message


@pytest.mark.parametrize(
    ("type_", "path"),
    [
        ("kubernetes:apps/v1:StatefulSet", ("spec", "template", "spec")),
        ("kubernetes:apps/v1:DaemonSet", ("spec", "template", "spec")),
        ("kubernetes:batch/v1:Job", ("spec", "template", "spec")),
        ("kubernetes:batch/v1:CronJob", ("spec", "jobTemplate", "spec", "template", "spec")),
        ("kubernetes:core/v1:Pod", ("spec",)),
    ],
)
def test_every_kind_of_workload_is_checked(type_, path):
    props = pod_spec(container(image="nginx:latest"))
    for key in reversed(path):
        props = {key: props}

    assert len(messages("container-image-pinned", resource(type_, "workload", props))) == 1


def test_the_gateway_image_that_the_injector_fills_in_passes_only_on_injected_pods():
    injected = {"inject.istio.io/templates": "gateway"}

    assert (
        messages("container-image-pinned", deployment("gw", "ingress", container(image="auto"), annotations=injected))
        == []
    )
    assert len(messages("container-image-pinned", deployment("gw", "ingress", container(image="auto")))) == 1


# no-retired-artifact-location

RETIRED = "no-retired-artifact-location"


@pytest.mark.parametrize(
    "image",
    [
        "registry.istio.io/release/pilot:1.30.3",
        "gcr.io/istio-release/proxyv2:1.30.3",
        f"GCR.IO/istio-release/ztunnel@{DIGEST}",
    ],
)
def test_an_image_from_a_retired_registry_is_refused_in_any_container(image):
    in_init_container = deployment("app", "team", init_containers=[container(name="setup", image=image)])

    (message,) = messages(RETIRED, in_init_container)

    assert message.startswith("Deployment team/app: spec.template.spec.initContainers[0].image names")
    assert "retired in December 2026" in message
    assert "docker.io/istio" in message


@pytest.mark.parametrize(
    "image",
    [
        "docker.io/istio/pilot:1.30.3",
        "mirror.internal/registry.istio.io-release/pilot:1.30.3",
        "gcr.io/istio-releases/x:1",
    ],
)
def test_images_from_live_registries_pass(image):
    assert messages(RETIRED, deployment("app", "team", container(image=image))) == []


@pytest.mark.parametrize(
    "retired_chart",
    [
        chart("istiod", "1.30.3", repo="https://istio-release.storage.googleapis.com/charts"),
        chart("oci://gcr.io/istio-release/charts/istiod", "1.30.3"),
        chart(
            "istiod",
            "1.30.3",
            repo="https://blob.istio.io/istio-release/charts",
            values={"global": {"hub": "registry.istio.io/release"}},
        ),
        chart(
            "ztunnel",
            "1.30.3",
            type_="kubernetes:helm.sh/v3:Release",
            repo="https://blob.istio.io/istio-release/charts",
            values={"hub": "gcr.io/istio-release"},
        ),
    ],
)
def test_a_chart_from_a_retired_location_or_pulling_from_one_is_refused(retired_chart):
    (message,) = messages(RETIRED, retired_chart)

    assert "retired in December 2026" in message


def test_an_injector_whose_rendered_values_name_a_retired_hub_is_refused():
    # What a real preview shows of istiod's chart: the injector's ConfigMap, whose values carry the hub
    # of every sidecar, gateway and waypoint it will inject.
    injector = resource(
        "kubernetes:core/v1:ConfigMap",
        "istio-sidecar-injector",
        {
            "metadata": {"name": "istio-sidecar-injector-1-30-3", "namespace": "istio-system"},
            "data": {"values": '{"global":{"hub":"registry.istio.io/release","tag":"1.30.3"}}'},
        },
    )

    (message,) = messages(RETIRED, injector)

    assert message.startswith(
        "ConfigMap istio-system/istio-sidecar-injector-1-30-3: data.values names registry.istio.io/release"
    )


def test_the_default_chart_sources_pass():
    assert messages(RETIRED, chart("istiod", "1.30.3", repo="https://blob.istio.io/istio-release/charts")) == []
    assert messages(RETIRED, chart("oci://ghcr.io/istio/release/charts/istiod", "1.30.3")) == []


# container-resources-set


def test_a_container_with_requests_and_a_memory_limit_passes():
    assert messages("container-resources-set", deployment()) == []


@pytest.mark.parametrize(
    ("resources", "missing"),
    [
        ({"requests": {"memory": "32Mi"}, "limits": {"memory": "64Mi"}}, "resources.requests.cpu"),
        ({"requests": {"cpu": "10m"}, "limits": {"memory": "64Mi"}}, "resources.requests.memory"),
        ({"requests": {"cpu": "500m", "memory": "2048Mi"}}, "resources.limits.memory"),
        ({}, "resources.requests.cpu, resources.requests.memory, resources.limits.memory"),
    ],
)
def test_a_container_missing_a_request_or_the_memory_limit_is_told_which(resources, missing):
    (message,) = messages("container-resources-set", deployment("app", "team", container(resources=resources)))

    assert f"sets no {missing}:" in message


def test_init_containers_need_resources_too():
    bare_init = deployment("app", "team", init_containers=[{"name": "setup", "image": "busybox:1.37"}])

    (message,) = messages("container-resources-set", bare_init)

    assert "container 'setup'" in message


# workload-namespace-in-mesh


@pytest.mark.parametrize(
    "labels",
    [{"istio-injection": "enabled"}, {"istio.io/rev": "stable"}, {"istio.io/dataplane-mode": "ambient"}],
)
def test_a_workload_namespace_labelled_into_the_mesh_passes(labels):
    assert messages("workload-namespace-in-mesh", namespace("team", labels), deployment()) == []


@pytest.mark.parametrize("labels", [{}, {"istio-injection": "disabled"}, {"istio.io/dataplane-mode": "none"}])
def test_a_workload_namespace_not_labelled_into_the_mesh_is_reported_on_the_namespace(labels):
    team = namespace("team", labels)

    (finding,) = findings("workload-namespace-in-mesh", team, deployment())

    assert finding.urn == team.urn
    assert "namespace 'team' holds workloads (Deployment team/app) but is not enrolled" in finding.message
    # No mesh the pack recognises is installed here, so every mesh's way in is listed.
    assert (
        "label it istio-injection=enabled, istio.io/rev=<revision or tag> or istio.io/dataplane-mode=ambient "
        "(Istio), or annotate it linkerd.io/inject=enabled (Linkerd), or annotate every workload's pod template "
        "in it consul.hashicorp.com/connect-inject=true (Consul); or add it to this policy's exemptNamespaces"
    ) in finding.message


def test_a_linkerd_namespace_is_enrolled_by_its_inject_annotation():
    enrolled = namespace("team", annotations={"linkerd.io/inject": "enabled"})
    disabled = namespace("team", annotations={"linkerd.io/inject": "disabled"})

    assert messages("workload-namespace-in-mesh", linkerd_control_plane(), enrolled, deployment()) == []
    (message,) = messages("workload-namespace-in-mesh", linkerd_control_plane(), disabled, deployment())
    # The stack installs Linkerd: the message gives Linkerd's way in only.
    assert "is not enrolled in the mesh: annotate it linkerd.io/inject=enabled (Linkerd); or add it" in message


def test_a_consul_namespace_is_enrolled_when_every_workload_in_it_is_annotated_for_injection():
    injected = {"consul.hashicorp.com/connect-inject": "true"}
    web, worker = deployment("web", annotations=injected), deployment("worker", annotations=injected)
    opted_out = deployment("worker", annotations={"consul.hashicorp.com/connect-inject": "false"})

    assert messages("workload-namespace-in-mesh", CONSUL_CHART, namespace("team"), web, worker) == []
    (message,) = messages("workload-namespace-in-mesh", CONSUL_CHART, namespace("team"), web, opted_out)
    assert "annotate every workload's pod template in it consul.hashicorp.com/connect-inject=true (Consul)" in message
    assert "(Istio)" not in message


def test_a_workload_namespace_the_stack_does_not_declare_is_reported():
    (message,) = messages("workload-namespace-in-mesh", deployment("app", "elsewhere"))

    assert "namespace 'elsewhere' holds workloads" in message
    assert "does not declare it" in message


def test_a_workload_without_a_namespace_is_in_default():
    unplaced = resource("kubernetes:core/v1:Pod", "pod", {"metadata": {"name": "pod"}, "spec": pod_spec()})

    (message,) = messages("workload-namespace-in-mesh", unplaced)

    assert "namespace 'default'" in message


def test_the_meshs_own_namespaces_are_exempt_by_default_and_the_list_is_configurable():
    istiod = deployment("istiod", "istio-system")
    tooling = deployment("tool", "tooling")

    assert messages("workload-namespace-in-mesh", namespace("istio-system"), istiod) == []
    assert messages("workload-namespace-in-mesh", tooling, config={"exemptNamespaces": ["tooling"]}) == []


def test_namespaces_without_workloads_need_no_label():
    assert messages("workload-namespace-in-mesh", namespace("empty")) == []


# dashboard-not-exposed-in-prod


@pytest.mark.parametrize(
    "dashboard",
    [
        service("kiali", "LoadBalancer"),
        service("prometheus-server", "NodePort"),
        service("web", "NodePort", labels={"app.kubernetes.io/name": "grafana"}),
        service("tracing", "LoadBalancer", labels={"app": "jaeger"}),
    ],
    ids=["by-name", "by-name-prefix", "by-kubernetes-label", "by-app-label"],
)
def test_an_exposed_dashboard_service_is_refused_in_prod(dashboard):
    (message,) = messages("dashboard-not-exposed-in-prod", dashboard, stack_config=PROD)

    assert "make it ClusterIP" in message
    assert "port-forward" in message


def test_dashboards_may_be_exposed_outside_prod_and_other_services_anywhere():
    assert messages("dashboard-not-exposed-in-prod", service("kiali", "NodePort"), stack_config=DEV) == []
    assert (
        messages("dashboard-not-exposed-in-prod", service("istio-ingressgateway", "LoadBalancer"), stack_config=PROD)
        == []
    )
    assert messages("dashboard-not-exposed-in-prod", service("kiali"), stack_config=PROD) == []


@pytest.mark.parametrize(
    ("addon", "path"),
    [
        (chart("grafana", values={"service": {"type": "LoadBalancer"}}), "service.type"),
        (chart("kiali-server", values={"deployment": {"service_type": "NodePort"}}), "deployment.service_type"),
        (chart("prometheus", values={"server": {"service": {"type": "NodePort"}}}), "server.service.type"),
        (
            chart("oci://ghcr.io/org/jaeger", values={"query": {"service": {"type": "LoadBalancer"}}}),
            "query.service.type",
        ),
    ],
    ids=["grafana", "kiali-server", "prometheus", "jaeger-oci"],
)
def test_add_on_chart_values_that_expose_a_dashboard_are_refused_in_prod(addon, path):
    (message,) = messages("dashboard-not-exposed-in-prod", addon, stack_config=PROD)

    assert f"sets values.{path} = " in message


def test_add_on_chart_values_with_a_cluster_ip_pass_and_other_charts_are_not_dashboards():
    private = chart("grafana", values={"service": {"type": "ClusterIP"}})
    gateway = chart("gateway", values={"service": {"type": "LoadBalancer"}})

    assert messages("dashboard-not-exposed-in-prod", private, gateway, stack_config=PROD) == []


def test_which_environments_count_as_prod_is_configurable():
    staging = {"servicemesh:environment": "staging"}
    config = {"prodEnvironments": ["staging", "prod"]}

    assert (
        len(
            messages("dashboard-not-exposed-in-prod", service("kiali", "NodePort"), stack_config=staging, config=config)
        )
        == 1
    )


# replicated-workload-has-disruption-budget (advisory)


def test_a_replicated_deployment_without_a_budget_gets_an_advisory():
    (finding,) = findings("replicated-workload-has-disruption-budget", deployment(replicas=2))

    assert not finding.mandatory
    assert "runs 2 replicas without a PodDisruptionBudget" in finding.message


def test_replica_counts_arrive_as_floats_from_the_engine_and_still_count():
    replicated = deployment(replicas=3.0)

    assert len(findings("replicated-workload-has-disruption-budget", replicated)) == 1


def test_a_budget_selecting_the_pods_in_the_same_namespace_satisfies_it():
    replicated = deployment(replicas=2)

    assert (
        findings("replicated-workload-has-disruption-budget", replicated, budget({"matchLabels": {"app": "app"}})) == []
    )
    assert findings("replicated-workload-has-disruption-budget", replicated, budget({"matchLabels": {"app": "other"}}))
    assert findings(
        "replicated-workload-has-disruption-budget", replicated, budget({"matchLabels": {"app": "app"}}, namespace="x")
    )


def test_a_single_replica_needs_no_budget():
    assert findings("replicated-workload-has-disruption-budget", deployment(replicas=1)) == []


@pytest.mark.parametrize("controller", ["linkerd-destination", "linkerd-identity", "linkerd-proxy-injector"])
def test_linkerds_own_controllers_may_admit_unauthenticated_callers_but_nothing_named_like_them_elsewhere(controller):
    # The API server and identity-less proxies call them; the chart marks them with its component label.
    annotations = {"config.linkerd.io/default-inbound-policy": "all-unauthenticated"}
    chart_rendered = deployment(controller, "linkerd", annotations=annotations)
    chart_rendered.props["metadata"]["labels"] = {"linkerd.io/control-plane-component": "destination"}
    impostor = deployment(controller, "team", annotations=annotations)

    assert messages("peer-authentication-no-plaintext", chart_rendered) == []
    assert len(messages("peer-authentication-no-plaintext", impostor)) == 1
