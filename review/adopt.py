"""Adoption: what a first `pulumi up` would do to a cluster where the mesh already runs, installed
by `helm install` of the same charts or applied with `kubectl`, read from `pulumi preview --json`.

The stack adopts existing objects in place. The kubernetes provider applies each object with
server-side apply, which creates it when it is missing and updates it when it exists (keeping
its UID), and every object carries `pulumi.com/patchForce` (`target_cluster.ownership`), so the
fields another field manager (`helm`, `kubectl`) set become the stack's. Nothing is imported one
by one (`pulumi import` cannot reach the objects a chart renders, and refuses any difference), and
no config switch is needed: an adoption is an ordinary first `up`, reviewed with this plan first.

The plan sorts every object the preview would create into those that exist already (adopted,
with each declared value the cluster holds differently) and those that are new, and refuses
anything that would replace or delete an object (a stack with state, or an immutable field
changed), since that is not an adoption.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from review.drift import DriftError, echo, failed_preview_errors

# Pulumi's own annotations steer the provider; they are added by the adoption, not differences.
_PULUMI_ANNOTATION_PREFIX = "pulumi.com/"
_REFUSED_OPS = {"replace", "create-replacement", "delete-replaced", "delete"}

LiveObject = Callable[[str, str, str, str], Mapping[str, Any] | None]
"""(apiVersion, kind, namespace, name) → the live object, or None when the cluster has none."""


@dataclass(frozen=True, kw_only=True)
class Difference:
    path: str
    live: Any
    declared: Any


@dataclass(frozen=True, kw_only=True)
class PlannedObject:
    api_version: str
    kind: str
    namespace: str
    name: str
    differences: tuple[Difference, ...] = ()

    @property
    def object(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}" if self.namespace else f"{self.kind} {self.name}"


@dataclass(frozen=True)
class AdoptionPlan:
    adopted: tuple[PlannedObject, ...]
    new: tuple[PlannedObject, ...]
    refused: tuple[str, ...]
    """The URN and operation of each step that would replace or delete an object."""

    def lines(self) -> list[str]:
        lines = [f"REFUSED {step}" for step in self.refused]
        for planned in self.adopted:
            lines.append(f"adopt {planned.object}" + (": unchanged" if not planned.differences else ""))
            lines += [
                f"  {difference.path}: live {echo(difference.live)}, declared {echo(difference.declared)}"
                for difference in planned.differences
            ]
        lines += [f"create {planned.object}" for planned in self.new]
        return lines


def adoption_plan(preview: Mapping[str, Any], live_object: LiveObject) -> AdoptionPlan:
    """Sort the preview's steps: Kubernetes objects to create that exist (adopted, with their
    differences) or not (new), and steps that would replace or delete (refused)."""
    if errors := failed_preview_errors(preview):
        raise DriftError(f"the preview failed, so it cannot tell what the adoption does:\n{errors}")
    adopted, new, refused = [], [], []
    for step in preview.get("steps", []):
        op = step.get("op")
        if op in _REFUSED_OPS:
            refused.append(f"{op} {step.get('urn', '')}")
            continue
        declared = (step.get("newState") or {}).get("inputs") or {}
        if op != "create" or not str((step.get("newState") or {}).get("type", "")).startswith("kubernetes:"):
            continue
        if "kind" not in declared:
            continue
        metadata = declared.get("metadata") or {}
        planned = {
            "api_version": str(declared.get("apiVersion", "")),
            "kind": str(declared["kind"]),
            "namespace": str(metadata.get("namespace") or ""),
            "name": str(metadata.get("name") or ""),
        }
        live = live_object(planned["api_version"], planned["kind"], planned["namespace"], planned["name"])
        if live is None:
            new.append(PlannedObject(**planned))
        else:
            adopted.append(PlannedObject(**planned, differences=tuple(differences(declared, live))))
    return AdoptionPlan(tuple(adopted), tuple(new), tuple(refused))


def differences(declared: Any, live: Any, path: str = "") -> Iterator[Difference]:
    """Each value `declared` sets that `live` holds differently. Only what is declared counts:
    the API server's defaults and other managers' fields in `live` are not differences."""
    if isinstance(declared, Mapping):
        if not isinstance(live, Mapping):
            yield Difference(path=path, live=live, declared=declared)
            return
        for key, value in declared.items():
            if path == "metadata.annotations" and str(key).startswith(_PULUMI_ANNOTATION_PREFIX):
                continue
            yield from differences(value, live.get(key), _join(path, str(key)))
    elif isinstance(declared, list):
        if not isinstance(live, list) or len(live) != len(declared):
            yield Difference(path=path, live=live, declared=declared)
            return
        for index, (value, held) in enumerate(zip(declared, live, strict=True)):
            yield from differences(value, held, f"{path}[{index}]")
    elif declared != live and str(declared) != str(live):
        # The engine hands numbers in strings and the API server keeps ints: "8080" and 8080 agree.
        yield Difference(path=path, live=live, declared=declared)


def _join(path: str, key: str) -> str:
    if "." in key or "/" in key:
        return f'{path}["{key}"]'
    return f"{path}.{key}" if path else key
