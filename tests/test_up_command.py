"""What `make up` decides before it runs pulumi (scripts/up.py, scripts/run_config.py): the secrets
passphrase, prod's refusals, the target, the run config, and the table it ends with. The commands
themselves run in the e2e suite (tests/e2e/test_make_up.py)."""

from __future__ import annotations

import stat

import pytest
import yaml
from stack_harness import run_stack

from scripts import up
from scripts.run_config import (
    API_SERVER_ONLY,
    PublishedCharts,
    target_overrides,
    write_stack_config,
)


@pytest.fixture
def checkout(tmp_path, monkeypatch):
    """A checkout's `.local/` in a temporary folder, and a shell with no passphrase set."""
    monkeypatch.setattr(up, "PASSPHRASE", tmp_path / ".local" / "passphrase")
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE", raising=False)
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE_FILE", raising=False)
    return tmp_path


@pytest.mark.parametrize("stack", ["prod", "prod-linkerd", "prod-ambient", "prod-consul"])
def test_prod_refuses_to_run_without_a_passphrase_of_its_own(checkout, monkeypatch, stack):
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "")

    with pytest.raises(up.MakeError, match=f"stack {stack} is prod: it needs a passphrase of its own"):
        up.passphrase_env(stack, prod=up.is_prod(stack))
    assert not up.PASSPHRASE.exists()


def test_prod_refuses_an_empty_passphrase_file(checkout, monkeypatch):
    empty = checkout / "empty"
    empty.write_text("\n")
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE_FILE", str(empty))

    with pytest.raises(up.MakeError, match="missing or empty"):
        up.passphrase_env("prod", prod=True)


@pytest.mark.parametrize("stack", ["dev", "dev-linkerd", "staging"])
def test_other_stacks_get_one_generated_passphrase_per_checkout_readable_only_by_its_owner(checkout, stack):
    first = up.passphrase_env(stack, prod=up.is_prod(stack))
    generated = up.PASSPHRASE.read_text()
    again = up.passphrase_env(stack, prod=up.is_prod(stack))

    assert first == again == {"PULUMI_CONFIG_PASSPHRASE_FILE": str(up.PASSPHRASE)}
    assert up.PASSPHRASE.read_text() == generated
    assert len(generated.strip()) >= 32
    assert stat.S_IMODE(up.PASSPHRASE.stat().st_mode) == 0o600


def test_a_passphrase_the_operator_sets_is_used_as_it_is(checkout, monkeypatch):
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "the team's")

    assert up.passphrase_env("prod", prod=True) == {}
    assert up.passphrase_env("dev", prod=False) == {}
    assert not up.PASSPHRASE.exists()


def test_the_embedded_control_plane_is_the_last_choice_and_says_why(monkeypatch):
    monkeypatch.setattr(up, "has_kubeconfig", lambda: False)
    monkeypatch.setattr(up.shutil, "which", lambda tool: None)

    target = up.select_target()

    assert target.kind == "embedded"
    assert target.why == "no current kube context; kind is not on PATH"


def test_a_context_that_does_not_answer_is_passed_over_with_its_answer(monkeypatch):
    monkeypatch.setattr(up, "has_kubeconfig", lambda: True)
    monkeypatch.setattr(up, "current_context", lambda: "laptop")
    monkeypatch.setattr(up, "context_answers", lambda context: (False, "connection refused"))
    monkeypatch.setattr(up.shutil, "which", lambda tool: "/usr/bin/kubectl" if tool == "kubectl" else None)

    target = up.select_target()

    assert target.kind == "embedded"
    assert target.why.startswith("the current kube context laptop does not answer (connection refused)")


def test_a_context_that_answers_comes_first(monkeypatch):
    monkeypatch.setattr(up, "has_kubeconfig", lambda: True)
    monkeypatch.setattr(up, "current_context", lambda: "team-cluster")
    monkeypatch.setattr(up, "context_answers", lambda context: (True, ""))

    assert up.select_target() == up.Target(kind="context", context="team-cluster", why="it answers")


def test_the_embedded_target_sets_api_server_only_and_nothing_else():
    assert target_overrides("dev", api_server_only=True, charts=None) == {API_SERVER_ONLY: True}
    assert target_overrides("dev", api_server_only=False, charts=None) == {}


GATEWAY_API_MANIFEST = "servicemesh:mesh.istio.ambient.gatewayApiManifest"


