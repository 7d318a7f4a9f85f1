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

from policy.checks import Resource
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


def test_the_pack_declares_each_rule_once_with_its_enforcement_level():
    levels = {policy.name: policy.enforcement_level.value for policy in POLICIES}

    assert levels == {
        "mesh-mtls-strict": "mandatory",
        "peer-authentication-no-plaintext": "mandatory",
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
