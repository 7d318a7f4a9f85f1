"""Root rotation on the real engine: the sequences of stack changes that docs/trust.md prescribes and
tests/test_trust.py renders under mocks, each step one `pulumi up`, checked in the live cluster.

Istio, on one local API server: the trust project's `prod` stack file and a next root made from it
(`prod-2027`, as docs/trust.md names it), then one stack from `prod` (so the intermediate's key and
`cacerts` are protected) walked from the plug-in CA signed by the old root, through both roots
trusted and the new one signing, to the new root alone. After each up, `cacerts`' bundle holds the
expected roots in order, its intermediate verifies against the signing root (`openssl verify`) and
its chain ends with that root. The protected Secret takes each change in place: the project sets the
Kubernetes provider's `enableSecretMutable` (Pulumi.yaml), without which the provider replaces a
Secret whose data changes and the second step is refused. Linkerd's trust bundle and issuer, too,
stay one object each through every step (`enableConfigMapMutable`).

Linkerd, on a second API server at the same time: one stack from `prod-linkerd` (its anchors
protected) walked through anchor generations 1, then 1 and 2, then 2 signing with 1 trusted, then 2
alone. After each up, the bundle Linkerd reads (`linkerd-identity-trust-roots`) holds the expected
anchors and the issuer in `linkerd-identity-issuer` verifies against the signing one. Dropping
protected anchor 1 is refused until it is unprotected, as docs/trust.md says.

Each walk ends with a preview that must change nothing. The stacks are lean: no apps and no add-ons,
but the Prometheus that linkerd-viz needs.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from engine.cluster import Cluster
from harness import Preview, PublishedCharts, Stack, e2e_cluster, init_stack, kubectl_json, make_workspace
from test_trust import CERTIFICATES, ISTIO_ROOT_ROTATION, LINKERD_ROTATION, NEXT_ROOT, PROD_ROOT, TRUST

from mesh.certificates import ROOT_CERTIFICATE_OUTPUT
from mesh.istio.trust import CACERTS_SECRET
from mesh.linkerd.certificates import trust_anchor_resource_name
from mesh.linkerd.mesh import ISSUER_SECRET

pytestmark = pytest.mark.e2e

ADDONS = ("prometheus", "grafana", "kiali", "jaeger")
LEAN = {"servicemesh:apps": [], **{f"servicemesh:observability.{addon}.enabled": False for addon in ADDONS}}
# linkerd-viz reads the stack's Prometheus, and its chart refuses to render without one.
LINKERD_LEAN = {**LEAN, "servicemesh:observability.prometheus.enabled": True}
MESHES = ("istio", "linkerd")
ISTIO_NAMESPACE = "istio-system"
LINKERD_NAMESPACE = "linkerd"
# The ConfigMap Linkerd's chart writes `identityTrustAnchorsPEM` to, which the identity controller
# and the proxy injector read.
TRUST_ROOTS_CONFIGMAP = "linkerd-identity-trust-roots"
TRUST_ROOTS_KEY = "ca-bundle.crt"
# The `LinkerdIdentity` component of a Linkerd stack, which names each anchor generation's resources.
LINKERD_IDENTITY = "linkerd-identity"
SELF_SIGNED = "tls:index/selfSignedCert:SelfSignedCert"
CERTIFICATE = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)

OLD_ROOT, NEW_ROOT = (reference.rpartition("/")[2] for reference in (PROD_ROOT, NEXT_ROOT))
# What each step of ISTIO_ROOT_ROTATION leaves in `cacerts` (docs/trust.md, "Rotating Istio's plug-in
# root"), by trust stack: the roots of the bundle in order, and the root that signs the intermediate.
ISTIO_EXPECTED = [
    ([OLD_ROOT], OLD_ROOT),
    ([OLD_ROOT, NEW_ROOT], OLD_ROOT),
    ([NEW_ROOT, OLD_ROOT], NEW_ROOT),
    ([NEW_ROOT], NEW_ROOT),
]
# What each step of LINKERD_ROTATION leaves in the cluster (docs/trust.md, "Rotating Linkerd's trust
# anchor"), by generation: the anchors of the bundle in order, and the anchor that signs the issuer.
LINKERD_EXPECTED = [([1], 1), ([1, 2], 1), ([2, 1], 2), ([2], 2)]
ISTIO_STEPS = [name for name, _ in ISTIO_ROOT_ROTATION]
LINKERD_STEPS = [name for name, _ in LINKERD_ROTATION]


@dataclass(frozen=True)
class IstioWalk:
    roots: dict[str, str]
    """Each trust stack's `rootCertificatePem`, by stack."""
    cacerts: list[dict[str, str]]
    """The live `cacerts` data after each step."""
    cacerts_uids: list[str]
    """The live `cacerts` object's UID after each step."""
    preview: Preview


@dataclass(frozen=True)
class LinkerdStep:
    bundle: str
    """`ca-bundle.crt` of the live trust roots ConfigMap."""
    issuer: str
    """`tls.crt` of the live issuer Secret."""
    uids: tuple[str, str]
    """The UIDs of the live trust roots ConfigMap and issuer Secret."""
    anchors: dict[int, str]
    """Each anchor generation's certificate in the stack's state."""


