"""A value set with `pulumi config set --secret` stays secret end to end: wherever the program puts
it in a resource's inputs it is a secret, no error message prints it, and the offline review reads
a stack file that holds one (it cannot decrypt it, so it uses a placeholder, also secret)."""

from __future__ import annotations

import json

import pulumi
import pytest
from pulumi.runtime import rpc
from scratch_project import scratch_project
from stack_harness import PROJECT_ROOT, run_program, stack_config
from typer.testing import CliRunner

from mesh.istio.artifacts import ISTIO_CHART_REPOSITORY
from review.cli import app
from review.program import SECRET, replace_secrets
from review.stacks import EngineConfig, engine_config, read_stack_file
from settings.loader import ConfigError
from settings.secrets import REDACTED, marking_transform

CHART = "kubernetes:helm.sh/v4:Chart"
NAMESPACE = "kubernetes:core/v1:Namespace"
OBSERVABILITY = "servicemesh:observability"
HELM = "servicemesh:helm"
CIPHERTEXT = "v1:SnBvWJ0qfhRr1uHf:e4q0yXQoOtRxs3KnYxw8gvD8B9c="


def with_secret_keys(config, *keys):
    return EngineConfig(config, frozenset(keys))


def chart(run, name):
    (found,) = [resource for resource in run.of_type(CHART) if resource.inputs["chart"] == name]
    return found


def marking(run):
    """The stack transform the program registered to mark secret config values."""
    (found,) = [transform for transform in run.stack_transforms if transform.__name__ == "mark_secret_config_values"]
    return found


def as_the_engine_registers(run, resource):
    """`resource`'s inputs once the engine has applied the marking transform (the mock engine records
    stack transforms but does not run them)."""
    args = pulumi.ResourceTransformArgs(False, resource.type, resource.name, resource.inputs, pulumi.ResourceOptions())
    result = marking(run)(args)
    return resource.inputs if result is None else result.props


def redacted(value):
    return replace_secrets(value, lambda _: SECRET)


def with_a_repository_password(password="hunter2-token"):
    """dev, logging in to Istio's chart repository with a password set by `pulumi config set
    --secret --path`, which makes the engine mark all of `servicemesh:helm` secret."""
    login = {"repository": ISTIO_CHART_REPOSITORY, "username": "ci", "password": password}
    config = {**stack_config("dev"), HELM: json.dumps({"installMode": "chart", "repositoryCredentials": [login]})}
    return run_program(with_secret_keys(config, HELM), stack="dev")


def test_a_secret_field_is_marked_secret_wherever_it_flows():
    run = with_a_repository_password()

    istiod = chart(run, "istiod")
    registered = as_the_engine_registers(run, istiod)

    assert run.error is None
    assert redacted(registered["repositoryOpts"])["password"] == SECRET
    assert replace_secrets(registered, lambda plain: plain) == replace_secrets(istiod.inputs, lambda plain: plain)


def test_the_other_strings_of_a_secret_object_are_not_taken_for_secrets():
    # `ci` and `chart` are in the secret `servicemesh:helm` too; as secrets they would mark every
    # string that contains them (`istio-ingress`... `circle`), hiding most of a preview.
    run = with_a_repository_password()

    istiod = chart(run, "istiod")
    registered = as_the_engine_registers(run, istiod)

    assert redacted(registered["repositoryOpts"])["username"] == "ci"
    assert redacted(registered["values"]) == redacted(istiod.inputs["values"])


def test_inputs_holding_no_secret_value_are_left_as_they_are():
    run = with_a_repository_password()

    (sample,) = [namespace for namespace in run.of_type(NAMESPACE) if namespace.inputs["metadata"]["name"] == "sample"]
    assert as_the_engine_registers(run, sample) is sample.inputs


def test_without_secret_config_no_marking_is_registered(every_stack):
    assert "mark_secret_config_values" not in [transform.__name__ for transform in every_stack.stack_transforms]


def transform(props, *secrets):
    args = pulumi.ResourceTransformArgs(True, "kubernetes:core/v1:ConfigMap", "x", props, pulumi.ResourceOptions())
    return marking_transform(frozenset(secrets))(args)


def test_only_the_strings_that_contain_a_secret_are_marked_so_a_preview_still_shows_the_rest():
    result = transform(
        {"data": {"url": "https://reader:hunter2@mirror.example.com", "mode": "read"}, "args": ["--x", "hunter2"]},
        "hunter2",
    )

    assert result.props == {
        "data": {"url": rpc.wrap_rpc_secret("https://reader:hunter2@mirror.example.com"), "mode": "read"},
        "args": ["--x", rpc.wrap_rpc_secret("hunter2")],
    }


