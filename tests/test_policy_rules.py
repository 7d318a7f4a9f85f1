"""Each policy of the pack, on compliant and violating resources, through its CrossGuard validate
function (`policy.offline.evaluate` builds the same arguments the policy SDK builds)."""

from __future__ import annotations

import pytest
from policy_fixtures import (
    CONSUL_CHART,
    DIGEST,
    STRICT_CONSUL_MESH,
    budget,
    chart,
    consul_entry,
    container,
    deployment,
    findings,
    linkerd_config,
    linkerd_control_plane,
    messages,
    namespace,
    peer_authentication,
    pod_spec,
    resource,
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


def destination_rule(host, namespace="team", **spec):
    return resource(
        "kubernetes:networking.istio.io/v1:DestinationRule",
        f"{namespace}-{host}",
        {"metadata": {"name": "rule", "namespace": namespace}, "spec": {"host": host, **spec}},
    )


TLS = {"DISABLE": {"tls": {"mode": "DISABLE"}}, "SIMPLE": {"tls": {"mode": "SIMPLE"}}}


@pytest.mark.parametrize("host", ["*", "*.local", "httpbin", "httpbin.sample.svc.cluster.local", "httpbin.sample.svc"])
@pytest.mark.parametrize("mode", ["DISABLE", "SIMPLE"])
def test_a_destination_rule_that_sends_plaintext_or_no_identity_inside_the_mesh_is_refused(host, mode):
    (message,) = messages("peer-authentication-no-plaintext", destination_rule(host, trafficPolicy=TLS[mode]))

    assert f"sets spec.trafficPolicy.tls.mode {mode} for the in-mesh host '{host}'" in message
    assert "use ISTIO_MUTUAL" in message


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (
            {"trafficPolicy": {"portLevelSettings": [{"port": {"number": 8080}, **TLS["DISABLE"]}]}},
            "spec.trafficPolicy.portLevelSettings[0].tls.mode",
        ),
        ({"subsets": [{"name": "v1", "trafficPolicy": TLS["DISABLE"]}]}, "spec.subsets[0].trafficPolicy.tls.mode"),
    ],
    ids=["per-port", "per-subset"],
)
def test_a_destination_rule_is_judged_per_port_and_per_subset_too(spec, field):
    (message,) = messages("peer-authentication-no-plaintext", destination_rule("httpbin", **spec))

    assert f"sets {field} DISABLE" in message


def test_mutual_tls_inside_the_mesh_and_tls_origination_to_outside_hosts_pass():
    mesh_mtls = destination_rule("httpbin", trafficPolicy={"tls": {"mode": "ISTIO_MUTUAL"}})
    origination = destination_rule("api.example.com", trafficPolicy=TLS["SIMPLE"])

    assert messages("peer-authentication-no-plaintext", mesh_mtls, origination) == []


def test_a_plaintext_destination_rule_in_an_allowlisted_namespace_may_migrate():
    legacy = destination_rule("httpbin", "legacy", trafficPolicy=TLS["DISABLE"])

    assert messages("peer-authentication-no-plaintext", legacy, config={"allowedNamespaces": ["legacy"]}) == []


def linkerd_server(access_policy=None, namespace="team", port="http"):
    spec = {"podSelector": {"matchLabels": {"app": "web"}}, "port": port}
    if access_policy:
        spec["accessPolicy"] = access_policy
    return resource(
        "kubernetes:policy.linkerd.io/v1beta3:Server",
        f"{namespace}-server",
        {"metadata": {"name": "web", "namespace": namespace}, "spec": spec},
    )


@pytest.mark.parametrize("policy", ["all-unauthenticated", "cluster-unauthenticated", "audit"])
def test_a_linkerd_server_that_admits_unauthenticated_clients_on_its_port_is_refused(policy):
    # Linkerd's port-level equivalent of a PeerAuthentication's portLevelMtls.
    (message,) = messages("peer-authentication-no-plaintext", linkerd_server(policy))

    assert f"Server 'web' in namespace 'team' sets spec.accessPolicy {policy}" in message
    assert "on port http" in message
    assert (
        messages("peer-authentication-no-plaintext", linkerd_server(policy), config={"allowedNamespaces": ["team"]})
        == []
    )


@pytest.mark.parametrize("policy", [None, "all-authenticated", "deny"])
def test_a_linkerd_server_that_requires_a_mesh_identity_passes(policy):
    assert messages("peer-authentication-no-plaintext", linkerd_server(policy)) == []


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


@pytest.mark.parametrize(
    "insecure",
    [
        chart("istiod", "1.30.3", repo="http://charts.example.com/istio"),
        chart("istiod", "1.30.3", repo="HTTP://charts.example.com/istio"),
        chart("http://charts.example.com/istiod-1.30.3.tgz", "1.30.3"),
    ],
    ids=["http-repository", "upper-case-scheme", "http-chart-url"],
)
def test_a_chart_fetched_over_plain_http_is_refused(insecure):
    (message,) = messages("helm-chart-pinned", insecure)

    assert "over plain http://" in message
    assert "https://" in message


@pytest.mark.parametrize(
    "with_credentials",
    [
        chart("istiod", "1.30.3", repo="https://user:password@charts.example.com/istio"),
        chart("oci://robot@registry.example.com/charts/istiod", "1.30.3"),
    ],
    ids=["repository", "oci-reference"],
)
def test_a_chart_source_with_credentials_in_its_url_is_refused(with_credentials):
    (message,) = messages("helm-chart-pinned", with_credentials)

    assert "has credentials in its" in message
    assert "repositoryOpts.password from secrets" in message


