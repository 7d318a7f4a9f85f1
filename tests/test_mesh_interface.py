"""Given every stack file, whichever mesh implements it, the stack declares the same secure,
observable mesh: apps enrolled after a ready control plane, mTLS required mesh-wide, only the
declared callers authorized, the add-ons wired, readable (secret-free) chart values, and the
same outputs."""

from __future__ import annotations

import pytest
from stack_harness import footprint_parts, run_program, stack_config

from mesh.charts import HELM_INSTALL_TYPES
from mesh.implementations import IMPLEMENTATIONS
from review.program import SECRET
from settings.loader import ConfigError

IMPLEMENTATION_OF_STACK = {
    "dev": "istio-sidecar",
    "staging": "istio-sidecar",
    "prod": "istio-sidecar",
    "prod-plugin-ca": "istio-sidecar",
    "prod-east": "istio-sidecar",
    "prod-west": "istio-sidecar",
    "dev-ambient": "istio-ambient",
    "prod-ambient": "istio-ambient",
    "dev-linkerd": "linkerd",
    "prod-linkerd": "linkerd",
    "dev-consul": "consul",
    "prod-consul": "consul",
}


def helm_installs(run):
    return [resource for resource in run.resources if resource.type in HELM_INSTALL_TYPES]


def stack_name(run) -> str:
    return run.resources[0].urn.split("::")[0].removeprefix("urn:pulumi:")


def test_each_stack_names_the_mesh_that_implements_it(every_stack):
    assert every_stack.outputs["mesh"] == IMPLEMENTATION_OF_STACK[stack_name(every_stack)]


def test_every_provider_has_an_implementation_and_a_dev_and_prod_stack():
    implemented = {implementation.split("-")[0] for implementation in IMPLEMENTATION_OF_STACK.values()}

    assert implemented == set(IMPLEMENTATIONS)


def test_apps_wait_for_their_namespace_which_waits_for_the_control_plane(every_stack):
    mesh = every_stack.named(every_stack.outputs["mesh"].split("-")[0])  # the component is named after the provider
    mesh_charts = [chart for chart in helm_installs(every_stack) if chart.parent == mesh.urn]
    namespace = every_stack.named("enrolled-sample-namespace")
    deployment = every_stack.named("app-httpbin-deployment")

    assert every_stack.depends_on(deployment, namespace)
    assert any(every_stack.depends_on(namespace, chart) for chart in mesh_charts)


def test_the_app_runs_the_same_hardened_pod_whatever_the_mesh(every_stack):
    pod = every_stack.named("app-httpbin-deployment").inputs["spec"]["template"]["spec"]
    (container,) = pod["containers"]

    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert container["securityContext"]["allowPrivilegeEscalation"] is False


MESH_POLICY_GROUPS = ("security.istio.io", "policy.linkerd.io", "consul.hashicorp.com")


def test_the_app_admits_its_traffic_client_and_no_other_workload(every_stack):
    app = every_stack.named("app-httpbin")
    authorization = [
        resource.inputs
        for resource in every_stack.resources
        if resource.parent == app.urn and any(group in resource.type for group in MESH_POLICY_GROUPS)
    ]
    client = every_stack.outputs["apps"]["httpbin"]  # the app exists in every stack
    has_client = any(resource.name == "app-httpbin-client" for resource in every_stack.resources)

    assert authorization, "the app has no authorization object"
    assert client
    assert ("httpbin-client" in str(authorization)) == has_client


def test_chart_values_are_readable_in_every_review(every_stack):
    for chart in helm_installs(every_stack):
        assert chart.redacted_inputs["values"] != SECRET, f"{chart.name}: its values are secret as a whole"
        assert "PRIVATE KEY" not in str(chart.inputs["values"]), chart.name


def test_every_stack_has_a_known_footprint_in_the_same_parts(every_stack):
    assert set(footprint_parts(every_stack)) == {"controlPlane", "nodeAgents", "gateway", "addons", "apps", "total"}


@pytest.mark.parametrize(("stack", "provider"), [("dev-linkerd", "linkerd"), ("dev-consul", "consul")])
def test_istio_only_keys_are_refused_for_other_meshes(stack, provider):
    run = run_program(
        stack_config(
            stack, {"servicemesh:mesh.istio.istiod": {"replicas": 2}, "servicemesh:mesh.istio.dataplane": "ambient"}
        )
    )

    assert isinstance(run.error, ConfigError)
    assert run.resources == []
    (problem,) = run.error.problems
    assert str(problem) == (
        'servicemesh:mesh.istio = {"dataplane": "ambient", "istiod": {"replicas": 2}}: applies to mesh.provider '
        f"istio only; this stack's mesh.provider is {provider}: remove the key"
    )


def test_a_section_for_another_mesh_is_refused():
    run = run_program(stack_config("dev", {"servicemesh:mesh.linkerd": {"namespace": "linkerd"}}))

    assert isinstance(run.error, ConfigError)
    (problem,) = run.error.problems
    assert str(problem) == (
        'servicemesh:mesh.linkerd = {"namespace": "linkerd"}: applies to mesh.provider linkerd only; this stack\'s '
        "mesh.provider is istio: remove the key"
    )


def test_an_unknown_provider_names_the_allowed_ones():
    run = run_program(stack_config("dev", {"servicemesh:mesh.provider": "cilium"}))

    assert isinstance(run.error, ConfigError)
    assert "servicemesh:mesh.provider" in str(run.error)
    assert "'istio', 'linkerd' or 'consul'" in str(run.error)
