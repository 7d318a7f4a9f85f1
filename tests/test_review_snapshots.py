"""Every stack file has a committed render that matches the code: a pull request that changes
what a stack deploys shows it as a readable diff of `snapshots/<stack>.yaml`."""

from __future__ import annotations

import pytest
import yaml
from stack_harness import run_stack

from review import snapshots
from review.diff import diff_renders
from review.render import render_text
from review.snapshots import how_to_update, snapshot_path, snapshot_stacks, stale_snapshots, write_snapshots
from review.stacks import stack_names


@pytest.mark.parametrize("stack", stack_names())
def test_the_committed_snapshot_is_the_stacks_render(stack):
    render = render_text(run_stack(stack), stack)
    path = snapshot_path(stack)

    assert path.is_file(), f"snapshots/{stack}.yaml is missing: {how_to_update()}"
    if path.read_text() != render:
        changes = diff_renders(yaml.safe_load(path.read_text()), yaml.safe_load(render))
        pytest.fail(f"snapshots/{stack}.yaml is stale:\n" + "\n".join(changes.lines()) + f"\n{how_to_update()}")


def test_every_snapshot_belongs_to_a_stack_file():
    assert snapshot_stacks() == stack_names(), f"snapshots without a stack file: {how_to_update()}"


def test_the_failure_message_names_the_one_update_command():
    assert "make snapshots" in how_to_update()
    assert "python -m review snapshot --update" in how_to_update()


def test_updating_writes_changed_snapshots_and_removes_orphans(tmp_path, monkeypatch):
    monkeypatch.setattr(snapshots, "SNAPSHOT_DIR", tmp_path)
    (tmp_path / "dev.yaml").write_text("old\n")
    (tmp_path / "retired.yaml").write_text("old\n")
    (tmp_path / "prod.yaml").write_text("prod\n")
    renders = {"dev": "new\n", "prod": "prod\n"}

    assert stale_snapshots(renders) == ["dev", "retired"]
    assert write_snapshots(renders) == ["dev", "retired"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["dev.yaml", "prod.yaml"]
    assert (tmp_path / "dev.yaml").read_text() == "new\n"
    assert stale_snapshots(renders) == []
