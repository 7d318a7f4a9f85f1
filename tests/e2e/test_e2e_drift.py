"""Drift on the real engine: someone changes the live dev stack with `kubectl` at 3 a.m.; the drift
report (`python -m review drift`, a refreshed preview) names every security-relevant field that
changed, with the live and the declared value, and exits 3; the next `pulumi up --refresh` (as
the deploy workflow runs it) puts everything back and the report is clean again. The stack owns
the fields it declares (`target_cluster.ownership`), so neither the report nor the repair stops at
the field conflicts that the hand edits leave behind.

The drift covers each security-relevant class the report knows: the mesh-wide mTLS mode, an
authorization policy deleted by hand, the sidecar injector's webhook set to fail open, the
Grafana Service exposed as a NodePort, and a namespace taken out of the mesh.
"""

from __future__ import annotations

import subprocess

import pytest
from engine.cluster import Cluster
from harness import Stack

from review.cli import SECURITY_DRIFT

pytestmark = pytest.mark.e2e

INJECTOR_WEBHOOK = "istio-sidecar-injector-1-30-3"
APP_NAMESPACE = "sample"
APP_POLICY = "httpbin"


def drift(stack: Stack) -> subprocess.CompletedProcess:
    return stack.review("drift", stack.name)


def edit_by_hand(cluster: Cluster) -> None:
    cluster.kubectl(
        "patch", "peerauthentication", "default", "-n", "istio-system", "--type=merge",
        "-p", '{"spec":{"mtls":{"mode":"PERMISSIVE"}}}',
    )  # fmt: skip
    cluster.kubectl("delete", "authorizationpolicy", APP_POLICY, "-n", APP_NAMESPACE)
    cluster.kubectl(
        "patch", "mutatingwebhookconfiguration", INJECTOR_WEBHOOK, "--type=json",
        "-p", '[{"op":"replace","path":"/webhooks/0/failurePolicy","value":"Ignore"}]',
    )  # fmt: skip
    cluster.kubectl(
        "patch", "service", "grafana", "-n", "istio-system", "--type=merge", "-p", '{"spec":{"type":"NodePort"}}'
    )
    cluster.kubectl("label", "namespace", APP_NAMESPACE, "istio.io/rev-")


@pytest.fixture(scope="module")
def drifted(new_stack, cluster: Cluster) -> tuple[Stack, subprocess.CompletedProcess]:
    stack = new_stack("drift", "dev")
    stack.up()
    before = drift(stack)
    assert before.returncode == 0, f"drift before anyone touched the stack:\n{before.stdout}{before.stderr}"
    edit_by_hand(cluster)
    return stack, drift(stack)


def test_security_drift_fails_loudly(drifted):
    _, report = drifted
    assert report.returncode == SECURITY_DRIFT, report.stdout + report.stderr
    assert "in a security-relevant field" in report.stdout


@pytest.mark.parametrize(
    "line",
    [
        "SECURITY PeerAuthentication.security.istio.io istio-system/default: changed",
        'spec.mtls.mode: live "PERMISSIVE", declared "STRICT" [security]',
        f"SECURITY AuthorizationPolicy.security.istio.io {APP_NAMESPACE}/{APP_POLICY}: deleted outside the stack",
        f"SECURITY MutatingWebhookConfiguration.admissionregistration.k8s.io {INJECTOR_WEBHOOK}: changed",
        'webhooks[0].failurePolicy: live "Ignore", declared "Fail" [security]',
        "SECURITY Service istio-system/grafana: changed",
        'spec.type: live "NodePort", declared "ClusterIP" [security]',
        f"SECURITY Namespace {APP_NAMESPACE}: changed",
        'metadata.labels["istio.io/rev"]: live (none), declared "stable" [security]',
    ],
)
def test_the_report_names_each_object_and_field(drifted, line):
    _, report = drifted
    assert line in [printed.strip() for printed in report.stdout.splitlines()], report.stdout


def test_up_repairs_the_drift(drifted, cluster: Cluster):
    stack, _ = drifted
    stack.up("--refresh")
    after = drift(stack)
    assert after.returncode == 0, after.stdout + after.stderr
    mode = cluster.kubectl(
        "get", "peerauthentication", "default", "-n", "istio-system", "-o", "jsonpath={.spec.mtls.mode}"
    ).stdout
    assert mode == "STRICT"
