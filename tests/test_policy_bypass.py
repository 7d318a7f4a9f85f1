"""Mesh bypasses: where a stack enrols a namespace, nothing takes a workload in it out of the mesh's
mTLS or authorization. Each mesh in its own terms: opting a pod out, keeping ports or addresses out
of its proxy, and policies that admit everyone past a default deny."""

from __future__ import annotations

import pytest
from policy_fixtures import (
    CONSUL_CHART,
    consul_entry,
    findings,
    hardened_container,
    linkerd_control_plane,
    messages,
    namespace,
    resource,
    workload,
)

BYPASS = "no-mesh-bypass"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SIDECAR_NAMESPACE = namespace("sample", {"istio.io/rev": "stable"})
AMBIENT_NAMESPACE = namespace("sample", {"istio.io/dataplane-mode": "ambient"})
NOT_ENROLLED = namespace("tools")


def app(namespace_="sample", *, name="httpbin", type_=DEPLOYMENT, labels=None, annotations=None):
    return workload(type_, name, namespace_, labels=labels or {"app": name}, annotations=annotations)


def opted_out(*resources):
    """What each bypass message says a pod template sets."""
    return [
        message.split("its pod template sets ")[1].split(", which takes")[0] for message in messages(BYPASS, *resources)
    ]


# Istio


def test_enrolled_pods_that_stay_in_the_mesh_pass():
    assert messages(BYPASS, SIDECAR_NAMESPACE, app()) == []


@pytest.mark.parametrize(
    ("labels", "annotations", "found"),
    [
        ({"sidecar.istio.io/inject": "false"}, {}, "label sidecar.istio.io/inject=false"),
        ({}, {"sidecar.istio.io/inject": "false"}, "annotation sidecar.istio.io/inject=false"),
        ({"istio.io/dataplane-mode": "none"}, {}, "label istio.io/dataplane-mode=none"),
        ({}, {"sidecar.istio.io/interceptionMode": "NONE"}, "annotation sidecar.istio.io/interceptionMode=NONE"),
        ({}, {"ambient.istio.io/bypass-inbound-capture": "true"}, "annotation ambient.istio.io/bypass-inbound-capture"),
        ({}, {"traffic.sidecar.istio.io/excludeInboundPorts": "8080"}, "excludeInboundPorts=8080"),
        ({}, {"traffic.sidecar.istio.io/excludeOutboundPorts": "5432"}, "excludeOutboundPorts=5432"),
        ({}, {"traffic.sidecar.istio.io/excludeOutboundIPRanges": "10.0.0.0/8"}, "excludeOutboundIPRanges=10.0.0.0/8"),
        ({}, {"traffic.sidecar.istio.io/excludeInterfaces": "eth1"}, "excludeInterfaces=eth1"),
        (
            {},
            {"traffic.sidecar.istio.io/includeInboundPorts": ""},
            "annotation traffic.sidecar.istio.io/includeInboundPorts=",
        ),
        ({}, {"traffic.sidecar.istio.io/includeOutboundIPRanges": "10.0.0.0/8"}, "includeOutboundIPRanges=10.0.0.0/8"),
    ],
    ids=[
        "no-sidecar-label",
        "no-sidecar-annotation",
        "no-ambient",
        "no-interception",
        "inbound-past-ztunnel",
        "excluded-inbound-port",
        "excluded-outbound-port",
        "excluded-outbound-range",
        "excluded-interface",
        "no-inbound-port-captured",
        "narrowed-outbound-ranges",
    ],
)
def test_an_istio_opt_out_in_an_enrolled_namespace_is_refused(labels, annotations, found):
    bypassing = app(labels={"app": "httpbin", **labels}, annotations=annotations)

    (finding,) = findings(BYPASS, SIDECAR_NAMESPACE, bypassing)

    assert finding.urn == bypassing.urn
    assert finding.message.startswith("Deployment sample/httpbin is in an enrolled namespace but its pod template sets")
    assert found in finding.message


