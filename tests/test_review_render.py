"""Given a stack run, its render lists every resource as a reviewer needs to read it."""

from __future__ import annotations

import yaml
from stack_harness import PROJECT_ROOT, STACKS, run_program, run_stack

from review.render import render_document, render_text


def entry(document, name):
    (match,) = [resource for resource in document["resources"] if resource["name"] == name]
    return match


def test_the_render_lists_every_registered_resource_once_sorted_by_urn(any_stack):
    document = render_document(any_stack, "dev")
    urns = [resource["urn"] for resource in document["resources"]]

    assert urns == sorted({resource.urn for resource in any_stack.resources})


def test_each_resource_shows_type_name_parent_dependencies_options_and_inputs(prod):
    mtls = entry(render_document(prod, "prod"), "istio-mesh-mtls")

    assert list(mtls) == ["urn", "type", "name", "parent", "dependencies", "options", "inputs"]
    prefix = "urn:pulumi:prod::servicemesh::"
    assert (
        mtls["urn"]
        == f"{prefix}servicemesh:mesh:IstioMesh$kubernetes:security.istio.io/v1:PeerAuthentication::istio-mesh-mtls"
    )
    assert mtls["parent"] == f"{prefix}pulumi:pulumi:Stack$servicemesh:mesh:IstioMesh::istio"
    assert mtls["dependencies"] == sorted(mtls["dependencies"])
    assert mtls["inputs"]["spec"] == {"mtls": {"mode": "STRICT"}}


def test_options_show_protection_and_transforms_by_function_name(prod):
    base = entry(render_document(prod, "prod"), "istio-base")

    assert base["options"] == {
        "protect": True,
        "retainOnDelete": False,
        "ignoreChanges": [],
        "transforms": ["mesh.charts.ignore_webhook_ca_bundle_changes", "mesh.charts.keep_crds_on_delete"],
    }


def test_helm_installs_carry_their_chart_version_and_values_in_full(any_stack):
    document = render_document(any_stack, "dev")

    for chart in any_stack.of_type("kubernetes:helm.sh/v4:Chart"):
        inputs = entry(document, chart.name)["inputs"]
        assert inputs["chart"] == chart.inputs["chart"]
        assert inputs["version"] == chart.inputs["version"]
        assert yaml.safe_load(yaml.safe_dump(inputs["values"])) == chart.inputs["values"]


def test_whole_numbers_read_as_integers_not_wire_floats(dev):
    values = entry(render_document(dev, "dev"), "istio-istiod-1-30-3")["inputs"]["values"]

    assert values["replicaCount"] == 1
    assert isinstance(values["replicaCount"], int)


def test_the_render_is_the_same_on_every_run():
    assert render_text(run_stack("dev"), "dev") == render_text(run_stack("dev"), "dev")


def test_nothing_in_the_render_depends_on_the_machine():
    for stack in STACKS:
        text = render_text(run_stack(stack), stack)
        assert str(PROJECT_ROOT) not in text
        assert "-id" not in text, "mock resource ids must not leak into the render"


SECRET_PROGRAM = """
import pulumi
import pulumi_kubernetes as k8s

password = pulumi.Output.secret("hunter2")
k8s.core.v1.Secret("credentials", metadata={"name": "credentials"}, string_data={"password": password})
pulumi.export("password", password)
pulumi.export("user", "admin")
"""


def test_secret_inputs_and_outputs_are_redacted(tmp_path):
    program = tmp_path / "__main__.py"
    program.write_text(SECRET_PROGRAM)
    run = run_program({}, stack="dev", program=program)

    text = render_text(run, "dev")
    document = render_document(run, "dev")

    assert "hunter2" not in text
    assert entry(document, "credentials")["inputs"]["stringData"] == "[secret]"
    assert document["outputs"] == {"password": "[secret]", "user": "admin"}
    assert run.named("credentials").inputs["stringData"] == {"password": "hunter2"}, "tests still see the value"
