"""The pull-request and deploy workflows: valid for GitHub, in the order and with the guards the
review process relies on, and keeping every credential out of a pull request's code unless a
reviewer approves the run (docs/security-and-policy.md, "Threat model of the workflows").
Checked offline against the schemas check-jsonschema vendors, and with actionlint where it is built."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml
from stack_harness import PROJECT_ROOT, stack_names

from review.images import ENGINE_BUILD

WORKFLOWS = PROJECT_ROOT / ".github" / "workflows"
ACTIONS = PROJECT_ROOT / ".github" / "actions"
DEPLOYS = {"up-dev": "dev", "up-staging": "staging", "up-prod": "prod"}
# What a job's steps may read from `secrets`: one name per GitHub environment, none indexed.
ENVIRONMENT_SECRETS = {"KUBECONFIG", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_BACKEND_URL"}
SECRET_REFERENCE = re.compile(r"\bsecrets(?:\.(?P<name>\w+)|\[)")
# GitHub's rule for secret names: letters, digits and underscores, not starting with a digit.
SECRET_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
USES_LINE = re.compile(r"^\s*(?:-\s*)?uses:\s*(?P<uses>\S+)(?P<comment>.*)$")
PINNED = re.compile(r"^(?P<action>[\w.-]+/[\w.-]+)@(?P<sha>[0-9a-f]{40})$")
RELEASE_COMMENT = re.compile(r"^\s+# v\d+\.\d+\.\d+$")
PREVIEW_STEP = "Stacks to preview against their clusters"


def load(path):
    return yaml.safe_load(path.read_text())


def jobs(name):
    return load(WORKFLOWS / name)["jobs"]


def triggers(name):
    return load(WORKFLOWS / name)[True]  # YAML reads the key `on` as true


def workflow_and_action_files():
    return [*sorted(WORKFLOWS.glob("*.yml")), *sorted(ACTIONS.glob("*/action.yml"))]


def all_steps():
    for path in workflow_and_action_files():
        document = load(path)
        for job in document.get("jobs", {}).values():
            yield from ((path.name, step) for step in job.get("steps", []))
        yield from ((path.name, step) for step in document.get("runs", {}).get("steps", []))


def pulumi_steps(job):
    return [step for step in job["steps"] if step.get("uses", "").startswith("pulumi/actions@")]


def secrets_read(job):
    return [match["name"] for match in SECRET_REFERENCE.finditer(json.dumps(job))]


def previews_step():
    (step,) = [step for step in jobs("pull-request.yml")["checks"]["steps"] if step.get("name") == PREVIEW_STEP]
    return step


def live_stacks():
    return json.loads(previews_step()["env"]["LIVE_STACKS"])


def check_jsonschema(schema, files):
    command = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, *map(str, files)]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def test_workflows_and_actions_are_valid_for_github():
    workflows = check_jsonschema("vendor.github-workflows", sorted(WORKFLOWS.glob("*.yml")))
    actions = check_jsonschema("vendor.github-actions", sorted(ACTIONS.glob("*/action.yml")))

    assert workflows.returncode == 0, workflows.stdout + workflows.stderr
    assert actions.returncode == 0, actions.stdout + actions.stderr


@pytest.mark.engine
def test_actionlint_finds_nothing_wrong_in_the_workflows():
    if subprocess.run([str(ENGINE_BUILD), "--check"], capture_output=True, check=False).returncode != 0:
        pytest.skip("the engine is not built (make engine builds actionlint with it)")
    engine_bin_dir = subprocess.run(
        [str(ENGINE_BUILD), "--print-bin-dir"], capture_output=True, text=True, check=True
    ).stdout.strip()

    result = subprocess.run(
        [f"{engine_bin_dir}/actionlint", "-no-color"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_pull_requests_run_lint_tests_and_the_snapshot_check_before_previews():
    workflow = jobs("pull-request.yml")
    checks, preview = workflow["checks"], workflow["preview"]
    commands = [step.get("run", "") for step in checks["steps"]]

    assert "make test" in commands
    assert ".venv/bin/python -m review snapshot" in commands
    assert preview["needs"] == "checks"


def test_pull_requests_run_with_the_branch_s_own_permissions_never_the_base_repository_s():
    # `pull_request_target` would run with the base repository's secrets and a write token.
    assert set(triggers("pull-request.yml")) == {"pull_request"}


def test_each_affected_stack_in_the_backend_is_previewed_with_the_diff_commented_on_the_pull_request():
    preview = jobs("pull-request.yml")["preview"]
    (pulumi,) = pulumi_steps(preview)

    assert preview["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.checks.outputs.previews) }}"
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["stack-name"] == "${{ matrix.stack }}"
    assert pulumi["with"]["comment-on-pr"] is True


def test_previews_never_create_a_stack():
    (pulumi,) = pulumi_steps(jobs("pull-request.yml")["preview"])

    assert pulumi["with"].get("upsert", False) is False


@pytest.fixture
def previews_for(tmp_path):
    """Runs the workflow's step that picks the stacks to preview, for a pull request changing the
    given paths: `git diff` answers with them, `review affected` is the project's own."""
    shims = tmp_path / "bin"
    shims.mkdir()
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    if shutil.which("jq") is None:
        pytest.skip("jq is not on PATH (GitHub's runners have it)")

    def run(changed_paths):
        git = shims / "git"
        git.write_text("#!/bin/sh\nprintf '%s\\n' " + " ".join(f"'{path}'" for path in changed_paths) + "\n")
        python = tmp_path / ".venv" / "bin" / "python"
        python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
        for shim in (git, python):
            shim.chmod(0o755)
        output = tmp_path / "github_output"
        output.write_text("")
        step = previews_step()
        env = {
            **os.environ,
            **step["env"],
            "BASE_SHA": "base",
            "GITHUB_OUTPUT": str(output),
            "PATH": f"{shims}{os.pathsep}{os.environ['PATH']}",
            "PYTHONPATH": str(PROJECT_ROOT),
        }
        result = subprocess.run(
            ["bash", "-eo", "pipefail", "-c", step["run"]], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        (line,) = output.read_text().splitlines()
        return json.loads(line.removeprefix("stacks=")), result.stdout

    return run


def test_a_stack_not_yet_in_the_backend_is_reviewed_offline_only(previews_for):
    assert "prod-consul" in stack_names()
    assert "prod-consul" not in live_stacks()

    previews, notices = previews_for(["Pulumi.prod.yaml", "Pulumi.prod-consul.yaml"])

    assert previews == ["prod"]
    assert "::notice::prod-consul: not in the state backend yet, reviewed offline only" in notices


def test_a_change_that_affects_no_live_stack_previews_none(previews_for):
    assert previews_for(["README.md", "snapshots/dev-linkerd.yaml"])[0] == []
    assert jobs("pull-request.yml")["preview"]["if"] == "needs.checks.outputs.previews != '[]'"


def test_every_live_stack_has_a_stack_file_and_every_deployed_stack_is_live():
    assert set(live_stacks()) <= set(stack_names())
    assert set(DEPLOYS.values()) <= set(live_stacks()), "deploy creates its stacks in the backend (upsert)"


def test_merges_update_dev_then_staging_then_prod_each_in_its_environment():
    deploy = jobs("deploy.yml")

    assert set(triggers("deploy.yml")) == {"push"}
    assert [deploy[job]["needs"] for job in DEPLOYS] == ["checks", "up-dev", "up-staging"]
    for job, stack in DEPLOYS.items():
        (pulumi,) = pulumi_steps(deploy[job])
        assert deploy[job]["environment"] == stack
        assert (pulumi["with"]["command"], pulumi["with"]["stack-name"]) == ("up", stack)
        assert pulumi["with"]["refresh"] is True, "an update puts back what changed outside the stack"


def drift_stacks():
    return jobs("drift.yml")["drift"]["strategy"]["matrix"]["stack"]


def test_drift_of_every_deployed_stack_is_checked_daily_read_only_in_its_own_environment():
    (job,) = jobs("drift.yml").values()
    commands = "\n".join(step.get("run", "") for step in job["steps"])

    assert set(triggers("drift.yml")) == {"schedule", "workflow_dispatch"}
    assert drift_stacks() == list(DEPLOYS.values())
    assert job["environment"] == "drift-${{ matrix.stack }}", "never the deploying environment, which needs approval"
    assert '.venv/bin/python -m review drift "$STACK"' in commands
    assert [step["with"]["command"] for step in pulumi_steps(job) if "with" in step] == [], "installs the CLI only"
    assert "pulumi up" not in commands
    assert "pulumi refresh" not in commands


def test_two_runs_never_update_one_stack_at_once():
    deploy = jobs("deploy.yml")
    groups = [deploy[job]["concurrency"] for job in DEPLOYS]

    assert [group["group"] for group in groups] == ["pulumi-up-dev", "pulumi-up-staging", "pulumi-up-prod"]
    assert all(group["cancel-in-progress"] is False for group in groups), "an update is never cancelled halfway"


def test_every_secret_is_read_inside_a_github_environment():
    for workflow in WORKFLOWS.glob("*.yml"):
        for name, job in jobs(workflow.name).items():
            if secrets_read(job):
                assert "environment" in job, f"{workflow.name}: job {name} reads a repository secret"


def test_pull_request_jobs_read_secrets_only_in_the_gated_preview_environment_of_their_stack():
    workflow = jobs("pull-request.yml")
    readers = {name: job.get("environment") for name, job in workflow.items() if secrets_read(job)}

    # `preview-<stack>`, never the `<stack>` environment that deploys (it admits `main` only).
    assert readers == {"preview": "preview-${{ matrix.stack }}"}


def test_secrets_have_one_valid_name_per_environment_never_a_computed_one():
    names = {name for path in workflow_and_action_files() for name in secrets_read(load(path))}

    assert names == ENVIRONMENT_SECRETS, "a name computed from a stack (secrets[...]) is not allowed"
    assert all(SECRET_NAME.match(name) and not name.startswith("GITHUB_") for name in names)


def test_the_workflow_docs_name_every_environment_to_create():
    docs = (PROJECT_ROOT / "docs" / "reviewing-changes.md").read_text()
    environments = [
        *DEPLOYS.values(),
        *(f"preview-{stack}" for stack in live_stacks()),
        *(f"drift-{stack}" for stack in drift_stacks()),
    ]

    assert [environment for environment in environments if f"`{environment}`" not in docs] == []


def test_every_action_is_pinned_by_commit_with_its_release_in_a_comment():
    pins = {}
    for path in workflow_and_action_files():
        for line in path.read_text().splitlines():
            found = USES_LINE.match(line)
            if not found or found["uses"].startswith("./"):  # a local action comes with the checkout
                continue
            pinned = PINNED.match(found["uses"])
            assert pinned, f"{path.name}: {found['uses']} is not pinned by a full commit SHA"
            assert RELEASE_COMMENT.match(found["comment"]), f"{path.name}: {line.strip()} names no release"
            pins.setdefault(pinned["action"], set()).add(line.split("@", 1)[1])

    assert set(pins) == {"actions/checkout", "actions/setup-python", "pulumi/actions"}
    assert all(len(versions) == 1 for versions in pins.values()), f"one version of each action: {pins}"


def test_every_job_declares_only_the_permissions_it_needs():
    read = {"contents": "read"}
    expected = {
        "pull-request.yml": {"checks": read, "preview": {**read, "pull-requests": "write"}},
        "deploy.yml": {"checks": read, **dict.fromkeys(DEPLOYS, read)},
        "drift.yml": {"drift": read},
    }

    for workflow, permissions in expected.items():
        assert load(WORKFLOWS / workflow)["permissions"] == {}, f"{workflow} grants nothing by default"
        assert {name: job.get("permissions") for name, job in jobs(workflow).items()} == permissions


def test_checkouts_keep_no_token_for_later_steps():
    checkouts = [step for _, step in all_steps() if step.get("uses", "").startswith("actions/checkout@")]

    assert len(checkouts) == 7
    assert all(step["with"]["persist-credentials"] is False for step in checkouts)


def test_every_pulumi_step_uses_the_one_pinned_official_action():
    steps = [step for _, step in all_steps() if "pulumi" in step.get("uses", "")]

    assert len(steps) == 5
    assert len({step["uses"] for step in steps}) == 1
    assert steps[0]["uses"].startswith("pulumi/actions@")


def test_every_preview_and_update_runs_the_policy_pack():
    steps = [step for _, step in all_steps() if "pulumi" in step.get("uses", "") and "command" in step.get("with", {})]

    assert {step["with"]["policyPacks"] for step in steps} == {"policy"}


def test_secrets_reach_steps_only_through_inputs_and_environment_variables():
    secret_expression = re.compile(r"\$\{\{\s*(secrets\.|secrets\[|inputs\.kubeconfig)")

    for workflow, step in all_steps():
        script = step.get("run", "")
        assert not secret_expression.search(script), f"{workflow}: a secret is expanded into a script: {script}"
        assert "set -x" not in script, f"{workflow}: tracing would print secrets"
        assert not re.search(r"echo\s+\"?\$(KUBECONFIG_CONTENT|PULUMI_CONFIG_PASSPHRASE)", script), workflow
