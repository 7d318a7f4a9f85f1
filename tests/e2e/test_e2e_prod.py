"""The prod stack file on the real engine: it comes up with its protections, a destroy refuses
while they hold, and once unprotected only Istio's CRDs stay behind, on purpose."""

from __future__ import annotations

import pytest
from harness import kubectl_json

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def prod(new_stack):
    stack = new_stack("prod-e2e", "prod")
    stack.up()
    return stack


def istio_crds(cluster) -> set[str]:
    return {
        item["metadata"]["name"]
        for item in kubectl_json(cluster, "crd")["items"]
        if "istio.io" in item["metadata"]["name"]
    }


def test_prod_comes_up_strict_with_its_crds(prod, cluster):
    assert (
        kubectl_json(cluster, "peerauthentication", "default", "-n", "istio-system")["spec"]["mtls"]["mode"] == "STRICT"
    )
    assert "peerauthentications.security.istio.io" in istio_crds(cluster)
    assert kubectl_json(cluster, "namespace", "sample")["metadata"]["labels"]["istio.io/rev"] == "stable"


def test_a_destroy_refuses_while_the_crds_are_protected(prod, cluster):
    result = prod.pulumi("destroy", "--yes", "--skip-preview", check=False)

    assert result.returncode != 0
    assert "protected" in result.stdout + result.stderr
    assert "peerauthentications.security.istio.io" in istio_crds(cluster)


def test_once_unprotected_only_the_retained_crds_remain(prod, cluster):
    crds_before = istio_crds(cluster)
    prod.pulumi("state", "unprotect", "--all", "--yes")
    prod.pulumi("destroy", "--yes", "--skip-preview")

    assert istio_crds(cluster) == crds_before
    assert len(crds_before) > 10
    namespaces = {
        item["metadata"]["name"]
        for item in kubectl_json(cluster, "namespaces")["items"]
        if item["status"].get("phase") != "Terminating"
    }
    assert namespaces == {"default", "kube-node-lease", "kube-public", "kube-system"}
