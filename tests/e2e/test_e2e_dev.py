"""The dev stack on the real engine: up on an empty cluster, no perpetual diff, a config change
previews as exactly that change, and destroy leaves nothing behind."""

from __future__ import annotations

import json

import pytest
from harness import e2e_stack_config, kubectl_json, received_values
from stack_harness import run_stack

pytestmark = pytest.mark.e2e

OVERRIDES_NONE: dict = {}
KUBE_SYSTEM_NAMESPACES = {"default", "kube-node-lease", "kube-public", "kube-system"}


@pytest.fixture(scope="module")
def dev(new_stack):
    stack = new_stack("dev-e2e", "dev")
    stack.up()
    return stack


def labels(cluster, namespace):
    return kubectl_json(cluster, "namespace", namespace)["metadata"]["labels"]


def test_up_creates_the_mesh_with_its_labels_policies_and_apps(dev, cluster):
    assert labels(cluster, "sample")["istio.io/rev"] == "stable"
    assert "istio-injection" not in labels(cluster, "sample")
    assert labels(cluster, "sandbox")["istio.io/rev"] == "stable"
    peer_authentication = kubectl_json(cluster, "peerauthentication", "default", "-n", "istio-system")
    assert peer_authentication["spec"] == {"mtls": {"mode": "STRICT"}}
    telemetry = kubectl_json(cluster, "telemetry", "mesh-default", "-n", "istio-system")
    assert telemetry["spec"]["tracing"][0]["randomSamplingPercentage"] == 100
    deployment = kubectl_json(cluster, "deployment", "httpbin", "-n", "sample")
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "docker.io/mccutchen/go-httpbin:v2.18.3"
    assert kubectl_json(cluster, "authorizationpolicy", "httpbin", "-n", "sample")["spec"]["action"] == "ALLOW"
    assert kubectl_json(cluster, "virtualservice", "httpbin", "-n", "sample")["spec"]["hosts"] == [
        "httpbin.example.local"
    ]


@pytest.mark.parametrize(
    ("namespace", "release", "chart_resource"),
    [
        ("istio-system", "istio-base", "istio-base"),
        ("istio-system", "istiod-1-30-3", "istio-istiod-1-30-3"),
        ("istio-ingress", "istio-ingressgateway", "istio-gateway"),
        ("istio-system", "prometheus", "observability-prometheus-chart"),
        ("istio-system", "grafana", "observability-grafana-chart"),
        ("istio-system", "kiali", "observability-kiali-chart"),
        ("istio-system", "jaeger", "observability-jaeger-chart"),
    ],
)
def test_each_chart_receives_the_programs_values_intact(dev, cluster, namespace, release, chart_resource):
    under_mocks = run_stack("dev", dev_overrides(dev)).named(chart_resource).inputs["values"]

    assert received_values(cluster, namespace, release) == json.loads(json.dumps(as_json(under_mocks)))


def dev_overrides(stack) -> dict:
    """The e2e stack's config, as overrides of the real dev stack file, for running it under mocks."""
    config = e2e_stack_config("dev", stack.chart_directory)
    return {key: value for key, value in config.items() if key.startswith("servicemesh:")}


def as_json(value):
    """Mocked inputs carry numbers as floats; Helm's JSON has whole numbers as integers."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: as_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_json(item) for item in value]
    return value


def test_a_second_preview_and_up_change_nothing(dev):
    dev.pulumi("preview", "--expect-no-changes")
    result = dev.up()

    assert "unchanged" in result.stdout
    assert " created" not in result.stdout
    assert " updated" not in result.stdout


def test_a_config_change_previews_as_exactly_that_change(dev):
    dev.configure({"servicemesh:observability.tracing.samplingPercentage": 50})
    try:
        steps = dev.preview_steps("--diff")
    finally:
        dev.configure(OVERRIDES_NONE)

    assert [(step["op"], step["urn"].rsplit("::", 1)[1]) for step in steps] == [
        ("update", "observability-mesh-telemetry")
    ]
    (update,) = steps
    old, new = update["oldState"]["inputs"], update["newState"]["inputs"]
    assert {key for key in {*old, *new} if old.get(key) != new.get(key)} == {"spec"}
    assert old["spec"]["tracing"][0]["randomSamplingPercentage"] == 100
    assert new["spec"]["tracing"][0]["randomSamplingPercentage"] == 50
    assert {**old["spec"], "tracing": None} == {**new["spec"], "tracing": None}


def test_destroy_removes_everything_but_the_crds_istio_keeps(dev, cluster):
    dev.pulumi("destroy", "--yes", "--skip-preview")

    assert remaining_namespaces(cluster) == KUBE_SYSTEM_NAMESPACES
    remaining_crds = kubectl_json(cluster, "crd")["items"]
    # Istio's chart marks every CRD `helm.sh/resource-policy: keep`; Pulumi honours it as Helm does.
    assert remaining_crds
    assert all(crd["spec"]["group"].endswith("istio.io") for crd in remaining_crds)
    assert all(crd["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep" for crd in remaining_crds)


def remaining_namespaces(cluster) -> set[str]:
    """Namespaces that exist and are not being deleted (the API server empties those on its own)."""
    return {
        item["metadata"]["name"]
        for item in kubectl_json(cluster, "namespaces")["items"]
        if item["status"].get("phase") != "Terminating"
    }
