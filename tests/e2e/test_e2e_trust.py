"""A plug-in CA on the real engine: the trust project (`trust/`) makes a root on the file backend,
a dev stack with `mesh.istio.trust.ca: plugin` reads it through a StackReference, issues its
intermediate and writes `cacerts` on a local API server. `openssl verify` accepts the
intermediate against the trust stack's root, and a preview right after changes nothing. The stack
is kept lean (no apps, no add-ons): what is checked is trust, not the rest of the mesh.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path

import pytest
from engine.cluster import Cluster
from harness import Stack, kubectl_json

from mesh.certificates import ROOT_CERTIFICATE_OUTPUT, ROOT_EXPIRY_OUTPUT
from review.stacks import DELETE

pytestmark = [pytest.mark.e2e, pytest.mark.engine]

TRUST_STACK = "e2e-root"
ADDONS = ("prometheus", "grafana", "kiali", "jaeger")
LEAN = {
    "servicemesh:apps": DELETE,
    "servicemesh:mesh.injectedNamespaces": DELETE,
    **{f"servicemesh:observability.{addon}.enabled": False for addon in ADDONS},
}


@pytest.fixture(scope="module")
def trust_root(new_stack) -> dict:
    """The trust project's stack, up: its outputs (the root's key stays in its state)."""
    mesh_stack = new_stack("plugin-ca", "dev", LEAN)
    trust = Stack(TRUST_STACK, mesh_stack.project / "trust", mesh_stack.env, mesh_stack.charts, base_stack="")
    trust.pulumi("stack", "init", TRUST_STACK)
    # A quick key to generate: the algorithm is not what this test checks.
    trust.pulumi("config", "set", "--path", "servicemesh-trust:root.keyAlgorithm", "ECDSA-P256")
    trust.up()
    return {"mesh_stack": mesh_stack, "outputs": trust.outputs()}


@pytest.fixture(scope="module")
def plugin_stack(trust_root) -> Stack:
    stack = trust_root["mesh_stack"]
    stack.configure(
        {
            **LEAN,
            "servicemesh:mesh.istio.trust": {
                "ca": "plugin",
                "root": {"stack": f"organization/servicemesh-trust/{TRUST_STACK}"},
            },
        }
    )
    stack.up()
    return stack


def cacerts_files(cluster: Cluster, directory: Path) -> dict[str, Path]:
    secret = kubectl_json(cluster, "secret", "cacerts", "-n", "istio-system")
    files = {}
    for name, encoded in secret["data"].items():
        files[name] = directory / name
        files[name].write_bytes(base64.b64decode(encoded))
    return files


def test_cacerts_chains_to_the_trust_stack_root(trust_root, plugin_stack, cluster, tmp_path):
    files = cacerts_files(cluster, tmp_path)
    assert set(files) == {"ca-cert.pem", "ca-key.pem", "root-cert.pem", "cert-chain.pem"}
    root = tmp_path / "trust-root.pem"
    root.write_text(trust_root["outputs"][ROOT_CERTIFICATE_OUTPUT])
    assert files["root-cert.pem"].read_text() == root.read_text()
    verified = subprocess.run(
        [shutil.which("openssl") or "openssl", "verify", "-CAfile", str(root), str(files["ca-cert.pem"])],
        capture_output=True,
        text=True,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_the_stack_reports_both_expiries(trust_root, plugin_stack):
    expiry = plugin_stack.outputs()["istioCertificateExpiry"]
    assert expiry["root"] == trust_root["outputs"][ROOT_EXPIRY_OUTPUT]
    assert expiry["intermediate"] < expiry["root"]


def test_a_preview_after_the_up_changes_nothing(plugin_stack):
    preview = plugin_stack.preview("--expect-no-changes")
    assert not preview.proposes_changes, preview.changes
