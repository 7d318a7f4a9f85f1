"""`python -m review`: render, diff, footprint, snapshot and affected, and how bad input is reported."""

from __future__ import annotations

import pytest
from stack_harness import PROJECT_ROOT
from typer.testing import CliRunner

from review.cli import app
from review.snapshots import snapshot_path

runner = CliRunner()


def review(*args, stdin=None):
    return runner.invoke(app, list(args), input=stdin)


def test_render_prints_the_committed_snapshot_of_an_unchanged_stack():
    result = review("render", "dev")

    assert result.exit_code == 0
    assert result.stdout == snapshot_path("dev").read_text()


def test_render_writes_to_a_file(tmp_path):
    result = review("render", "prod", "--output", str(tmp_path / "prod.yaml"))

    assert result.exit_code == 0
    assert (tmp_path / "prod.yaml").read_text() == snapshot_path("prod").read_text()


def test_diff_of_a_stack_against_its_snapshot_exits_0_without_a_difference():
    result = review("diff", "staging")

    assert result.exit_code == 0, result.output
    assert "0 to create, 0 to update, 0 to delete" in result.stdout


def test_diff_of_two_stacks_lists_changed_fields_and_exits_1():
    result = review("diff", "dev", "prod")

    assert result.exit_code == 1
    assert "~ kubernetes:helm.sh/v4:Chart istio-istiod-1-30-3 (update)" in result.stdout
    assert "~ inputs.values.autoscaleEnabled: false → true" in result.stdout
    assert "~ options.protect: false → true" in result.stdout


def test_diff_of_an_edited_stack_file_against_the_committed_snapshot(tmp_path):
    edited = tmp_path / "Pulumi.dev.yaml"
    text = (PROJECT_ROOT / "Pulumi.dev.yaml").read_text()
    edited.write_text(text.replace("serviceType: NodePort", "serviceType: ClusterIP", 1))

    result = review("diff", str(edited))

    assert result.exit_code == 1
    assert '~ inputs.values.service.type: "NodePort" → "ClusterIP"' in result.stdout


def test_footprint_prints_each_component_and_the_total():
    result = review("footprint", "prod")

    assert result.exit_code == 0
    assert "istio-istiod-1-30-3" in result.stdout
    assert "4,096" in result.stdout  # two istiods of 2048Mi
    assert "total" in result.stdout


def test_the_snapshot_check_passes_on_committed_snapshots():
    result = review("snapshot")

    assert result.exit_code == 0, result.output


def test_affected_reads_changed_paths_and_prints_stacks_as_json():
    result = review("affected", stdin="Pulumi.prod.yaml\nREADME.md\n")

    assert result.exit_code == 0
    assert result.stdout.strip() == '["prod"]'


def _stack_file(tmp_path, text):
    path = tmp_path / "Pulumi.broken.yaml"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        pytest.param(lambda tmp: "qa", "error: unknown stack 'qa': there is no Pulumi.qa.yaml", id="unknown-stack"),
        pytest.param(lambda tmp: f"{tmp}/Pulumi.gone.yaml", "Pulumi.gone.yaml: no such stack file", id="missing-file"),
        pytest.param(
            lambda tmp: _stack_file(tmp, "config:\n  servicemesh:mesh: {version: [1.30.3\n"),
            "error: Pulumi.broken.yaml is not valid YAML: ",
            id="malformed-yaml",
        ),
        pytest.param(
            lambda tmp: _stack_file(tmp, "config:\n  servicemesh:environment: qa\n"),
            'error: invalid stack configuration (1 problem):\n  - servicemesh:environment = "qa"',
            id="bad-config",
        ),
    ],
)
@pytest.mark.parametrize("command", ["render", "diff", "footprint", "images"])
def test_bad_input_is_one_message_and_exit_code_2(tmp_path, command, argument, message):
    result = review(command, argument(tmp_path))

    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""
    if "invalid stack configuration" not in message:
        assert len(result.stderr.strip().splitlines()) == 1