def test_an_ambient_pod_that_leaves_ambient_is_refused_too():
    assert opted_out(AMBIENT_NAMESPACE, app(labels={"app": "httpbin", "istio.io/dataplane-mode": "none"})) == [
        "label istio.io/dataplane-mode=none"
    ]


def test_a_patch_that_opts_an_enrolled_workload_out_is_refused():
    patch = app(type_="kubernetes:apps/v1:DeploymentPatch", annotations={"sidecar.istio.io/inject": "false"})

    assert opted_out(SIDECAR_NAMESPACE, patch) == ["annotation sidecar.istio.io/inject=false"]


def test_capturing_every_port_is_no_opt_out_and_pods_outside_enrolled_namespaces_may_opt_out():
    every_port = app(annotations={"traffic.sidecar.istio.io/includeInboundPorts": "*"})
    add_on = app("tools", name="grafana", labels={"app": "grafana", "sidecar.istio.io/inject": "false"})

    assert messages(BYPASS, SIDECAR_NAMESPACE, every_port, NOT_ENROLLED, add_on) == []


def authorization_policy(name, namespace_="sample", **spec):
    return resource(
        "kubernetes:security.istio.io/v1:AuthorizationPolicy",
        f"{namespace_}-{name}",
        {"metadata": {"name": name, "namespace": namespace_}, "spec": spec},
    )


ALLOW_NOTHING = authorization_policy("allow-nothing")
CLIENT = "cluster.local/ns/sample/sa/httpbin-client"


@pytest.mark.parametrize(
    ("rules", "rule"),
    [
        ([{}], 0),
        ([{"to": [{"operation": {"methods": ["GET"]}}]}], 0),
        ([{"from": [{"source": {"principals": ["*"]}}]}], 0),
        ([{"from": [{"source": {"principals": ["cluster.local/*"]}}]}], 0),
        ([{"from": [{"source": {"namespaces": ["*"]}}]}], 0),
        ([{"from": [{"source": {"notPrincipals": [CLIENT]}}]}], 0),
        ([{"from": [{"source": {"ipBlocks": ["0.0.0.0/0"]}}]}], 0),
        ([{"from": [{"source": {"principals": [CLIENT]}}]}, {}], 1),
        ([{"from": [{"source": {"principals": [CLIENT]}}, {"source": {}}]}], 0),
    ],
    ids=[
        "empty-rule",
        "operations-only",
        "any-principal",
        "whole-trust-domain",
        "any-namespace",
        "everyone-but",
        "every-address",
        "second-rule-empty",
        "second-source-empty",
    ],
)
def test_an_allow_policy_that_admits_everyone_past_a_default_deny_is_refused(rules, rule):
    everyone = authorization_policy("everyone", selector={"matchLabels": {"app": "httpbin"}}, rules=rules)

    (finding,) = findings(BYPASS, SIDECAR_NAMESPACE, ALLOW_NOTHING, everyone)

    assert finding.urn == everyone.urn
    assert f"is an ALLOW policy whose rule {rule} admits every caller, past the default deny of 'sample'" in (
        finding.message
    )


def test_an_allow_everyone_policy_in_the_root_namespace_defeats_every_namespaces_default_deny():
    # Issue 17: `rules: [{}]` in istio-system, while prod's namespaces deny by default.
    mesh_wide = authorization_policy("everyone", "istio-system", rules=[{}])

    (message,) = messages(BYPASS, SIDECAR_NAMESPACE, ALLOW_NOTHING, mesh_wide)

    assert "past the default deny of every namespace" in message


def test_a_mesh_wide_default_deny_covers_every_namespace():
    mesh_wide_deny = authorization_policy("allow-nothing", "istio-system")
    everyone = authorization_policy("everyone", "team", rules=[{}])

    assert len(messages(BYPASS, mesh_wide_deny, everyone)) == 1