def test_a_key_that_contains_a_secret_makes_its_whole_object_secret():
    result = transform({"data": {"hunter2": "x"}, "kind": "ConfigMap"}, "hunter2")

    assert result.props == {"data": rpc.wrap_rpc_secret({"hunter2": "x"}), "kind": "ConfigMap"}


def test_inputs_already_secret_or_free_of_secrets_are_left_as_they_are():
    assert transform({"data": rpc.wrap_rpc_secret({"password": "hunter2"}), "count": 3}, "hunter2") is None
    assert transform({"data": {"mode": "read"}}, "hunter2") is None


def test_the_strings_of_a_secret_object_are_each_secret():
    config = {**stack_config("dev"), OBSERVABILITY: json.dumps({"kiali": {"authStrategy": "anonymous-xyz"}})}

    run = run_program(with_secret_keys(config, OBSERVABILITY), stack="dev")

    assert isinstance(run.error, ConfigError)
    assert f"{OBSERVABILITY}.kiali.authStrategy = {REDACTED}: must be one of" in str(run.error)
    assert "anonymous-xyz" not in str(run.error)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        pytest.param(OBSERVABILITY, json.dumps({"prometheus": {"retention": "hunter2"}}), id="a-bad-value"),
        pytest.param(OBSERVABILITY, json.dumps({"prometheus": {"retentoin": "hunter2"}}), id="an-unknown-key"),
        pytest.param("servicemesh:environment", "hunter2", id="a-scalar"),
        pytest.param("servicemesh:observability", '{"prometheus": hunter2', id="broken-json"),
    ],
)
def test_no_error_message_prints_a_secret_value(key, value):
    run = run_program(with_secret_keys({**stack_config("dev"), key: value}, key), stack="dev")

    assert isinstance(run.error, ConfigError)
    assert f"= {REDACTED}:" in str(run.error)
    assert "hunter2" not in str(run.error)


def stack_file_with_a_secret_password(tmp_path):
    text = (PROJECT_ROOT / "Pulumi.dev.yaml").read_text() + (
        "  servicemesh:helm:\n"
        "    repositoryCredentials:\n"
        "      - repository: https://blob.istio.io/istio-release/charts\n"
        "        username: mirror-reader\n"
        f"        password:\n          secure: {CIPHERTEXT}\n"
    )
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(text)
    return path


def test_the_review_hands_the_program_a_placeholder_for_a_secure_value_and_marks_its_key_secret(tmp_path):
    config = engine_config(read_stack_file(stack_file_with_a_secret_password(tmp_path)))

    assert config.secret_keys == {"servicemesh:helm"}
    assert json.loads(config["servicemesh:helm"])["repositoryCredentials"][0]["password"] == REDACTED
    assert CIPHERTEXT not in json.dumps(config)


def test_a_top_level_secure_value_is_the_placeholder_too(tmp_path):
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(f"config:\n  kubernetes:context:\n    secure: {CIPHERTEXT}\n  servicemesh:environment: dev\n")

    config = engine_config(read_stack_file(path))

    assert config == {"kubernetes:context": REDACTED, "servicemesh:environment": "dev"}
    assert config.secret_keys == {"kubernetes:context"}


def test_the_review_renders_a_stack_with_a_secret_and_shows_it_only_as_secret(tmp_path):
    result = CliRunner().invoke(app, ["render", str(stack_file_with_a_secret_password(tmp_path))])

    assert result.exit_code == 0, result.output
    assert "repositoryOpts: '[secret]'" in result.stdout
    assert CIPHERTEXT not in result.stdout
    assert "mirror-reader" not in result.stdout


MARKING_PROGRAM = """\
import pulumi_random as random
from settings.loader import read_pulumi_config
from settings.secrets import keep_secret_config_secret

keep_secret_config_secret(read_pulumi_config())
random.RandomString("probe", length=8, keepers={"url": "https://reader:hunter2@mirror.example.com", "mode": "read"})
"""


@pytest.mark.engine
def test_the_engine_keeps_the_marked_string_secret_in_the_preview_and_encrypted_in_the_state(tmp_path):
    project = scratch_project(tmp_path, MARKING_PROGRAM)
    project.pulumi("config", "set", "--secret", "servicemesh:password", "hunter2")

    preview = json.loads(project.pulumi("preview", "--json").stdout)
    project.pulumi("up", "--yes")
    state = json.loads(project.pulumi("stack", "export").stdout)

    (step,) = [step for step in preview["steps"] if step["urn"].endswith("::probe")]
    assert step["newState"]["inputs"]["keepers"] == {"mode": "read", "url": "[secret]"}
    (resource,) = [resource for resource in state["deployment"]["resources"] if resource["urn"].endswith("::probe")]
    assert resource["inputs"]["keepers"]["mode"] == "read"
    assert "ciphertext" in resource["inputs"]["keepers"]["url"]
    assert "hunter2" not in json.dumps(state)
