"""Each kind of stack on the real engine with the published charts, each on a cluster of its own:
`pulumi up` on an empty cluster (so the API server accepted every object the real charts render
from the stack's values), the key objects are there with the values that matter, a preview right
after changes nothing and passes the policy pack (which sees every object the charts render), and
destroy leaves only the CRDs kept on purpose. One up and one preview per stack serve every check.

dev-consul installs Consul as a Helm release, whose hooks are Jobs that Helm waits for and that
never run on a node-less API server. Under `cluster.apiServerOnly` (and only there) the release
neither waits nor runs its install and upgrade hooks (see `target_cluster`), so its up is checked
without the objects those hooks create (the TLS CA, the gossip key). Its destroy is not run: an
uninstall runs the chart's pre-delete hook Jobs (gateway and TLS clean-up), the kubernetes provider
has no switch to skip them, and Helm waits for them without a deadline. Its cluster goes instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from engine.cluster import Cluster
from harness import (
    Preview,
    PublishedCharts,
    Stack,
    e2e_cluster,
    init_stack,
    kubectl_json,
    make_workspace,
    surviving,
)

from mesh.istio.artifacts import GATEWAY_API_VERSION, ISTIO_IMAGE_HUB, ISTIO_VERSION
from observability.endpoints import GRAFANA_SERVICE, JAEGER_SERVICE, KIALI_SERVICE, PROMETHEUS_SERVICE
from policy.pack import PACK_NAME

pytestmark = pytest.mark.e2e

# Istio's base chart marks every CRD `helm.sh/resource-policy: keep`, which Pulumi honours as Helm
# does; prod also protects them and retains them on delete (`mesh.protectCrds`).
KEEP_ANNOTATION = "helm.sh/resource-policy"
# Istio's `ambient` profile, which ambient stacks select, runs the distroless images.
AMBIENT_VARIANT = "distroless"
ISTIO_CRD_GROUPS = frozenset({"extensions.istio.io", "networking.istio.io", "security.istio.io", "telemetry.istio.io"})


@dataclass(frozen=True)
class Expected:
    """An object the stack creates, and one of its fields with the value it must hold."""

    resource: str
    namespace: str
    name: str
    field: tuple[str | int, ...]
    value: Any

    @property
    def id(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.resource} {where} {'.'.join(map(str, self.field))}"


def container_image(resource: str, namespace: str, name: str, image: str) -> Expected:
    return Expected(resource, namespace, name, ("spec", "template", "spec", "containers", 0, "image"), image)


def exists(resource: str, namespace: str, name: str) -> Expected:
    return Expected(resource, namespace, name, ("metadata", "name"), name)


def istio_image(name: str, *, variant: str | None = None) -> str:
    return f"{ISTIO_IMAGE_HUB}/{name}:{ISTIO_VERSION}" + (f"-{variant}" if variant else "")


def revision_tag_target(tag: str, revision: str) -> Expected:
    """The revision tag's injection webhook sends pods to that revision's istiod."""
    field = ("webhooks", 0, "clientConfig", "service", "name")
    return Expected("mutatingwebhookconfiguration", "", f"istio-revision-tag-{tag}", field, f"istiod-{revision}")


def namespace_label(namespace: str, label: str, value: str) -> Expected:
    return Expected("namespace", "", namespace, ("metadata", "labels", label), value)


ADDONS_IN_ISTIO_SYSTEM = [
    exists("deployment", "istio-system", name)
    for name in (PROMETHEUS_SERVICE, GRAFANA_SERVICE, KIALI_SERVICE, JAEGER_SERVICE)
]
KEY_OBJECTS: dict[str, Sequence[Expected]] = {
    "dev": [
        container_image("deployment", "istio-system", "istiod-1-30-3", istio_image("pilot")),
        revision_tag_target("stable", "1-30-3"),
        exists("deployment", "istio-ingress", "istio-ingressgateway"),
        namespace_label("sample", "istio.io/rev", "stable"),
        namespace_label("sandbox", "istio.io/rev", "stable"),
        Expected("peerauthentication", "istio-system", "default", ("spec", "mtls", "mode"), "STRICT"),
        Expected("telemetry", "istio-system", "mesh-default", ("spec", "tracing", 0, "randomSamplingPercentage"), 100),
        container_image("deployment", "sample", "httpbin", "docker.io/mccutchen/go-httpbin:v2.18.3"),
        Expected("authorizationpolicy", "sample", "httpbin", ("spec", "action"), "ALLOW"),
        Expected("virtualservice", "sample", "httpbin", ("spec", "hosts", 0), "httpbin.example.local"),
        *ADDONS_IN_ISTIO_SYSTEM,
    ],
    "prod": [
        container_image("deployment", "istio-system", "istiod-1-30-3", istio_image("pilot")),
        Expected("horizontalpodautoscaler", "istio-system", "istiod-1-30-3", ("spec", "minReplicas"), 2),
        exists("poddisruptionbudget", "istio-system", "istiod-1-30-3"),
        Expected("service", "istio-ingress", "istio-ingressgateway", ("spec", "type"), "LoadBalancer"),
        Expected("peerauthentication", "istio-system", "default", ("spec", "mtls", "mode"), "STRICT"),
        *ADDONS_IN_ISTIO_SYSTEM,
    ],
    "dev-ambient": [
        container_image("deployment", "istio-system", "istiod", istio_image("pilot", variant=AMBIENT_VARIANT)),
        container_image("daemonset", "istio-system", "ztunnel", istio_image("ztunnel", variant=AMBIENT_VARIANT)),
        container_image(
            "daemonset", "istio-system", "istio-cni-node", istio_image("install-cni", variant=AMBIENT_VARIANT)
        ),
        Expected(
            "customresourcedefinition",
            "",
            "gateways.gateway.networking.k8s.io",
            ("metadata", "annotations", "gateway.networking.k8s.io/bundle-version"),
            f"v{GATEWAY_API_VERSION}",
        ),
        namespace_label("sample", "istio.io/dataplane-mode", "ambient"),
        Expected(
            "gateway.gateway.networking.k8s.io", "sample", "waypoint", ("spec", "gatewayClassName"), "istio-waypoint"
        ),
        *ADDONS_IN_ISTIO_SYSTEM,
    ],
    "dev-linkerd": [
        exists("deployment", "linkerd", "linkerd-destination"),
        exists("deployment", "linkerd", "linkerd-identity"),
        exists("deployment", "linkerd", "linkerd-proxy-injector"),
        Expected("secret", "linkerd", "linkerd-identity-issuer", ("type",), "kubernetes.io/tls"),
        exists("deployment", "linkerd-viz", "web"),
        exists("deployment", "observability", PROMETHEUS_SERVICE),
    ],
    "dev-consul": [
        exists("statefulset", "consul", "consul-server"),
        exists("deployment", "consul", "consul-connect-injector"),
        exists("secret", "consul", "sh.helm.release.v1.consul.v1"),
        Expected("mesh.consul.hashicorp.com", "consul", "mesh", ("kind",), "Mesh"),
        exists("deployment", "observability", PROMETHEUS_SERVICE),
    ],
}
STACKS = list(KEY_OBJECTS)
# What each stack's destroy leaves behind: the API groups of the CRDs its charts keep.
KEPT_CRD_GROUPS = {
    "dev": ISTIO_CRD_GROUPS,
    "prod": ISTIO_CRD_GROUPS,
    "dev-ambient": ISTIO_CRD_GROUPS,
    "dev-linkerd": frozenset(),
}
PROTECTED_STACKS = ["prod"]


@dataclass(frozen=True)
class Deployed:
    stack: Stack
    cluster: Cluster


@pytest.fixture(scope="module")
def deployed(
    request: pytest.FixtureRequest,
    engine_bin: Path,
    published_charts: PublishedCharts,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Deployed]:
    """`pulumi up` of the stack file `request.param` on an empty cluster of its own."""
    base_stack = request.param
    root = tmp_path_factory.mktemp(base_stack)
    with e2e_cluster(engine_bin, root / "cluster") as cluster:
        workspace = make_workspace(root / "workspace", engine_bin=engine_bin, cluster=cluster)
        stack = init_stack(workspace, f"{base_stack}-e2e", base_stack, published_charts)
        stack.up()
        yield Deployed(stack, cluster)


def field_of(manifest: Any, path: Sequence[str | int]) -> Any:
    for part in path:
        manifest = manifest[part]
    return manifest


@pytest.mark.parametrize("deployed", STACKS, indirect=True)
def test_up_creates_the_key_objects(deployed):
    expected = KEY_OBJECTS[deployed.stack.base_stack]

    found = {object_.id: found_value(deployed.cluster, object_) for object_ in expected}

    assert found == {object_.id: object_.value for object_ in expected}


def found_value(cluster: Cluster, expected: Expected) -> Any:
    """The value of `expected`'s field in the cluster, or why there is none."""
    namespace = ["-n", expected.namespace] if expected.namespace else []
    result = cluster.kubectl("get", expected.resource, expected.name, *namespace, "-o", "json", check=False)
    if result.returncode != 0:
        return f"not found: {result.stderr.strip()}"
    try:
        return field_of(json.loads(result.stdout), expected.field)
    except (KeyError, IndexError) as missing:
        return f"no field {missing}"


