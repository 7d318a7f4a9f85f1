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
from policy_fixtures import hardened_container, resource, workload
from stack_harness import run_stack, stack_config

from mesh.charts import HELM_INSTALL_TYPES
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


def as_a_first_preview_shows_them(resources):
    """A stack's resources as the pack sees them in the preview of its first `up`: a chart whose
    values wait on resources not yet made (Linkerd's certificates) has no known inputs, and renders
    no objects the pack could see."""
    return [resource for resource in resources if resource.type not in HELM_INSTALL_TYPES]


@pytest.mark.parametrize("stack", stack_names())
def test_the_pack_tells_each_stacks_mesh_before_its_charts_are_known(stack):
    run = run_stack(stack)
    provider = run.outputs["mesh"].split("-")[0]
    first_preview = as_a_first_preview_shows_them(registered_resources(run))

    assert installed_meshes(first_preview) == {provider}
    assert [finding for finding in evaluate(first_preview, stack_config=stack_config(stack)) if finding.mandatory] == []


def test_the_pack_declares_each_rule_once_with_its_enforcement_level():
    levels = {policy.name: policy.enforcement_level.value for policy in POLICIES}

    assert levels == {
        "mesh-mtls-strict": "mandatory",
        "peer-authentication-no-plaintext": "mandatory",
        "no-mesh-bypass": "mandatory",
        "no-retired-artifact-location": "mandatory",
        "helm-chart-pinned": "mandatory",
        "container-image-pinned": "mandatory",
        "container-image-registry-allowed": "mandatory",
        "container-resources-set": "mandatory",
        "pod-security": "mandatory",
        "service-account-token-only-where-needed": "mandatory",
        "workload-namespace-in-mesh": "mandatory",
        "no-external-exposure-in-prod": "mandatory",
        "nothing-in-system-namespaces": "mandatory",
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
        ("helm-chart-pinned", "istio-gateway"),
        ("helm-chart-pinned", chart_named(resources, "istiod").name),
        ("mesh-mtls-strict", "istio-mesh-mtls"),
        ("no-external-exposure-in-prod", "kiali"),
        ("peer-authentication-no-plaintext", "istio-mesh-mtls"),
    ]


def test_the_exposure_rule_follows_the_stacks_environment_config():
    exposure_findings = [
        finding.policy
        for finding in evaluate(derived_prod_stack(), stack_config=stack_config("dev"))
        if finding.policy == "no-external-exposure-in-prod"
    ]

    assert exposure_findings == []


# Issue 17: insecure objects added to the prod stack's registrations, each of which the pack let
# through, now each refused by the policy that names what is wrong with it.

PRIVILEGED = hardened_container("tool", privileged=True)


def added_workload(name, namespace="sample", *, type_="kubernetes:apps/v1:Deployment", containers=(), **pod):
    """A workload that needs no API token, with one hardened container unless `containers` are given."""
    spec = {"automountServiceAccountToken": False, "containers": list(containers) or [hardened_container()], **pod}
    return workload(type_, name, namespace, spec=spec)


def added(type_, name, namespace, spec, **metadata):
    return resource(type_, name, {"metadata": {"name": name, "namespace": namespace, **metadata}, "spec": spec})