@pytest.mark.parametrize(
    "spec",
    [
        {"rules": [{"from": [{"source": {"principals": [CLIENT]}}]}]},
        {"rules": [{"from": [{"source": {"principals": ["*"], "namespaces": ["sample"]}}]}]},
        {"rules": [{"when": [{"key": "source.principal", "values": [CLIENT]}]}]},
        {"action": "DENY", "rules": [{}]},
        {"action": "AUDIT", "rules": [{}]},
        {"selector": {"matchLabels": {"app": "httpbin"}}},
    ],
    ids=["named-principal", "principal-in-a-namespace", "condition-on-the-caller", "deny", "audit", "allows-nothing"],
)
def test_policies_that_name_their_callers_or_do_not_allow_pass(spec):
    assert messages(BYPASS, SIDECAR_NAMESPACE, ALLOW_NOTHING, authorization_policy("policy", **spec)) == []


def test_without_a_default_deny_an_allow_everyone_policy_is_not_a_bypass():
    # With no default deny, every request is allowed anyway where no ALLOW policy selects the workload.
    assert messages(BYPASS, SIDECAR_NAMESPACE, authorization_policy("everyone", rules=[{}])) == []


# Linkerd

LINKERD_NAMESPACE = namespace("sample", annotations={"linkerd.io/inject": "enabled"})
DENYING_LINKERD_NAMESPACE = namespace(
    "sample", annotations={"linkerd.io/inject": "enabled", "config.linkerd.io/default-inbound-policy": "deny"}
)
POLICY_API = "kubernetes:policy.linkerd.io/v1alpha1"


@pytest.mark.parametrize(
    ("annotation", "value"),
    [
        ("linkerd.io/inject", "disabled"),
        ("config.linkerd.io/skip-inbound-ports", "8080"),
        ("config.linkerd.io/skip-outbound-ports", "5432"),
        ("config.linkerd.io/skip-subnets", "10.0.0.0/8"),
    ],
)
def test_a_linkerd_opt_out_in_an_enrolled_namespace_is_refused(annotation, value):
    assert opted_out(LINKERD_NAMESPACE, app(annotations={annotation: value})) == [f"annotation {annotation}={value}"]


@pytest.mark.parametrize("policy", ["all-authenticated", "cluster-authenticated"])
def test_a_linkerd_pod_that_lifts_its_namespaces_default_deny_is_refused(policy):
    lifted = app(annotations={"config.linkerd.io/default-inbound-policy": policy})

    assert opted_out(DENYING_LINKERD_NAMESPACE, lifted) == [
        f"annotation config.linkerd.io/default-inbound-policy={policy} (over the namespace's default deny)"
    ]
    assert messages(BYPASS, LINKERD_NAMESPACE, lifted) == []


def test_a_linkerd_namespace_that_lifts_the_control_planes_default_deny_is_refused():
    lifting = namespace(
        "sample",
        annotations={"linkerd.io/inject": "enabled", "config.linkerd.io/default-inbound-policy": "all-authenticated"},
    )

    (finding,) = findings(BYPASS, linkerd_control_plane("deny"), lifting)

    assert finding.urn == lifting.urn
    assert "over the control plane's default deny" in finding.message
    assert messages(BYPASS, linkerd_control_plane("all-authenticated"), lifting) == []


def linkerd_object(kind, name, spec, api=POLICY_API):
    return resource(
        f"{api}:{kind}", f"{kind}-{name}", {"metadata": {"name": name, "namespace": "sample"}, "spec": spec}
    )


def linkerd_server(name, port, selector=None):
    spec = {"podSelector": {"matchLabels": selector or {"app": "httpbin"}}, "port": port}
    return linkerd_object("Server", name, spec, api="kubernetes:policy.linkerd.io/v1beta3")


def admitting(target_kind, target, *authentications):
    return linkerd_object(
        "AuthorizationPolicy",
        f"to-{target}",
        {
            "targetRef": {"group": "policy.linkerd.io", "kind": target_kind, "name": target},
            "requiredAuthenticationRefs": [
                {"group": "policy.linkerd.io", "kind": kind, "name": name} for kind, name in authentications
            ],
        },
    )


