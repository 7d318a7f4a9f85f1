"""`python -m review drift`: what changed in the cluster outside a stack, read from the JSON of
`pulumi preview --refresh`, with security-relevant fields (mTLS mode, authorization policies,
webhook failure policy, Service exposure, and each mesh's own) failing loudly by name.

The steps here have the shape the engine prints (tests/e2e/test_e2e_drift.py produces the real
thing on a live API server)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from mesh.drift import CORE_SECURITY_FIELDS
from mesh.implementations import REGISTRY, SECURITY_FIELDS
from review.cli import BAD_INPUT, SECURITY_DRIFT, app
from review.drift import DriftError, drift_report, parse_preview

runner = CliRunner()


def step(op, type_token, declared, live, changed=()):
    """One step of a refreshed preview: the declared inputs, the live outputs, the fields that differ."""
    return {
        "op": op,
        "urn": f"urn:pulumi:dev::servicemesh::{type_token}::{declared['metadata']['name']}",
        "oldState": {"type": type_token, "outputs": live} if live is not None else None,
        "newState": {"type": type_token, "inputs": declared},
        "detailedDiff": {path: {"kind": "update", "inputDiff": False} for path in changed} or None,
    }


def peer_authentication(mode):
    return {
        "apiVersion": "security.istio.io/v1",
        "kind": "PeerAuthentication",
        "metadata": {"name": "default", "namespace": "istio-system"},
        "spec": {"mtls": {"mode": mode}},
    }


def service(service_type="ClusterIP", **spec):
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "grafana", "namespace": "istio-system"},
        "spec": {"type": service_type, **spec},
    }


def webhook(policy):
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "MutatingWebhookConfiguration",
        "metadata": {"name": "istio-sidecar-injector"},
        "webhooks": [{"name": "namespace.sidecar-injector.istio.io", "failurePolicy": policy}],
    }


def namespace(labels):
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "sample", "labels": labels}}


def config_map(data):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "grafana", "namespace": "o"}, "data": data}


def report_of(*steps):
    return drift_report({"steps": list(steps)}, SECURITY_FIELDS)


PA = "kubernetes:security.istio.io/v1:PeerAuthentication"
SERVICE = "kubernetes:core/v1:Service"
NAMESPACE = "kubernetes:core/v1:Namespace"
WEBHOOK = "kubernetes:admissionregistration.k8s.io/v1:MutatingWebhookConfiguration"


def test_an_unchanged_cluster_has_no_drift():
    refreshed = {"op": "refresh", "urn": "urn:pulumi:dev::servicemesh::pulumi:pulumi:Stack::servicemesh-dev"}
    same = step("same", PA, peer_authentication("STRICT"), peer_authentication("STRICT"))
    assert report_of(refreshed, same).objects == ()


def test_mtls_relaxed_by_hand_is_security_drift_naming_the_field_and_both_values():
    report = report_of(
        step("update", PA, peer_authentication("STRICT"), peer_authentication("PERMISSIVE"), ["spec.mtls.mode"])
    )
    (drift,) = report.security
    assert drift.object == "PeerAuthentication.security.istio.io istio-system/default"
    (field,) = drift.fields
    assert (field.path, field.live, field.declared, field.security) == ("spec.mtls.mode", "PERMISSIVE", "STRICT", True)
    assert report.lines() == [
        "SECURITY PeerAuthentication.security.istio.io istio-system/default: changed",
        '  spec.mtls.mode: live "PERMISSIVE", declared "STRICT" [security]',
    ]


@pytest.mark.parametrize(
    ("type_token", "declared", "live", "path"),
    [
        (WEBHOOK, webhook("Fail"), webhook("Ignore"), "webhooks[0].failurePolicy"),
        (SERVICE, service(), service("LoadBalancer"), "spec.type"),
        (SERVICE, service(), service(externalIPs=["203.0.113.7"]), "spec.externalIPs"),
        (
            NAMESPACE,
            namespace({"istio.io/rev": "stable"}),
            namespace({}),
            'metadata.labels["istio.io/rev"]',
        ),
        (
            NAMESPACE,
            namespace({"pod-security.kubernetes.io/enforce": "restricted"}),
            namespace({"pod-security.kubernetes.io/enforce": "privileged"}),
            'metadata.labels["pod-security.kubernetes.io/enforce"]',
        ),
    ],
    ids=["webhook-failure-policy", "service-type", "external-ips", "enrolment-label", "pod-security-label"],
)
def test_drift_of_exposure_webhooks_and_namespace_labels_is_security_drift(type_token, declared, live, path):
    (drift,) = report_of(step("update", type_token, declared, live, [path])).objects
    assert drift.security
    assert [field.path for field in drift.fields if field.security] == [path]


def test_a_label_value_is_read_under_its_quoted_key():
    declared, live = namespace({"istio.io/rev": "stable"}), namespace({"istio.io/rev": "canary"})
    (drift,) = report_of(step("update", NAMESPACE, declared, live, ['metadata.labels["istio.io/rev"]'])).objects
    assert (drift.fields[0].live, drift.fields[0].declared) == ("canary", "stable")


def test_drift_elsewhere_is_reported_but_not_as_security():
    declared, live = config_map({"a": "1"}), config_map({"a": "2"})
    report = report_of(step("update", "kubernetes:core/v1:ConfigMap", declared, live, ["data.a"]))
    (drift,) = report.objects
    assert not drift.security
    assert report.security == ()
    assert report.lines()[0] == "ConfigMap o/grafana: changed"


def test_a_service_port_name_is_not_security_but_its_node_port_is():
    declared = service(ports=[{"name": "http", "port": 80}])
    live = service(ports=[{"name": "web", "port": 80, "nodePort": 30080}])
    (drift,) = report_of(
        step("update", SERVICE, declared, live, ["spec.ports[0].name", "spec.ports[0].nodePort"])
    ).objects
    assert {field.path: field.security for field in drift.fields} == {
        "spec.ports[0].name": False,
        "spec.ports[0].nodePort": True,
    }


def test_a_security_object_deleted_by_hand_is_security_drift():
    (drift,) = report_of(step("create", PA, peer_authentication("STRICT"), None)).objects
    assert drift.what == "deleted outside the stack"
    assert drift.security


def test_another_object_deleted_by_hand_is_drift():
    (drift,) = report_of(step("create", "kubernetes:core/v1:ConfigMap", config_map({}), None)).objects
    assert drift.what == "deleted outside the stack"
    assert not drift.security


def test_each_meshs_policy_objects_are_security_relevant_whole():
    linkerd = {
        "apiVersion": "policy.linkerd.io/v1alpha1",
        "kind": "AuthorizationPolicy",
        "metadata": {"name": "httpbin", "namespace": "sample"},
        "spec": {"requiredAuthenticationRefs": [{"kind": "MeshTLSAuthentication", "name": "a"}]},
    }
    loosened = {**linkerd, "spec": {"requiredAuthenticationRefs": [{"kind": "NetworkAuthentication", "name": "all"}]}}
    consul = {
        "apiVersion": "consul.hashicorp.com/v1alpha1",
        "kind": "ServiceIntentions",
        "metadata": {"name": "httpbin", "namespace": "sample"},
        "spec": {"sources": [{"name": "sleep", "action": "allow"}]},
    }
    opened = {**consul, "spec": {"sources": [{"name": "*", "action": "allow"}]}}
    report = report_of(
        step(
            "update",
            "kubernetes:policy.linkerd.io/v1alpha1:AuthorizationPolicy",
            linkerd,
            loosened,
            ["spec.requiredAuthenticationRefs[0].kind"],
        ),
        step(
            "update",
            "kubernetes:consul.hashicorp.com/v1alpha1:ServiceIntentions",
            consul,
            opened,
            ["spec.sources[0].name"],
        ),
    )
    assert len(report.security) == 2


def test_every_mesh_names_its_security_objects_and_none_is_lost_in_the_merge():
    for implementation in REGISTRY:
        assert implementation.security_fields, implementation.provider
        for kind, paths in implementation.security_fields.items():
            assert set(paths) <= set(SECURITY_FIELDS[kind])
    for kind, paths in CORE_SECURITY_FIELDS.items():
        assert set(paths) <= set(SECURITY_FIELDS[kind])


def test_long_values_are_shortened_in_the_report():
    declared, live = config_map({"a": "x"}), config_map({"a": "y" * 500})
    lines = report_of(step("update", "kubernetes:core/v1:ConfigMap", declared, live, ["data.a"])).lines()
    assert len(lines[1]) < 200
    assert lines[1].count("…") == 1


def test_a_failed_preview_gives_no_partial_report():
    failed = {
        "steps": [
            step("update", PA, peer_authentication("STRICT"), peer_authentication("PERMISSIVE"), ["spec.mtls.mode"])
        ],
        "diagnostics": [
            {"severity": "warning", "message": "using pulumi-resource-kubernetes from $PATH"},
            {"severity": "error", "message": "Server-Side Apply field conflict detected"},
        ],
    }
    with pytest.raises(DriftError, match="cannot tell all the drift:\nServer-Side Apply field conflict detected"):
        drift_report(failed, SECURITY_FIELDS)


@pytest.mark.parametrize("text", ["", "error: no stack named dev", "[1, 2]", '{"steps": 3}'])
def test_output_that_is_not_a_preview_is_refused(text):
    with pytest.raises(DriftError):
        parse_preview(text)


class TestCommand:
    def run(self, tmp_path, *steps):
        saved = tmp_path / "preview.json"
        saved.write_text(json.dumps({"steps": list(steps)}))
        return runner.invoke(app, ["drift", "dev", "--preview-json", str(saved)])

    def test_no_drift_exits_0(self, tmp_path):
        result = self.run(tmp_path)
        assert result.exit_code == 0, result.output
        assert "no drift" in result.output

    def test_drift_exits_1_and_lists_the_object(self, tmp_path):
        result = self.run(
            tmp_path,
            step("update", "kubernetes:core/v1:ConfigMap", config_map({"a": "1"}), config_map({"a": "2"}), ["data.a"]),
        )
        assert result.exit_code == 1, result.output
        assert "ConfigMap o/grafana: changed" in result.output

    def test_security_drift_exits_3_and_names_the_field(self, tmp_path):
        result = self.run(
            tmp_path,
            step("update", PA, peer_authentication("STRICT"), peer_authentication("DISABLE"), ["spec.mtls.mode"]),
        )
        assert result.exit_code == SECURITY_DRIFT, result.output
        assert "in a security-relevant field" in result.output
        assert 'spec.mtls.mode: live "DISABLE", declared "STRICT" [security]' in result.output

    def test_an_unreadable_saved_preview_is_bad_input_without_a_traceback(self, tmp_path):
        result = runner.invoke(app, ["drift", "dev", "--preview-json", str(tmp_path / "missing.json")])
        assert result.exit_code == BAD_INPUT
        assert "cannot read the saved preview" in result.output
        assert "Traceback" not in result.output