# Each addition, with the policies that refuse it (one finding each).
INSECURE_ADDITIONS = [
    (
        added_workload(
            "root-shell",
            containers=[PRIVILEGED],
            hostNetwork=True,
            hostPID=True,
            volumes=[{"name": "root", "hostPath": {"path": "/"}}],
        ),
        ["pod-security", "pod-security"],  # the pod's host namespaces and path; its container
    ),
    (added_workload("privileged-init", initContainers=[PRIVILEGED]), ["pod-security"]),
    (
        added_workload(
            "debug", type_="kubernetes:core/v1:Pod", ephemeralContainers=[hardened_container("debug", "busybox:latest")]
        ),
        ["container-image-pinned"],
    ),
    (added_workload("replicas", type_="kubernetes:apps/v1:ReplicaSet", containers=[PRIVILEGED]), ["pod-security"]),
    (
        workload(
            "kubernetes:apps/v1:DeploymentPatch",
            "httpbin",
            "sample",
            spec={"containers": [{"name": "httpbin", "securityContext": {"privileged": True}}]},
        ),
        ["pod-security"],
    ),
    (
        added_workload("nginx-upper", containers=[hardened_container("nginx", "nginx:LATEST")]),
        ["container-image-pinned"],
    ),
    (
        added_workload("nginx-stable", containers=[hardened_container("nginx", "nginx:stable")]),
        ["container-image-pinned"],
    ),
    (
        workload(
            "kubernetes:apps/v1:Deployment",
            "no-sidecar",
            "sample",
            spec={"automountServiceAccountToken": False, "containers": [hardened_container()]},
            labels={"app": "no-sidecar", "sidecar.istio.io/inject": "false"},
        ),
        ["no-mesh-bypass"],
    ),
    (
        workload(
            "kubernetes:apps/v1:Deployment",
            "port-8080-outside",
            "sample",
            spec={"automountServiceAccountToken": False, "containers": [hardened_container()]},
            annotations={"traffic.sidecar.istio.io/excludeInboundPorts": "8080"},
        ),
        ["no-mesh-bypass"],
    ),
    (
        added(
            "kubernetes:core/v1:Service", "payments", "sample", {"type": "LoadBalancer", "selector": {"app": "httpbin"}}
        ),
        ["no-external-exposure-in-prod"],
    ),
    (
        added(
            "kubernetes:core/v1:Service",
            "grafana-external",
            "istio-system",
            {"selector": {"app.kubernetes.io/name": "grafana"}, "externalIPs": ["203.0.113.10"]},
        ),
        ["no-external-exposure-in-prod"],
    ),
    (
        added(
            "kubernetes:networking.k8s.io/v1:Ingress",
            "grafana",
            "istio-system",
            {"rules": [{"host": "grafana.example.com"}]},
        ),
        ["no-external-exposure-in-prod"],
    ),
    (
        added("kubernetes:security.istio.io/v1:AuthorizationPolicy", "allow-everyone", "istio-system", {"rules": [{}]}),
        ["no-mesh-bypass"],
    ),
    (
        added(
            "kubernetes:networking.istio.io/v1:DestinationRule",
            "plaintext-everywhere",
            "istio-system",
            {"host": "*.local", "trafficPolicy": {"tls": {"mode": "DISABLE"}}},
        ),
        ["peer-authentication-no-plaintext"],
    ),
    (
        resource(
            "kubernetes:helm.sh/v4:Chart",
            "extra-chart",
            {
                "chart": "extra",
                "version": "1.0.0",
                "namespace": "sample",
                "repositoryOpts": {"repo": "http://user:password@charts.example.com"},
            },
        ),
        ["helm-chart-pinned", "helm-chart-pinned"],  # plain http; credentials in the URL
    ),
    (
        added_workload(
            "kube-system-shell",
            "kube-system",
            type_="kubernetes:core/v1:Pod",
            containers=[PRIVILEGED],
            volumes=[{"name": "root", "hostPath": {"path": "/"}}],
        ),
        ["nothing-in-system-namespaces", "pod-security", "pod-security", "workload-namespace-in-mesh"],
    ),
]


def test_every_insecure_object_added_to_prod_is_refused_by_the_policy_that_names_its_fault():
    additions = [addition for addition, _ in INSECURE_ADDITIONS]
    name_of_urn = {addition.urn: addition.name for addition in additions}

    reported = evaluate([*registered_resources(run_stack("prod")), *additions], stack_config=stack_config("prod"))

    assert all(finding.mandatory for finding in reported)
    assert sorted((name_of_urn.get(finding.urn, finding.urn), finding.policy) for finding in reported) == sorted(
        (addition.name, policy) for addition, policies in INSECURE_ADDITIONS for policy in policies
    )


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

    # (A Consul pod that is no longer injected no longer logs in with its token, which it still mounts:
    # service-account-token-only-where-needed says so too.)
    ((reported_on, message),) = [
        (name, message)
        for policy, name, message in findings_of(stack, resources)
        if policy == "workload-namespace-in-mesh"
    ]

    assert reported_on == "enrolled-sample-namespace"
    assert "namespace 'sample' holds workloads" in message
    assert way_in in message