@dataclass(frozen=True)
class LinkerdWalk:
    steps: list[LinkerdStep]
    refused_drop: Preview
    """The preview of the last step before anchor 1 was unprotected."""
    preview: Preview


@dataclass(frozen=True)
class Rotations:
    istio: IstioWalk
    linkerd: LinkerdWalk


@pytest.fixture(scope="module")
def rotations(
    engine_bin: Path, published_charts: PublishedCharts, tmp_path_factory: pytest.TempPathFactory
) -> Rotations:
    """Both walks at once, each on its own API server, project copy and backend."""
    root = tmp_path_factory.mktemp("rotation")
    with ExitStack() as running:
        clusters = {mesh: running.enter_context(e2e_cluster(engine_bin, root / mesh / "cluster")) for mesh in MESHES}
        workspaces = {
            mesh: make_workspace(root / mesh / "workspace", engine_bin=engine_bin, cluster=clusters[mesh])
            for mesh in MESHES
        }
        with ThreadPoolExecutor(len(MESHES)) as pool:
            istio = pool.submit(walk_istio, workspaces["istio"], published_charts, clusters["istio"])
            linkerd = pool.submit(walk_linkerd, workspaces["linkerd"], published_charts, clusters["linkerd"])
            return Rotations(istio=istio.result(), linkerd=linkerd.result())


def walk_istio(workspace: Mapping[str, Any], charts: PublishedCharts, cluster: Cluster) -> IstioWalk:
    roots = trust_roots(workspace, charts)
    stack = init_stack(workspace, "prod-rotation", "prod", charts)
    cacerts, uids = [], []
    for _, trust in ISTIO_ROOT_ROTATION:
        stack.configure({**LEAN, TRUST: trust})
        stack.up()
        secret = kubectl_json(cluster, "secret", CACERTS_SECRET, "-n", ISTIO_NAMESPACE)
        cacerts.append({name: base64.b64decode(encoded).decode() for name, encoded in secret["data"].items()})
        uids.append(secret["metadata"]["uid"])
    return IstioWalk(roots=roots, cacerts=cacerts, cacerts_uids=uids, preview=stack.preview("--expect-no-changes"))