def test_plain_http_and_credentials_are_each_reported():
    both = chart("istiod", "1.30.3", repo="http://user:password@charts.example.com/istio")

    assert len(messages("helm-chart-pinned", both)) == 2


def test_a_chart_whose_inputs_the_engine_does_not_pass_cannot_be_judged():
    # A real preview passes no inputs of a v4 Chart (a component resource), only its rendered objects.
    component = resource("kubernetes:helm.sh/v4:Chart", "istiod", {})

    assert messages("helm-chart-pinned", component) == []


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


def test_kube_system_is_not_exempt_by_default():
    (message,) = messages("workload-namespace-in-mesh", deployment("tool", "kube-system"))

    assert "namespace 'kube-system' holds workloads" in message


def test_namespaces_without_workloads_need_no_label():
    assert messages("workload-namespace-in-mesh", namespace("empty")) == []


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


def test_a_budget_of_any_api_version_counts():
    # A chart rendered without the cluster's API versions (Consul's) still writes policy/v1beta1.
    older = budget({"matchLabels": {"app": "app"}})
    older = resource("kubernetes:policy/v1beta1:PodDisruptionBudget", older.name, older.props)

    assert findings("replicated-workload-has-disruption-budget", deployment(replicas=2), older) == []


# nothing-in-system-namespaces

SYSTEM = "nothing-in-system-namespaces"


def config_map(namespace=None, name="settings"):
    metadata = {"name": name} if namespace is None else {"name": name, "namespace": namespace}
    return resource("kubernetes:core/v1:ConfigMap", f"{namespace}-{name}", {"metadata": metadata})


@pytest.mark.parametrize("system_namespace", ["kube-system", "kube-public", "kube-node-lease", "default"])
def test_nothing_is_created_in_a_system_namespace(system_namespace):
    privileged_pod = resource(
        "kubernetes:core/v1:Pod",
        "pod",
        {"metadata": {"name": "pod", "namespace": system_namespace}, "spec": pod_spec()},
    )

    (on_config_map,) = messages(SYSTEM, config_map(system_namespace))
    (on_pod,) = messages(SYSTEM, privileged_pod)

    assert on_config_map.startswith(f"ConfigMap {system_namespace}/settings is in the system namespace")
    assert on_pod.startswith(f"Pod {system_namespace}/pod is in the system namespace")


def test_an_object_without_a_namespace_lands_in_default_unless_its_kind_is_cluster_scoped():
    cluster_role = resource("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "role", {"metadata": {"name": "r"}})

    assert len(messages(SYSTEM, config_map())) == 1
    assert messages(SYSTEM, cluster_role) == []


def test_a_custom_kind_is_cluster_scoped_when_the_stacks_crd_says_so():
    crd = resource(
        "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition",
        "crd",
        {
            "metadata": {"name": "meshes.example.com"},
            "spec": {"group": "example.com", "names": {"kind": "Mesh"}, "scope": "Cluster"},
        },
    )
    cluster_wide = resource("kubernetes:example.com/v1:Mesh", "mesh", {"metadata": {"name": "mesh"}})
    namespaced = resource("kubernetes:example.com/v1:Tenant", "tenant", {"metadata": {"name": "tenant"}})

    assert [message.split(" is in")[0] for message in messages(SYSTEM, crd, cluster_wide, namespaced)] == [
        "Tenant default/tenant"
    ]


def test_neither_a_chart_installed_there_nor_the_namespace_itself_may_be_the_stacks():
    into_kube_system = resource(
        "kubernetes:helm.sh/v4:Chart", "tool", {"chart": "tool", "version": "1.0.0", "namespace": "kube-system"}
    )

    assert messages(SYSTEM, into_kube_system) == [
        "chart 'tool' installs into the system namespace 'kube-system', where nothing of the stack belongs (and which "
        "no mesh or pack rule treats as the stack's): put it in a namespace the stack declares"
    ]
    assert len(messages(SYSTEM, namespace("kube-public"))) == 1


def test_only_the_object_a_mesh_names_with_its_reason_may_be_in_kube_system():
    # linkerd-viz's tap API server may read the API server's client CA only through a binding there.
    def role_binding(name):
        return resource(
            "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
            name,
            {"metadata": {"name": name, "namespace": "kube-system"}},
        )

    assert messages(SYSTEM, role_binding("linkerd-linkerd-viz-tap-auth-reader")) == []
    assert len(messages(SYSTEM, role_binding("anything-else"))) == 1


@pytest.mark.parametrize("controller", ["linkerd-destination", "linkerd-identity", "linkerd-proxy-injector"])
def test_linkerds_own_controllers_may_admit_unauthenticated_callers_but_nothing_named_like_them_elsewhere(controller):
    # The API server and identity-less proxies call them; the chart marks them with its component label.
    annotations = {"config.linkerd.io/default-inbound-policy": "all-unauthenticated"}
    chart_rendered = deployment(controller, "linkerd", annotations=annotations)
    chart_rendered.props["metadata"]["labels"] = {"linkerd.io/control-plane-component": "destination"}
    impostor = deployment(controller, "team", annotations=annotations)

    assert messages("peer-authentication-no-plaintext", chart_rendered) == []
    assert len(messages("peer-authentication-no-plaintext", impostor)) == 1