ANY_ADDRESS = linkerd_object("NetworkAuthentication", "anyone", {"networks": [{"cidr": "0.0.0.0/0"}]})
APP_SERVER = linkerd_server("httpbin", "http")


def probed_app():
    """httpbin, whose kubelet probes GET /status/200."""
    probed = hardened_container("httpbin")
    probed["readinessProbe"] = probed["livenessProbe"] = {"httpGet": {"path": "/status/200", "port": "http"}}
    return workload(DEPLOYMENT, "httpbin", "sample", spec={"containers": [probed]})


def probe_route(*matches):
    return linkerd_object(
        "HTTPRoute",
        "httpbin-probes",
        {
            "parentRefs": [{"group": "policy.linkerd.io", "kind": "Server", "name": "httpbin"}],
            "rules": [{"matches": list(matches)}],
        },
        api="kubernetes:policy.linkerd.io/v1beta3",
    )


def get(path):
    return {"path": {"type": "Exact", "value": path}, "method": "GET"}


def test_a_linkerd_authorization_without_required_authentication_admits_everyone_and_is_refused():
    (message,) = messages(BYPASS, LINKERD_NAMESPACE, APP_SERVER, admitting("Server", "httpbin"))

    assert "admits every client, with or without a mesh identity" in message


def test_a_linkerd_authorization_by_network_address_to_an_app_is_refused():
    (message,) = messages(
        BYPASS,
        LINKERD_NAMESPACE,
        APP_SERVER,
        ANY_ADDRESS,
        admitting("Server", "httpbin", ("NetworkAuthentication", "anyone")),
    )

    assert message.startswith("AuthorizationPolicy sample/to-httpbin admits clients by network address alone")


def test_unauthenticated_clients_may_reach_the_proxies_admin_port_and_the_probe_paths_only():
    admin = linkerd_server("linkerd-proxy-admin", "linkerd-admin", selector={})
    to_admin = admitting("Server", "linkerd-proxy-admin", ("NetworkAuthentication", "anyone"))
    to_probes = admitting("HTTPRoute", "httpbin-probes", ("NetworkAuthentication", "anyone"))
    stack = [LINKERD_NAMESPACE, probed_app(), APP_SERVER, ANY_ADDRESS, admin, to_admin, to_probes]

    assert messages(BYPASS, *stack, probe_route(get("/status/200"))) == []
    assert len(messages(BYPASS, *stack, probe_route(get("/status/200"), get("/admin")))) == 1
    assert len(messages(BYPASS, *stack, probe_route({**get("/status/200"), "method": "POST"}))) == 1
    assert len(messages(BYPASS, *stack, probe_route({"path": {"type": "PathPrefix", "value": "/status/200"}}))) == 1


def test_a_linkerd_authorization_of_every_identity_past_a_default_deny_is_refused():
    everyone = linkerd_object("MeshTLSAuthentication", "everyone", {"identities": ["*"]})
    policy = admitting("Server", "httpbin", ("MeshTLSAuthentication", "everyone"))

    (message,) = messages(BYPASS, DENYING_LINKERD_NAMESPACE, APP_SERVER, everyone, policy)

    assert "admits every mesh identity (a MeshTLSAuthentication of '*') past the namespace's default deny" in message
    assert messages(BYPASS, LINKERD_NAMESPACE, APP_SERVER, everyone, policy) == []


def test_a_linkerd_authorization_of_named_service_accounts_passes():
    client = linkerd_object(
        "MeshTLSAuthentication",
        "httpbin",
        {"identityRefs": [{"kind": "ServiceAccount", "name": "httpbin-client", "namespace": "sample"}]},
    )
    policy = admitting("Server", "httpbin", ("MeshTLSAuthentication", "httpbin"))

    assert messages(BYPASS, DENYING_LINKERD_NAMESPACE, APP_SERVER, client, policy) == []