@pytest.fixture(scope="module")
def preview_after_up(deployed: Deployed) -> Preview:
    """`pulumi preview` right after the up, expecting no changes and running the policy pack."""
    return deployed.stack.preview("--expect-no-changes", "--policy-pack", "policy")


@pytest.mark.parametrize("deployed", STACKS, indirect=True)
def test_a_preview_right_after_up_changes_nothing(preview_after_up):
    # A mandatory policy violation ends the preview before `--expect-no-changes` judges it, so the
    # resources it would change are also read from what it printed.
    assert preview_after_up.changes == []
    assert not preview_after_up.proposes_changes


@pytest.mark.parametrize("deployed", STACKS, indirect=True)
def test_every_object_passes_the_policy_pack(preview_after_up):
    verdict, *violations = preview_after_up.policies or ["the pack did not run"]

    assert PACK_NAME in verdict
    assert not verdict.startswith("❌"), "\n".join(violations)


@pytest.mark.parametrize("deployed", ["dev"], indirect=True)
def test_a_permissive_mesh_is_refused_by_the_pack(deployed):
    # Config validation allows PERMISSIVE outside prod (for migrations); the pack does not,
    # unless the namespace is on its allowlist.
    stack = deployed.stack
    stack.configure({"servicemesh:mesh.mtlsMode": "PERMISSIVE"})
    try:
        preview = stack.preview("--policy-pack", "policy")
    finally:
        stack.configure()

    assert preview.returncode != 0
    assert preview.policies[0].startswith(f"❌ {PACK_NAME}")
    assert any("peer-authentication-no-plaintext" in line for line in preview.policies)


