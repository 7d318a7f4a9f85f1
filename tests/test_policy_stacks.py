"""The policy pack over whole stacks: every real stack complies; a derived stack that drops the
mesh's guarantees is refused with every violation listed.

The resources are those the real program registers under mocks, as `pulumi preview` would send
them to the pack. Under mocks each Helm chart is one resource (the provider renders its objects
only in a real preview), so the workload policies see the apps' objects here, and the charts'
rendered objects only under `pulumi preview --policy-pack policy`.
"""

from __future__ import annotations

import copy

import pytest
from stack_harness import run_stack, stack_config

from policy.checks import Resource, installed_meshes
from policy.offline import evaluate
from policy.pack import POLICIES
from review.stacks import stack_names

CHART = "kubernetes:helm.sh/v4:Chart"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
PEER_AUTHENTICATION = "kubernetes:security.istio.io/v1:PeerAuthentication"


def registered_resources(run):
    return [
        Resource(resource.type, copy.deepcopy(resource.inputs), resource.urn, resource.name)
        for resource in run.resources
    ]


@pytest.mark.parametrize("stack", stack_names())
def test_every_stack_passes_every_mandatory_policy(stack):
    run = run_stack(stack)

    mandatory = [
        finding
        for finding in evaluate(registered_resources(run), stack_config=stack_config(stack))
        if finding.mandatory
    ]

    assert mandatory == []


@pytest.mark.parametrize("stack", stack_names())
def test_the_pack_tells_each_stacks_mesh_from_what_the_stack_installs(stack):
    run = run_stack(stack)
    provider = run.outputs["mesh"].split("-")[0]  # istio-sidecar, istio-ambient, linkerd, consul

    assert installed_meshes(registered_resources(run)) == {provider}


def test_the_pack_declares_each_rule_once_with_its_enforcement_level():
    levels = {policy.name: policy.enforcement_level.value for policy in POLICIES}

    assert levels == {
        "mesh-mtls-strict": "mandatory",
        "peer-authentication-no-plaintext": "mandatory",
        "no-retired-artifact-location": "mandatory",
        "helm-chart-pinned": "mandatory",
        "container-image-pinned": "mandatory",
        "container-resources-set": "mandatory",
        "workload-namespace-in-mesh": "mandatory",
        "dashboard-not-exposed-in-prod": "mandatory",
        "replicated-workload-has-disruption-budget": "advisory",
    }


# A derived stack. The program's own config validation refuses PERMISSIVE in prod and unpinned
# images before it registers anything, so a stack file cannot produce these resources; a fork of
# the program that dropped that validation can. The pack exists for that fork: so the test runs
# the real prod program and breaks what it registered, as such a fork would.


def by_name(resources, name):
    (match,) = [resource for resource in resources if resource.name == name]
    return match


def chart_named(resources, chart):
    (match,) = [resource for resource in resources if resource.type == CHART and resource.props["chart"] == chart]
    return match


def derived_prod_stack():
    resources = registered_resources(run_stack("prod"))
    by_name(resources, "istio-mesh-mtls").props["spec"]["mtls"]["mode"] = "PERMISSIVE"
    istiod = chart_named(resources, "istiod")
    istiod.props["version"] = "~1.30"
    del chart_named(resources, "gateway").props["repositoryOpts"]
    (app,) = by_name(resources, "app-httpbin-deployment").props["spec"]["template"]["spec"]["containers"]
    app["image"] = "docker.io/mccutchen/go-httpbin:latest"
    del app["resources"]["limits"]["memory"]
    dashboard = Resource(
        "kubernetes:core/v1:Service",
        {
            "kind": "Service",
            "metadata": {"name": "kiali", "namespace": "istio-system"},
            "spec": {"type": "LoadBalancer"},
        },
        "urn:pulumi:prod::servicemesh::kubernetes:core/v1:Service::kiali",
        "kiali",
    )
    return [*resources, dashboard]


def test_a_derived_prod_stack_that_drops_the_guarantees_is_refused_with_every_violation():
    resources = derived_prod_stack()
    name_of_urn = {resource.urn: resource.name for resource in resources}

    reported = evaluate(resources, stack_config=stack_config("prod"))

    assert all(finding.mandatory for finding in reported)
    assert sorted((finding.policy, name_of_urn[finding.urn]) for finding in reported) == [
        ("container-image-pinned", "app-httpbin-deployment"),
        ("container-resources-set", "app-httpbin-deployment"),
        ("dashboard-not-exposed-in-prod", "kiali"),
        ("helm-chart-pinned", "istio-gateway"),
        ("helm-chart-pinned", chart_named(resources, "istiod").name),
        ("mesh-mtls-strict", "istio-mesh-mtls"),
        ("peer-authentication-no-plaintext", "istio-mesh-mtls"),
    ]


