"""Adoption on the real engine: the mesh already runs, installed by `helm install` of the same
published charts with the same values (base, istiod, gateway and the add-ons' charts) and the
mesh-wide PeerAuthentication applied with `kubectl`, as a team does before it has a stack. The
adoption plan (`python -m review adopt`) lists those objects as adopted in place and refuses
nothing; the first `pulumi up` of the dev stack then takes them over without deleting or
recreating any (every UID is unchanged), and a preview right after proposes no change.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from engine.cluster import Cluster
from harness import PublishedCharts, Stack, live_objects

from review.images import chart_directory, chart_installs
from review.program import run_program
from review.stacks import engine_config, read_stack_file

pytestmark = pytest.mark.e2e

MESH_WIDE_MTLS = """
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: istio-system}
spec: {mtls: {mode: STRICT}}
"""


def install_with_helm(stack: Stack, cluster: Cluster, charts: PublishedCharts) -> list[str]:
    """`helm install` of every chart the stack installs, with the values the program gives it."""
    config = engine_config(read_stack_file(stack.project / f"Pulumi.{stack.name}.yaml"))
    run = run_program(config, stack=stack.name)
    assert run.error is None, run.error
    helm = stack.env["PATH"].split(":", 1)[0] + "/helm"
    releases = []
    for install in chart_installs(run.resources):
        directory = chart_directory(install, charts=charts.directory)
        command = [helm, "install", install.release, str(directory), "--namespace", install.namespace]
        command += ["--create-namespace", "--values", "-"]
        result = subprocess.run(
            command,
            input=json.dumps(install.values),
            env={**stack.env, "KUBECONFIG": str(cluster.kubeconfig)},
            capture_output=True,
            text=True,
            cwd=stack.project,
        )
        assert result.returncode == 0, f"helm install {install.release}: {result.stderr}"
        releases.append(install.release)
    manifest = stack.project / "mesh-wide-mtls.yaml"
    manifest.write_text(MESH_WIDE_MTLS)
    cluster.kubectl("apply", "-f", str(manifest))
    return releases


def adopt(stack: Stack) -> subprocess.CompletedProcess:
    return stack.review("adopt", stack.name)


@pytest.fixture(scope="module")
def adopted(new_stack, cluster: Cluster, published_charts: PublishedCharts):
    stack = new_stack("adopt", "dev")
    releases = install_with_helm(stack, cluster, published_charts)
    before = {key: item["metadata"].get("uid") for key, item in live_objects(cluster).items()}
    plan = adopt(stack)
    stack.up()
    return stack, releases, before, plan


def test_the_helm_install_is_there_to_adopt(adopted):
    _, releases, before, _ = adopted
    assert sorted(releases) == sorted(
        ["istio-base", "istiod-1-30-3", "istio-ingressgateway", "prometheus", "jaeger", "grafana", "kiali"]
    )
    assert ("security.istio.io", "PeerAuthentication", "istio-system", "default") in before


def test_the_plan_adopts_in_place_and_refuses_nothing(adopted):
    _, _, _, plan = adopted
    assert plan.returncode == 0, plan.stdout + plan.stderr
    lines = [line.strip() for line in plan.stdout.splitlines()]
    assert not [line for line in lines if line.startswith("REFUSED")]
    assert "adopt PeerAuthentication istio-system/default: unchanged" in lines
    assert any(line.startswith("adopt Deployment istio-system/istiod") for line in lines)
    # The apps were never installed: the stack creates them.
    assert any(line.startswith("create Deployment sample/httpbin") for line in lines), plan.stdout


def test_up_deletes_and_recreates_nothing(adopted, cluster: Cluster):
    stack, _, before, _ = adopted
    owned = stack.kubernetes_objects()
    after = {key: item["metadata"].get("uid") for key, item in live_objects(cluster).items()}
    taken_over = [key for key in before if key in owned]

    assert len(taken_over) > 30, "the helm-installed objects are now the stack's"
    assert [key for key in taken_over if after.get(key) != before[key]] == []


def test_a_preview_after_adoption_proposes_nothing(adopted):
    stack, _, _, _ = adopted
    preview = stack.preview("--expect-no-changes")
    assert not preview.proposes_changes, preview.changes
    assert preview.returncode == 0, preview.output[-3000:]