@pytest.mark.parametrize("deployed", ["dev"], indirect=True)
def test_a_config_change_previews_as_exactly_that_change(deployed):
    stack = deployed.stack
    stack.configure({"servicemesh:observability.tracing.samplingPercentage": 50})
    try:
        steps = stack.preview_steps("--diff")
    finally:
        stack.configure()

    assert [(step["op"], step["urn"].rsplit("::", 1)[1]) for step in steps] == [
        ("update", "observability-mesh-telemetry")
    ]
    (update,) = steps
    old, new = update["oldState"]["inputs"], update["newState"]["inputs"]
    assert {key for key in {*old, *new} if old.get(key) != new.get(key)} == {"spec"}
    assert old["spec"]["tracing"][0]["randomSamplingPercentage"] == 100
    assert new["spec"]["tracing"][0]["randomSamplingPercentage"] == 50
    assert {**old["spec"], "tracing": None} == {**new["spec"], "tracing": None}


@pytest.mark.parametrize("deployed", PROTECTED_STACKS, indirect=True)
def test_a_destroy_refuses_while_the_crds_are_protected(deployed):
    result = deployed.stack.pulumi("destroy", "--yes", "--skip-preview", check=False)

    assert result.returncode != 0
    assert "protected" in result.stdout + result.stderr
    assert kubectl_json(deployed.cluster, "customresourcedefinition", "peerauthentications.security.istio.io")


@pytest.mark.parametrize("deployed", list(KEPT_CRD_GROUPS), indirect=True)
def test_destroy_leaves_only_the_crds_its_charts_keep(deployed):
    objects = deployed.stack.kubernetes_objects()
    # As an operator tears a protected stack down: lift the protection, then destroy.
    deployed.stack.pulumi("state", "unprotect", "--all", "--yes")
    deployed.stack.pulumi("destroy", "--yes", "--skip-preview")

    left = surviving(deployed.cluster, objects)
    assert [key for key, item in left.items() if not kept_on_purpose(item)] == []
    assert {crd["spec"]["group"] for crd in left.values()} == KEPT_CRD_GROUPS[deployed.stack.base_stack]


def kept_on_purpose(item: dict[str, Any]) -> bool:
    annotations = item["metadata"].get("annotations") or {}
    return item["kind"] == "CustomResourceDefinition" and annotations.get(KEEP_ANNOTATION) == "keep"
