"""One Istio mesh across two clusters on the real engine: the trust project's `prod` stack (the
shared root), two local API servers (east and west) with the `prod-east` and `prod-west` stack files
each on its own, then the link project (`multicluster/`) over both. Each cluster's `cacerts` must
chain to the shared root (`openssl verify`); each cluster's remote secret must hold a kubeconfig that
works against the OTHER API server with only the rights istiod needs; a preview right after changes
nothing on any stack; and destroying in reverse order (link, west, east, trust) leaves only the CRDs
Istio's chart keeps on purpose.

The stacks are kept lean (no apps, no add-ons): what is checked is the mesh's multi-cluster part.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from engine.cluster import Cluster
from harness import PublishedCharts, Stack, e2e_cluster, init_stack, kubectl_json, make_workspace, surviving

from mesh.certificates import ROOT_CERTIFICATE_OUTPUT, ROOT_EXPIRY_OUTPUT

pytestmark = pytest.mark.e2e

SIDES = ("east", "west")
ADDONS = ("prometheus", "grafana", "kiali", "jaeger")
LEAN = {"servicemesh:apps": [], **{f"servicemesh:observability.{addon}.enabled": False for addon in ADDONS}}
KEEP_ANNOTATION = "helm.sh/resource-policy"
# What istiod of the other cluster must be able to do here, and what it must not.
ALLOWED = [("list", "pods"), ("watch", "services"), ("list", "endpointslices.discovery.k8s.io"), ("get", "nodes")]
REFUSED = [
    ("get", "secrets"),
    ("list", "configmaps"),
    ("create", "pods"),
    ("delete", "services"),
    ("create", "secrets"),
    ("patch", "deployments.apps"),
    ("create", "serviceexports.multicluster.x-k8s.io"),
    ("create", "tokenreviews.authentication.k8s.io"),
]


@dataclass(frozen=True)
class Side:
    name: str
    cluster: Cluster
    stack: Stack


@dataclass(frozen=True)
class Mesh:
    trust: Stack
    sides: dict[str, Side]
    link: Stack


def other(side: str) -> str:
    return SIDES[1 - SIDES.index(side)]


@pytest.fixture(scope="module")
def mesh(
    engine_bin: Path, published_charts: PublishedCharts, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Mesh]:
    """The trust stack up, then east and west (at once: they do not depend on each other), then the link."""
    root = tmp_path_factory.mktemp("multicluster")
    with ExitStack() as running:
        clusters = {side: running.enter_context(e2e_cluster(engine_bin, root / side)) for side in SIDES}
        # One project copy and one backend for the three stacks, so the link's StackReferences find them.
        workspace = make_workspace(root / "workspace", engine_bin=engine_bin, cluster=clusters["east"])
        # The trust project's own prod stack file: the root both stack files name.
        trust = Stack("prod", workspace["project"] / "trust", workspace["env"], published_charts, "prod")
        trust.pulumi("stack", "init", "prod")
        trust.up()
        stacks = {
            side: init_stack(
                workspace,
                f"prod-{side}",
                f"prod-{side}",
                published_charts,
                {
                    **LEAN,
                    "kubernetes:kubeconfig": str(cluster.kubeconfig),
                    "servicemesh:mesh.istio.multiCluster.apiServer": cluster.server,
                },
            )
            for side, cluster in clusters.items()
        }
        with ThreadPoolExecutor(len(SIDES)) as pool:
            list(pool.map(lambda stack: stack.up(), stacks.values()))
        link = Stack("link", workspace["project"] / "multicluster", workspace["env"], published_charts, "link")
        link.pulumi("stack", "init", "link")
        clusters_config = [
            {"stack": f"organization/servicemesh/{stacks[side].name}", "kubeconfig": str(clusters[side].kubeconfig)}
            for side in SIDES
        ]
        (link.project / "Pulumi.link.yaml").write_text(
            yaml.safe_dump({"config": {"servicemesh-multicluster:clusters": clusters_config}})
        )
        link.up()
        yield Mesh(trust, {side: Side(side, clusters[side], stacks[side]) for side in SIDES}, link)


def remote_kubeconfig(mesh: Mesh, side: str, tmp_path: Path) -> Path:
    """The kubeconfig in `side`'s remote secret for the other cluster, written to a file."""
    name = other(side)
    secret = kubectl_json(mesh.sides[side].cluster, "secret", f"istio-remote-secret-{name}", "-n", "istio-system")
    path = tmp_path / f"{name}-seen-from-{side}.yaml"
    path.write_bytes(base64.b64decode(secret["data"][name]))
    return path


