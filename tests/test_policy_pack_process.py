"""The pack started the way `pulumi preview --policy-pack policy` starts it, and asked over gRPC.

Pulumi runs `python -m pulumi.policy <engine> .` in the pack's directory with the stack's config
in `PULUMI_CONFIG`, then calls the analyzer: these tests do the same, so they cover what the unit
tests cannot (the entry point and its imports, config schemas as the CLI receives them, props as
protobuf values) without the Pulumi CLI.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from e2e.harness import PROJECT_CONTENT
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from stack_harness import PROJECT_ROOT, run_stack, stack_config

from policy.pack import PACK_NAME

POLICY_DIRECTORY = PROJECT_ROOT / "policy"


@contextlib.contextmanager
def started_pack(directory: Path) -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    """The pack in `directory`, started as `pulumi preview` starts it, for the prod stack."""
    environment = {
        **os.environ,
        "PULUMI_CONFIG": json.dumps(stack_config("prod")),
        "PULUMI_PROJECT": "servicemesh",
        "PULUMI_STACK": "prod",
        "PULUMI_DRY_RUN": "true",
    }
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:0", "."],
        cwd=directory,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        port = process.stdout.readline().strip()
        assert port.isdigit(), f"the pack did not start: {process.stderr.read() if process.poll() is not None else ''}"
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def analyzer():
    with started_pack(POLICY_DIRECTORY) as stub:
        yield stub


def test_the_pack_starts_beside_nothing_but_what_the_program_needs_at_run_time(tmp_path):
    # A deployment (and the end-to-end suite) copies the program without its tooling (`review`, the tests).
    for item in PROJECT_CONTENT:
        source = PROJECT_ROOT / item
        if source.is_dir():
            shutil.copytree(source, tmp_path / item, ignore=shutil.ignore_patterns("__pycache__", "venv"))
        else:
            shutil.copy2(source, tmp_path / item)

    with started_pack(tmp_path / "policy") as copied:
        assert copied.GetAnalyzerInfo(empty_pb2.Empty()).name == PACK_NAME


def analyzer_resource(resource_type, name, props):
    """A resource as the engine sends it to an analyzer: props as a protobuf Struct (numbers become floats)."""
    properties = struct_pb2.Struct()
    json_format.ParseDict(props, properties)
    urn = f"urn:pulumi:prod::servicemesh::{resource_type}::{name}"
    return analyzer_pb2.AnalyzerResource(type=resource_type, name=name, urn=urn, properties=properties)


def analyze_request(resource_type, name, props):
    resource = analyzer_resource(resource_type, name, props)
    return analyzer_pb2.AnalyzeRequest(
        type=resource.type, name=resource.name, urn=resource.urn, properties=resource.properties
    )


def reported(response):
    return sorted((diagnostic.policyName, diagnostic.enforcementLevel) for diagnostic in response.diagnostics)


def test_the_pack_announces_its_policies_with_their_config_schemas(analyzer):
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())

    assert info.name == PACK_NAME
    assert len(info.policies) == 14
    schemas = {policy.name: json_format.MessageToDict(policy.configSchema.properties) for policy in info.policies}
    # kube-system is exempt no more: nothing of the stack may be there.
    assert schemas["workload-namespace-in-mesh"]["exemptNamespaces"]["default"] == [
        "istio-system",
        "istio-ingress",
        "linkerd",
        "linkerd-viz",
        "consul",
        "observability",
    ]
    assert schemas["no-external-exposure-in-prod"]["prodEnvironments"]["default"] == ["prod"]
    assert schemas["no-mesh-bypass"]["rootNamespace"]["default"] == "istio-system"


def test_a_resource_is_judged_by_every_resource_policy(analyzer):
    deployment = run_stack("prod").named("app-httpbin-deployment").inputs
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    container["image"] = "docker.io/mccutchen/go-httpbin:latest"

    response = analyzer.Analyze(analyze_request("kubernetes:apps/v1:Deployment", "app", deployment))

    assert reported(response) == [("container-image-pinned", analyzer_pb2.MANDATORY)]


def test_the_stack_environment_reaches_the_pack_through_the_stack_config(analyzer):
    deployment = run_stack("prod").named("app-httpbin-deployment").inputs
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    container["image"] = "docker.io/mccutchen/go-httpbin:v2"  # a floating major version, refused in prod only

    response = analyzer.Analyze(analyze_request("kubernetes:apps/v1:Deployment", "app", deployment))

    assert reported(response) == [("container-image-pinned", analyzer_pb2.MANDATORY)]


def test_a_stack_policy_judges_exposure_in_prod_over_grpc(analyzer):
    kiali = {
        "kind": "Service",
        "metadata": {"name": "kiali", "namespace": "istio-system"},
        "spec": {"type": "NodePort"},
    }
    resources = [
        analyzer_resource(resource.type, resource.name, resource.inputs) for resource in run_stack("prod").resources
    ]
    resources.append(analyzer_resource("kubernetes:core/v1:Service", "kiali", kiali))

    response = analyzer.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=resources))

    assert reported(response) == [("no-external-exposure-in-prod", analyzer_pb2.MANDATORY)]


def test_the_stack_policies_judge_the_real_prod_stack_and_a_broken_copy(analyzer):
    resources = run_stack("prod").resources
    compliant = [analyzer_resource(resource.type, resource.name, resource.inputs) for resource in resources]
    broken = []
    for resource in resources:
        if resource.name == "app-httpbin-pdb":
            continue
        if resource.name == "istio-mesh-mtls":
            resource.inputs["spec"]["mtls"]["mode"] = "PERMISSIVE"
        broken.append(analyzer_resource(resource.type, resource.name, resource.inputs))

    assert reported(analyzer.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=compliant))) == []
    assert reported(analyzer.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=broken))) == [
        ("mesh-mtls-strict", analyzer_pb2.MANDATORY),
        ("replicated-workload-has-disruption-budget", analyzer_pb2.ADVISORY),
    ]


# PERMISSIVE weakens Linkerd's control-plane values, and Consul's Mesh entry and ProxyDefaults.
@pytest.mark.parametrize(("stack", "violations"), [("dev-linkerd", 1), ("dev-consul", 2)])
def test_the_mtls_policy_judges_each_mesh_in_its_own_terms_over_grpc(analyzer, stack, violations):
    strict = run_stack(stack).resources
    permissive = run_stack(stack, {"servicemesh:mesh.mtlsMode": "PERMISSIVE"}).resources

    def analyze_stack(resources):
        request = analyzer_pb2.AnalyzeStackRequest(
            resources=[analyzer_resource(resource.type, resource.name, resource.inputs) for resource in resources]
        )
        return reported(analyzer.AnalyzeStack(request))

    assert analyze_stack(strict) == []
    assert analyze_stack(permissive) == [("mesh-mtls-strict", analyzer_pb2.MANDATORY)] * violations