def test_the_dashboard_rule_follows_the_stacks_environment_config():
    dashboard_findings = [
        finding.policy
        for finding in evaluate(derived_prod_stack(), stack_config=stack_config("dev"))
        if finding.policy == "dashboard-not-exposed-in-prod"
    ]

    assert dashboard_findings == []


# Each mesh in its own terms. Outside prod the program accepts PERMISSIVE (for migrations); the
# pack does not, whichever mesh implements the stack.


def findings_of(stack, resources):
    name_of_urn = {resource.urn: resource.name for resource in resources}
    return sorted(
        (finding.policy, name_of_urn.get(finding.urn), finding.message)
        for finding in evaluate(resources, stack_config=stack_config(stack))
    )


def test_a_permissive_linkerd_stack_is_refused_for_its_unauthenticated_default_inbound_policy():
    resources = registered_resources(run_stack("dev-linkerd", {"servicemesh:mesh.mtlsMode": "PERMISSIVE"}))

    ((policy, name, message),) = findings_of("dev-linkerd", resources)

    assert (policy, name) == ("mesh-mtls-strict", "linkerd-control-plane")
    assert "sets proxy.defaultInboundPolicy all-unauthenticated" in message
    assert "set proxy.defaultInboundPolicy to all-authenticated (servicemesh:mesh.mtlsMode STRICT)" in message


def test_a_permissive_consul_stack_is_refused_for_its_mesh_entry_and_proxy_defaults():
    resources = registered_resources(run_stack("dev-consul", {"servicemesh:mesh.mtlsMode": "PERMISSIVE"}))

    reported = findings_of("dev-consul", resources)

    assert [(policy, name) for policy, name, _ in reported] == [
        ("mesh-mtls-strict", "consul-mesh-entry"),
        ("mesh-mtls-strict", "consul-proxy-defaults"),
        ("peer-authentication-no-plaintext", "consul-proxy-defaults"),
    ]
    (_, _, mesh_entry), (_, _, proxy_defaults), _ = reported
    assert "sets spec.allowEnablingPermissiveMutualTLS true" in mesh_entry
    assert "set it to false" in mesh_entry
    assert "sets spec.mutualTLSMode permissive" in proxy_defaults
    assert "set it to strict" in proxy_defaults


def test_a_permissive_ambient_stack_is_refused_in_istios_terms():
    resources = registered_resources(run_stack("dev-ambient", {"servicemesh:mesh.mtlsMode": "PERMISSIVE"}))

    assert [(policy, name) for policy, name, _ in findings_of("dev-ambient", resources)] == [
        ("mesh-mtls-strict", "istio-mesh-mtls"),
        ("peer-authentication-no-plaintext", "istio-mesh-mtls"),
    ]


NAMESPACE_METADATA = ("enrolled-sample-namespace", "metadata")
CLIENT_POD_METADATA = ("app-httpbin-client", "spec", "template", "metadata")


@pytest.mark.parametrize(
    ("stack", "enrolment", "way_in"),
    [
        ("dev", (*NAMESPACE_METADATA, "labels", "istio.io/rev"), "label it istio-injection=enabled, istio.io/rev="),
        ("dev-ambient", (*NAMESPACE_METADATA, "labels", "istio.io/dataplane-mode"), "istio.io/dataplane-mode=ambient"),
        ("dev-linkerd", (*NAMESPACE_METADATA, "annotations", "linkerd.io/inject"), "annotate it linkerd.io/inject"),
        (
            "dev-consul",
            (*CLIENT_POD_METADATA, "annotations", "consul.hashicorp.com/connect-inject"),
            "pod template in it consul.hashicorp.com/connect-inject=true",
        ),
    ],
)
def test_a_workload_namespace_that_drops_its_enrolment_is_refused_in_its_meshs_terms(stack, enrolment, way_in):
    resources = registered_resources(run_stack(stack))
    name, *path, key = enrolment
    node = by_name(resources, name).props
    for part in path:
        node = node[part]
    del node[key]

    ((policy, reported_on, message),) = findings_of(stack, resources)

    assert (policy, reported_on) == ("workload-namespace-in-mesh", "enrolled-sample-namespace")
    assert "namespace 'sample' holds workloads" in message
    assert way_in in message