def can_i(cluster: Cluster, kubeconfig: Path, verb: str, resource: str) -> str:
    result = subprocess.run(
        [str(cluster.bin_dir / "kubectl"), "--kubeconfig", str(kubeconfig), "auth", "can-i", verb, resource, "-A"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.stdout.strip() or result.stderr.strip()


def cacerts_of(cluster: Cluster) -> dict[str, str]:
    """The data of Istio's `cacerts` Secret in `cluster`, base64-encoded."""
    return kubectl_json(cluster, "secret", "cacerts", "-n", "istio-system")["data"]


@pytest.mark.parametrize("side", SIDES)
def test_each_clusters_intermediate_chains_to_the_one_shared_root(mesh, side, tmp_path):
    files = {}
    for name, encoded in cacerts_of(mesh.sides[side].cluster).items():
        files[name] = tmp_path / name
        files[name].write_bytes(base64.b64decode(encoded))
    root = tmp_path / "shared-root.pem"
    root.write_text(mesh.trust.outputs()[ROOT_CERTIFICATE_OUTPUT])
    verified = subprocess.run(
        [shutil.which("openssl") or "openssl", "verify", "-CAfile", str(root), str(files["ca-cert.pem"])],
        capture_output=True,
        text=True,
    )

    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert files["root-cert.pem"].read_text() == root.read_text()


def test_the_clusters_issue_from_one_root_with_intermediates_of_their_own(mesh):
    cacerts = {side: cacerts_of(mesh.sides[side].cluster) for side in SIDES}

    assert cacerts["east"]["root-cert.pem"] == cacerts["west"]["root-cert.pem"]
    assert cacerts["east"]["ca-cert.pem"] != cacerts["west"]["ca-cert.pem"]


@pytest.mark.parametrize("side", SIDES)
def test_each_cluster_reports_when_its_intermediate_and_the_shared_root_expire(mesh, side):
    expiry = mesh.sides[side].stack.outputs()["istioCertificateExpiry"]

    assert expiry["root"] == mesh.trust.outputs()[ROOT_EXPIRY_OUTPUT]
    assert expiry["intermediate"] < expiry["root"]


@pytest.mark.parametrize("side", SIDES)
def test_each_cluster_holds_the_others_remote_secret_as_istiod_finds_it(mesh, side):
    name = other(side)
    secret = kubectl_json(mesh.sides[side].cluster, "secret", f"istio-remote-secret-{name}", "-n", "istio-system")

    assert secret["metadata"]["labels"]["istio/multiCluster"] == "true"
    assert secret["metadata"]["annotations"]["networking.istio.io/cluster"] == name
    assert list(secret["data"]) == [name]


@pytest.mark.parametrize("side", SIDES)
def test_each_remote_kubeconfig_reads_the_other_api_server_and_nothing_more(mesh, side, tmp_path):
    kubeconfig = remote_kubeconfig(mesh, side, tmp_path)
    target = mesh.sides[other(side)].cluster

    assert yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"] == target.server
    assert {check: can_i(target, kubeconfig, *check) for check in ALLOWED} == dict.fromkeys(ALLOWED, "yes")
    assert {check: can_i(target, kubeconfig, *check) for check in REFUSED} == dict.fromkeys(REFUSED, "no")


@pytest.mark.parametrize("side", SIDES)
def test_each_cluster_names_its_network_on_the_istio_namespace_and_east_west_gateway(mesh, side):
    cluster = mesh.sides[side].cluster
    namespace = kubectl_json(cluster, "namespace", "istio-system")
    service = kubectl_json(cluster, "service", "istio-eastwestgateway", "-n", "istio-system")
    gateway = kubectl_json(cluster, "gateways.networking.istio.io", "cross-network-gateway", "-n", "istio-system")

    assert namespace["metadata"]["labels"]["topology.istio.io/network"] == f"network-{side}"
    assert service["metadata"]["labels"]["topology.istio.io/network"] == f"network-{side}"
    assert [port["port"] for port in service["spec"]["ports"]] == [15021, 15443]
    assert gateway["spec"]["servers"][0]["tls"] == {"mode": "AUTO_PASSTHROUGH"}


def test_a_preview_right_after_changes_nothing_on_any_stack(mesh):
    stacks = [mesh.trust, *(side.stack for side in mesh.sides.values()), mesh.link]
    with ThreadPoolExecutor(len(stacks)) as pool:
        planned = dict(zip([stack.name for stack in stacks], pool.map(changes, stacks), strict=True))

    assert planned == {stack.name: [] for stack in stacks}


def changes(stack: Stack) -> list[str]:
    """What a preview would change; a StackReference is read again by every preview, which changes nothing."""
    return [
        f"{step['op']} {step['urn']}"
        for step in stack.preview_steps()
        if not (
            step["op"] == "read" and step["urn"].split("::")[2].rsplit("$", 1)[-1] == "pulumi:pulumi:StackReference"
        )
    ]


def test_destroy_in_reverse_order_leaves_only_the_crds_istio_keeps_and_the_root(mesh):
    objects = {side: mesh.sides[side].stack.kubernetes_objects() for side in SIDES}
    mesh.link.pulumi("destroy", "--yes", "--skip-preview")
    remote_secrets = {
        side: mesh.sides[side]
        .cluster.kubectl("get", "secrets", "-n", "istio-system", "-l", "istio/multiCluster=true", "-o", "name")
        .stdout.split()
        for side in SIDES
    }
    left = {}
    for side in reversed(SIDES):
        stack = mesh.sides[side].stack
        # As an operator tears a prod stack down: lift the protection of its CRDs, then destroy.
        stack.pulumi("state", "unprotect", "--all", "--yes")
        stack.pulumi("destroy", "--yes", "--skip-preview")
        left[side] = [
            (item["kind"], item["metadata"]["name"])
            for item in surviving(mesh.sides[side].cluster, objects[side]).values()
            if not (
                item["kind"] == "CustomResourceDefinition"
                and (item["metadata"].get("annotations") or {}).get(KEEP_ANNOTATION) == "keep"
            )
        ]

    # The root outlives the clusters: its key is protected, and a destroy keeps it in the trust stack.
    kept = mesh.trust.pulumi("destroy", "--yes", "--skip-preview", check=False)

    assert remote_secrets == {side: [] for side in SIDES}
    assert left == {side: [] for side in SIDES}
    assert json.loads(mesh.link.pulumi("stack", "export").stdout)["deployment"].get("resources", []) == []
    assert kept.returncode != 0
    assert "protected" in kept.stdout + kept.stderr
    assert mesh.trust.outputs()[ROOT_CERTIFICATE_OUTPUT]
