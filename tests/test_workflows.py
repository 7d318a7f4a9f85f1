"""The pull-request and deploy workflows: valid for GitHub, in the order and with the guards
the review process relies on. Checked offline against the schemas check-jsonschema vendors."""

from __future__ import annotations

import re
import subprocess
import sys

import yaml
from stack_harness import PROJECT_ROOT

WORKFLOWS = PROJECT_ROOT / ".github" / "workflows"
ACTIONS = PROJECT_ROOT / ".github" / "actions"
PULUMI_ACTION = "pulumi/actions@v6"


def load(path):
    return yaml.safe_load(path.read_text())


def jobs(name):
    return load(WORKFLOWS / name)["jobs"]


def steps_using(job, action):
    return [step for step in job["steps"] if step.get("uses") == action]


def all_steps():
    for path in [*WORKFLOWS.glob("*.yml"), *ACTIONS.glob("*/action.yml")]:
        document = load(path)
        for job in document.get("jobs", {}).values():
            yield from ((path.name, step) for step in job.get("steps", []))
        yield from ((path.name, step) for step in document.get("runs", {}).get("steps", []))


def check_jsonschema(schema, files):
    command = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, *map(str, files)]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def test_workflows_and_actions_are_valid_for_github():
    workflows = check_jsonschema("vendor.github-workflows", sorted(WORKFLOWS.glob("*.yml")))
    actions = check_jsonschema("vendor.github-actions", sorted(ACTIONS.glob("*/action.yml")))

    assert workflows.returncode == 0, workflows.stdout + workflows.stderr
    assert actions.returncode == 0, actions.stdout + actions.stderr


def test_pull_requests_run_lint_tests_and_the_snapshot_check_before_previews():
    workflow = load(WORKFLOWS / "pull-request.yml")
    checks, preview = workflow["jobs"]["checks"], workflow["jobs"]["preview"]
    commands = [step.get("run", "") for step in checks["steps"]]

    assert "pull_request" in workflow[True]  # YAML reads the key `on` as true
    assert "make test" in commands
    assert ".venv/bin/python -m review snapshot" in commands
    assert preview["needs"] == "checks"


def test_each_affected_stack_is_previewed_with_the_diff_commented_on_the_pull_request():
    preview = jobs("pull-request.yml")["preview"]
    (pulumi,) = steps_using(preview, PULUMI_ACTION)

    assert preview["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.checks.outputs.stacks) }}"
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["stack-name"] == "${{ matrix.stack }}"
    assert pulumi["with"]["comment-on-pr"] is True
    assert preview["permissions"]["pull-requests"] == "write"


def test_merges_update_dev_then_staging_then_prod_each_in_its_environment():
    deploy = jobs("deploy.yml")

    assert "push" in load(WORKFLOWS / "deploy.yml")[True]
    assert [deploy[job]["needs"] for job in ("up-dev", "up-staging", "up-prod")] == ["checks", "up-dev", "up-staging"]
    assert [deploy[job]["environment"] for job in ("up-dev", "up-staging", "up-prod")] == ["dev", "staging", "prod"]
    for job, stack in (("up-dev", "dev"), ("up-staging", "staging"), ("up-prod", "prod")):
        (pulumi,) = steps_using(deploy[job], PULUMI_ACTION)
        assert (pulumi["with"]["command"], pulumi["with"]["stack-name"]) == ("up", stack)


def test_two_runs_never_update_one_stack_at_once():
    deploy = jobs("deploy.yml")
    groups = [deploy[job]["concurrency"] for job in ("up-dev", "up-staging", "up-prod")]

    assert [group["group"] for group in groups] == ["pulumi-up-dev", "pulumi-up-staging", "pulumi-up-prod"]
    assert all(group["cancel-in-progress"] is False for group in groups), "an update is never cancelled halfway"


def test_every_pulumi_step_uses_the_pinned_official_action():
    pulumi_steps = [step for _, step in all_steps() if "pulumi" in step.get("uses", "")]

    assert len(pulumi_steps) == 4
    assert {step["uses"] for step in pulumi_steps} == {PULUMI_ACTION}


def test_every_preview_and_update_runs_the_policy_pack():
    pulumi_steps = [step for _, step in all_steps() if "pulumi" in step.get("uses", "")]

    assert {step["with"]["policyPacks"] for step in pulumi_steps} == {"policy"}


def test_secrets_reach_steps_only_through_inputs_and_environment_variables():
    secret_expression = re.compile(r"\$\{\{\s*(secrets\.|secrets\[|inputs\.kubeconfig)")

    for workflow, step in all_steps():
        script = step.get("run", "")
        assert not secret_expression.search(script), f"{workflow}: a secret is expanded into a script: {script}"
        assert "set -x" not in script, f"{workflow}: tracing would print secrets"
        assert not re.search(r"echo\s+\"?\$(KUBECONFIG_CONTENT|PULUMI_CONFIG_PASSPHRASE)", script), workflow