def trust_roots(workspace: Mapping[str, Any], charts: PublishedCharts) -> dict[str, str]:
    """The old root from the trust project's own prod stack file, and the next one from a copy of it
    under a name of its own, as an operator makes it; both up at once."""
    project = workspace["project"] / "trust"
    document = yaml.safe_load((project / f"Pulumi.{OLD_ROOT}.yaml").read_text())
    document["config"]["servicemesh-trust:root"]["commonName"] += " 2027"
    (project / f"Pulumi.{NEW_ROOT}.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    stacks = [Stack(name, project, workspace["env"], charts, name) for name in (OLD_ROOT, NEW_ROOT)]
    for stack in stacks:
        stack.pulumi("stack", "init", stack.name)
    with ThreadPoolExecutor(len(stacks)) as pool:
        list(pool.map(lambda stack: stack.up(), stacks))
    return {stack.name: stack.outputs()[ROOT_CERTIFICATE_OUTPUT] for stack in stacks}


def walk_linkerd(workspace: Mapping[str, Any], charts: PublishedCharts, cluster: Cluster) -> LinkerdWalk:
    stack = init_stack(workspace, "prod-linkerd-rotation", "prod-linkerd", charts)
    steps: list[LinkerdStep] = []
    refused_drop = None
    for index, (_, certificates) in enumerate(LINKERD_ROTATION):
        stack.configure({**LINKERD_LEAN, CERTIFICATES: certificates})
        dropped = set(LINKERD_EXPECTED[index - 1][0]) - set(LINKERD_EXPECTED[index][0]) if index else set()
        if dropped:
            # prod protects every anchor: docs/trust.md has the operator unprotect the dropped one first.
            refused_drop = stack.preview()
            for urn in anchor_urns(stack, dropped):
                stack.pulumi("state", "unprotect", urn, "--yes")
        stack.up()
        issuer = kubectl_json(cluster, "secret", ISSUER_SECRET, "-n", LINKERD_NAMESPACE)
        bundle = kubectl_json(cluster, "configmap", TRUST_ROOTS_CONFIGMAP, "-n", LINKERD_NAMESPACE)
        steps.append(
            LinkerdStep(
                bundle=bundle["data"][TRUST_ROOTS_KEY],
                issuer=base64.b64decode(issuer["data"]["tls.crt"]).decode(),
                uids=(bundle["metadata"]["uid"], issuer["metadata"]["uid"]),
                anchors=anchors_in_state(stack),
            )
        )
    assert refused_drop is not None, "the walk drops no anchor"
    return LinkerdWalk(steps=steps, refused_drop=refused_drop, preview=stack.preview("--expect-no-changes"))


def state_resources(stack: Stack) -> list[dict[str, Any]]:
    return json.loads(stack.pulumi("stack", "export").stdout)["deployment"].get("resources", [])


def resource_name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def anchors_in_state(stack: Stack) -> dict[int, str]:
    generations = {trust_anchor_resource_name(LINKERD_IDENTITY, generation): generation for generation in (1, 2)}
    return {
        generations[resource_name(resource["urn"])]: resource["outputs"]["certPem"]
        for resource in state_resources(stack)
        if resource["type"] == SELF_SIGNED and resource_name(resource["urn"]) in generations
    }


def anchor_urns(stack: Stack, generations: set[int]) -> list[str]:
    """The URNs of these anchor generations' keys and certificates."""
    names = {trust_anchor_resource_name(LINKERD_IDENTITY, generation) for generation in generations}
    names |= {f"{name}-key" for name in names}
    urns = [resource["urn"] for resource in state_resources(stack) if resource_name(resource["urn"]) in names]
    assert len(urns) == len(names), urns
    return urns


def certificates_in(bundle: str) -> list[str]:
    return CERTIFICATE.findall(bundle)


def verifies(certificate: str, *, against: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """`openssl verify` of a CA certificate against one root, and nothing else."""
    (tmp_path / "root.pem").write_text(against)
    (tmp_path / "certificate.pem").write_text(certificate)
    return subprocess.run(
        [shutil.which("openssl") or "openssl", "verify", "-CAfile", "root.pem", "certificate.pem"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


def by_step(steps: Sequence[str]) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("step", range(len(steps)), ids=steps)


# Istio


@by_step(ISTIO_STEPS)
def test_istio_cacerts_bundle_holds_the_expected_roots_in_order(rotations, step):
    istio = rotations.istio
    bundle, _ = ISTIO_EXPECTED[step]

    assert certificates_in(istio.cacerts[step]["root-cert.pem"]) == [
        certificates_in(istio.roots[root])[0] for root in bundle
    ]


@by_step(ISTIO_STEPS)
def test_istio_intermediate_is_signed_by_the_expected_root_and_chains_to_it(rotations, step, tmp_path):
    istio = rotations.istio
    _, signer = ISTIO_EXPECTED[step]
    cacerts = istio.cacerts[step]
    verified = verifies(cacerts["ca-cert.pem"], against=istio.roots[signer], tmp_path=tmp_path)

    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert certificates_in(cacerts["cert-chain.pem"]) == [
        *certificates_in(cacerts["ca-cert.pem"]),
        *certificates_in(istio.roots[signer]),
    ]


def test_istio_the_protected_intermediate_key_outlives_the_rotation_while_its_certificate_is_reissued(rotations):
    cacerts = rotations.istio.cacerts

    assert len({data["ca-key.pem"] for data in cacerts}) == 1
    assert len({data["ca-cert.pem"] for data in cacerts}) == 2


def test_istio_cacerts_takes_every_step_in_place(rotations):
    # Protected in prod, and read by istiod at every change: one object from the first step to the last.
    assert len(set(rotations.istio.cacerts_uids)) == 1


def test_istio_a_preview_after_the_rotation_changes_nothing(rotations):
    preview = rotations.istio.preview

    assert preview.returncode == 0, preview.changes or preview.output[-4000:]


# Linkerd


@by_step(LINKERD_STEPS)
def test_linkerd_trust_roots_hold_the_expected_anchors_in_order(rotations, step):
    observed = rotations.linkerd.steps[step]
    bundle, _ = LINKERD_EXPECTED[step]

    assert sorted(observed.anchors) == sorted(bundle)
    assert certificates_in(observed.bundle) == [certificates_in(observed.anchors[anchor])[0] for anchor in bundle]


@by_step(LINKERD_STEPS)
def test_linkerd_issuer_is_signed_by_the_expected_anchor(rotations, step, tmp_path):
    observed = rotations.linkerd.steps[step]
    _, signer = LINKERD_EXPECTED[step]
    verified = verifies(observed.issuer, against=observed.anchors[signer], tmp_path=tmp_path)

    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_linkerd_no_anchor_is_replaced_while_the_stack_keeps_it(rotations):
    seen: dict[int, set[str]] = {}
    for observed in rotations.linkerd.steps:
        for generation, pem in observed.anchors.items():
            seen.setdefault(generation, set()).add(pem)

    assert {generation: len(pems) for generation, pems in seen.items()} == {1: 1, 2: 1}


def test_linkerd_prod_refuses_to_drop_an_anchor_until_it_is_unprotected(rotations):
    refused = rotations.linkerd.refused_drop

    refused_names = {resource_name(urn) for urn in re.findall(r'resource "([^"]+)" cannot be deleted', refused.output)}
    first = trust_anchor_resource_name(LINKERD_IDENTITY, 1)

    assert refused.returncode != 0
    assert refused_names, refused.output[-4000:]
    assert refused_names <= {first, f"{first}-key"}


def test_linkerd_the_trust_bundle_and_the_issuer_take_every_step_in_place(rotations):
    # Never deleted and created again: no moment when a proxy starting up finds no trust bundle.
    assert len({step.uids for step in rotations.linkerd.steps}) == 1


def test_linkerd_a_preview_after_the_rotation_changes_nothing(rotations):
    preview = rotations.linkerd.preview

    assert preview.returncode == 0, preview.changes or preview.output[-4000:]