@pytest.mark.parametrize(
    ("client", "admits"),
    [
        ({"unauthenticated": True}, "clients without a mesh identity"),
        ({"meshTLS": {"unauthenticatedTLS": True}}, "clients without a mesh identity"),
        ({"meshTLS": {"identities": ["*"]}}, "every mesh identity (meshTLS.identities '*')"),
    ],
)
def test_a_linkerd_server_authorization_for_everyone_is_refused(client, admits):
    authorization = linkerd_object(
        "ServerAuthorization",
        "everyone",
        {"server": {"name": "httpbin"}, "client": client},
        api="kubernetes:policy.linkerd.io/v1beta1",
    )

    (message,) = messages(BYPASS, DENYING_LINKERD_NAMESPACE, authorization)

    assert admits in message


# Consul

INJECTED = {"consul.hashicorp.com/connect-inject": "true"}


@pytest.mark.parametrize(
    ("annotation", "value"),
    [
        ("consul.hashicorp.com/connect-inject", "false"),
        ("consul.hashicorp.com/transparent-proxy", "false"),
        ("consul.hashicorp.com/transparent-proxy-exclude-inbound-ports", "8080"),
        ("consul.hashicorp.com/transparent-proxy-exclude-outbound-ports", "5432"),
        ("consul.hashicorp.com/transparent-proxy-exclude-outbound-cidrs", "10.0.0.0/8"),
        ("consul.hashicorp.com/transparent-proxy-exclude-uids", "5996"),
    ],
)
def test_a_consul_opt_out_beside_injected_workloads_is_refused(annotation, value):
    # Consul enrols pod by pod: a namespace with an injected workload is enrolled.
    opting_out = app(name="worker", annotations={**INJECTED, annotation: value})

    assert opted_out(CONSUL_CHART, namespace("sample"), app(annotations=INJECTED), opting_out) == [
        f"annotation {annotation}={value}"
    ]


def test_consuls_control_plane_and_add_ons_may_stay_out_where_nothing_is_injected():
    outside = app("consul", name="consul-server", annotations={"consul.hashicorp.com/connect-inject": "false"})

    assert messages(BYPASS, CONSUL_CHART, namespace("consul"), outside) == []


DEFAULT_DENY = consul_entry(
    "ServiceIntentions", "default-deny", destination={"name": "*"}, sources=[{"name": "*", "action": "deny"}]
)


@pytest.mark.parametrize(
    ("destination", "source"),
    [
        ("*", {"name": "*", "action": "allow"}),
        ("httpbin", {"name": "*", "action": "allow"}),
        ("httpbin", {"name": "*", "permissions": [{"action": "allow", "http": {"methods": ["GET"]}}]}),
    ],
    ids=["everyone-to-everything", "everyone-to-one", "everyone-for-some-methods"],
)
def test_a_consul_intention_from_everyone_past_the_default_deny_is_refused(destination, source):
    everyone = consul_entry("ServiceIntentions", "everyone", destination={"name": destination}, sources=[source])

    (finding,) = findings(BYPASS, CONSUL_CHART, DEFAULT_DENY, everyone)

    assert finding.urn == everyone.urn
    assert f"allows every service ('*') to call '{destination}', past the mesh-wide '*' → '*' deny" in finding.message


def test_consul_intentions_from_named_services_or_without_a_default_deny_pass():
    named = consul_entry(
        "ServiceIntentions",
        "httpbin",
        destination={"name": "httpbin"},
        sources=[{"name": "httpbin-client", "action": "allow"}],
    )
    everyone = consul_entry(
        "ServiceIntentions", "everyone", destination={"name": "*"}, sources=[{"name": "*", "action": "allow"}]
    )

    assert messages(BYPASS, CONSUL_CHART, DEFAULT_DENY, named) == []
    assert messages(BYPASS, CONSUL_CHART, everyone) == []
