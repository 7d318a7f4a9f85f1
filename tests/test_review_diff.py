"""Given two renders, the diff names the added, removed and changed resources and fields."""

from __future__ import annotations

import copy

from review.diff import FieldChange, diff_renders, field_changes
from review.render import render_document


def test_a_stack_does_not_differ_from_itself(dev):
    changes = diff_renders(render_document(dev, "dev"), render_document(dev, "dev"))

    assert not changes.has_changes
    assert changes.unchanged == len(dev.resources)


def test_resources_of_two_stacks_are_matched_without_their_stack_name(dev, prod):
    changes = diff_renders(render_document(dev, "dev"), render_document(prod, "prod"))

    mesh_names = {"istio", "istio-base", "istio-istiod-1-30-3", "istio-gateway", "istio-mesh-mtls"}
    assert not [change for change in changes.resources if change.name in mesh_names and change.operation != "update"]
    assert "istio" not in {change.name for change in changes.resources}, "same component, same parent"


def test_dev_and_prod_differ_in_the_fields_their_stack_files_set(dev, prod):
    changes = diff_renders(render_document(dev, "dev"), render_document(prod, "prod"))
    updates = {change.name: change.fields for change in changes.resources if change.operation == "update"}

    assert FieldChange("inputs.values.autoscaleEnabled", False, True) in updates["istio-istiod-1-30-3"]
    assert FieldChange("inputs.values.service.type", "NodePort", "LoadBalancer") in updates["istio-gateway"]
    assert FieldChange("options.protect", False, True) in updates["istio-base"]
    assert FieldChange("environment", "dev", "prod") in changes.outputs


def test_added_and_removed_resources_are_creates_and_deletes(dev):
    old = render_document(dev, "dev")
    new = copy.deepcopy(old)
    removed = new["resources"].pop(0)
    added = {**copy.deepcopy(removed), "urn": removed["urn"] + "-copy", "name": "copy"}
    new["resources"].append(added)

    changes = diff_renders(old, new)

    assert [(change.operation, change.name) for change in changes.resources] == [
        ("delete", removed["name"]),
        ("create", "copy"),
    ]
    assert changes.summary() == f"Resources: 1 to create, 0 to update, 1 to delete, {len(dev.resources) - 1} unchanged"


def test_changed_fields_are_dotted_paths_with_the_old_and_the_new_value():
    old = {"spec": {"replicas": 1, "labels": {"sidecar.istio.io/inject": "true"}, "ports": [80]}}
    new = {"spec": {"replicas": 2, "labels": {}, "ports": [80, 443]}}

    assert [change.describe() for change in field_changes(old, new)] == [
        "+ spec.labels: {}",
        '- spec.labels["sidecar.istio.io/inject"]: "true"',
        "+ spec.ports[1]: 443",
        "~ spec.replicas: 1 → 2",
    ]