@pytest.mark.parametrize(
    ("stack", "mesh_key"),
    [
        ("dev", "servicemesh:mesh.istio.chartRepository"),
        ("dev-linkerd", "servicemesh:mesh.linkerd.chartRepository"),
        ("dev-consul", "servicemesh:mesh.consul.chartRepository"),
    ],
)
def test_charts_on_disk_replace_every_chart_source_of_the_stack(tmp_path, stack, mesh_key):
    overrides = target_overrides(stack, api_server_only=False, charts=PublishedCharts(directory=tmp_path))

    assert overrides[mesh_key] == str(tmp_path)
    assert {key for key in overrides if key.startswith("servicemesh:observability.")} == {
        f"servicemesh:observability.{addon}.chartRepository" for addon in ("prometheus", "grafana", "kiali", "jaeger")
    }
    assert GATEWAY_API_MANIFEST not in overrides


def test_ambient_takes_its_gateway_api_crds_from_disk_only_when_given(tmp_path):
    manifest = tmp_path / "standard-install.yaml"
    given = PublishedCharts(directory=tmp_path, gateway_api_crds=manifest)

    assert target_overrides("dev-ambient", api_server_only=False, charts=given)[GATEWAY_API_MANIFEST] == str(manifest)
    without = target_overrides("dev-ambient", api_server_only=False, charts=PublishedCharts(directory=tmp_path))
    assert GATEWAY_API_MANIFEST not in without
    # A sidecar stack downloads no Gateway API CRDs, so its run config names none (its rules refuse an ambient key).
    assert GATEWAY_API_MANIFEST not in target_overrides("dev", api_server_only=False, charts=given)


def test_the_run_config_keeps_the_salt_pulumi_wrote_and_takes_the_stack_files_own(tmp_path):
    run_file = tmp_path / "Pulumi.dev.yaml"
    run_file.write_text("encryptionsalt: v1:salt-of-this-run\nconfig:\n  servicemesh:environment: old\n")
    stack_file = tmp_path / "Pulumi.source.yaml"
    stack_file.write_text("secretsprovider: passphrase\nconfig: {}\n")

    write_stack_config(
        run_file, {"servicemesh:environment": "dev", "servicemesh:mesh": {"namespace": "no"}}, made_from=stack_file
    )

    assert yaml.safe_load(run_file.read_text()) == {
        "encryptionsalt": "v1:salt-of-this-run",
        "secretsprovider": "passphrase",
        "config": {"servicemesh:environment": "dev", "servicemesh:mesh": {"namespace": "no"}},
    }
    assert "'no'" in run_file.read_text()


def test_the_outputs_table_lists_every_port_forward_with_its_url():
    outputs = run_stack("dev").outputs

    reach = dict(up.commands(outputs))

    assert set(reach) == {
        "apps.httpbin",
        "addons.prometheus",
        "addons.grafana",
        "addons.kiali",
        "addons.jaeger",
        "ingressGateway",
    }
    assert reach["addons.kiali"] == outputs["addons"]["kiali"]["command"] + "  # then http://localhost:20001/kiali"
    assert reach["apps.httpbin"] == outputs["apps"]["httpbin"]["portForward"]


def test_each_output_is_summed_up_in_one_short_line():
    outputs = run_stack("dev").outputs

    assert up.summary(outputs["enrolledNamespaces"]) == "sandbox, sample"
    assert up.summary(outputs["apps"]) == "httpbin"
    assert up.summary(outputs["addons"]) == "prometheus, grafana, kiali, jaeger"
    assert up.summary(outputs["ingressGateway"]).startswith("namespace istio-ingress, service istio-")
    assert all(len(up.summary(value)) <= up.SUMMARY_WIDTH for value in outputs.values())


def test_protected_resources_explain_why_and_both_ways_on():
    crd = (up.CRD_TYPE, "peerauthentications.security.istio.io")
    chart = ("kubernetes:helm.sh/v4:Chart", "istio-base")

    explanation = up.explain_protected("prod", [crd, chart])

    assert "stack prod holds 2 protected resources" in explanation
    assert "peerauthentications.security.istio.io" in explanation
    assert "mesh.protectCrds" in explanation
    assert "`mesh.protectCrds` in docs/configuration.md" in explanation
    assert "KEEP_PROTECTED=1 make down" in explanation
    assert "pulumi state unprotect --all --stack prod" in explanation


def test_each_stack_is_kept_on_the_target_it_was_created_on(tmp_path, monkeypatch):
    monkeypatch.setattr(up, "STACKS", tmp_path)
    (tmp_path / "dev.target.json").write_text('{"target": "embedded", "context": null}')
    (tmp_path / "staging.target.json").write_text('{"target": "context", "context": "team"}')

    assert up.stacks_on(up.Target(kind="embedded")) == ["dev"]
    assert up.stacks_on(up.Target(kind="context", context="team")) == ["staging"]
    assert up.stacks_on(up.Target(kind="context", context="laptop")) == []
    assert up.recorded_target("staging") == up.Target(kind="context", context="team", why="where the stack was created")
