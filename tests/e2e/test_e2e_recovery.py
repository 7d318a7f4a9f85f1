"""Recovery on the real engine: a first `pulumi up` of the dev stack killed half-way (SIGKILL to
the CLI and everything it started, as when a CI runner dies) leaves objects in the cluster and
operations pending in the state, and the state locked by the dead process. The recovery
docs/upgrades.md prescribes, `pulumi cancel` (the lock), `pulumi refresh --clear-pending-creates`
then `pulumi up`, converges: every object of the stack exists once, a
preview after it proposes nothing, and the objects made before the kill keep their UIDs (the
next apply adopts them in place, see `target_cluster.ownership`).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest
from engine.cluster import Cluster
from harness import Stack, live_objects

pytestmark = pytest.mark.e2e

# Kill once this many objects are reported created: well into the update, well before its end.
CREATED_BEFORE_KILL = 15
KILL_DEADLINE = 600


def interrupted_up(stack: Stack) -> list[str]:
    """Start `pulumi up`, SIGKILL its whole process group once enough is created; what it printed."""
    command = [stack.env["PULUMI_BIN"], "up", "--yes", "--skip-preview", "--non-interactive", "--stack", stack.name]
    process = subprocess.Popen(
        command, cwd=stack.project, env=stack.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    printed, created, deadline = [], 0, time.monotonic() + KILL_DEADLINE
    assert process.stdout is not None
    for line in process.stdout:
        printed.append(line)
        created += " created" in line
        if created >= CREATED_BEFORE_KILL or time.monotonic() > deadline:
            break
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=60)
    return printed


def pending_operations(stack: Stack) -> list[dict]:
    deployment = json.loads(stack.pulumi("stack", "export").stdout)["deployment"]
    return deployment.get("pending_operations") or []


@pytest.fixture(scope="module")
def recovered(new_stack, cluster: Cluster):
    stack = new_stack("recover", "dev")
    printed = interrupted_up(stack)
    pending = pending_operations(stack)
    before = {key: item["metadata"].get("uid") for key, item in live_objects(cluster).items()}
    locked = stack.pulumi("refresh", "--yes", "--skip-preview", check=False)
    stack.pulumi("cancel", "--yes")
    refresh = stack.pulumi("refresh", "--yes", "--skip-preview", "--clear-pending-creates")
    stack.up()
    return stack, printed, pending, before, refresh, locked


def test_the_kill_left_the_update_half_done_and_the_stack_locked(recovered):
    _, printed, pending, _, _, locked = recovered
    assert sum(" created" in line for line in printed) >= CREATED_BEFORE_KILL, "".join(printed[-20:])
    assert not any(line.startswith("Resources:") for line in printed), "the update finished before the kill"
    assert pending, "the state records the operations the kill interrupted"
    assert locked.returncode != 0
    assert "the stack is currently locked" in locked.stdout + locked.stderr


def test_the_recovery_converges(recovered):
    stack, _, _, _, refresh, _ = recovered
    assert refresh.returncode == 0
    assert pending_operations(stack) == []
    preview = stack.preview("--expect-no-changes")
    assert not preview.proposes_changes, preview.changes
    assert preview.returncode == 0, preview.output[-3000:]


def test_objects_made_before_the_kill_are_adopted_not_recreated(recovered, cluster: Cluster):
    stack, _, _, before, _, _ = recovered
    after = {key: item["metadata"].get("uid") for key, item in live_objects(cluster).items()}
    owned = stack.kubernetes_objects()
    made_before = [key for key in before if key in owned]

    assert made_before, "some of the stack's objects existed before the recovery"
    assert [key for key in made_before if after.get(key) != before[key]] == []
