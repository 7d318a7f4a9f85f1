"""Differences between two renders, in the style of `pulumi preview --diff`.

Resources are matched by their URN without the stack (`dev` and `prod` renders compare
resource by resource); changed fields are dotted paths (`inputs.values.replicaCount`) with
the old and the new value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

_ABSENT: Any = object()
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")
_SYMBOL = {"create": "+", "update": "~", "delete": "-"}


@dataclass(frozen=True)
class FieldChange:
    """One leaf value that was added, removed or changed, at a dotted path."""

    path: str
    old: Any = _ABSENT
    new: Any = _ABSENT

    def describe(self) -> str:
        if self.old is _ABSENT:
            return f"+ {self.path}: {format_value(self.new)}"
        if self.new is _ABSENT:
            return f"- {self.path}: {format_value(self.old)}"
        return f"~ {self.path}: {format_value(self.old)} → {format_value(self.new)}"


@dataclass(frozen=True)
class ResourceChange:
    """A resource that only one render has (create, delete) or whose fields differ (update)."""

    operation: Literal["create", "delete", "update"]
    type: str
    name: str
    fields: tuple[FieldChange, ...] = ()

    def describe(self) -> str:
        return f"{_SYMBOL[self.operation]} {self.type} {self.name} ({self.operation})"


@dataclass(frozen=True)
class RenderDiff:
    """Everything that differs between two renders."""

    resources: tuple[ResourceChange, ...]
    outputs: tuple[FieldChange, ...]
    unchanged: int

    @property
    def has_changes(self) -> bool:
        return bool(self.resources or self.outputs)

    def count(self, operation: str) -> int:
        return sum(change.operation == operation for change in self.resources)

    def summary(self) -> str:
        """`Resources: 1 to create, 2 to update, 0 to delete, 9 unchanged`."""
        counts = ", ".join(f"{self.count(operation)} to {operation}" for operation in _SYMBOL)
        return f"Resources: {counts}, {self.unchanged} unchanged"

    def lines(self) -> list[str]:
        """The diff as text: each changed resource with its changed fields, then the outputs."""
        lines: list[str] = []
        for change in self.resources:
            lines.append(change.describe())
            lines.extend(f"    {field.describe()}" for field in change.fields)
        if self.outputs:
            lines.append("Outputs:")
            lines.extend(f"    {field.describe()}" for field in self.outputs)
        lines.append(self.summary())
        return lines


def diff_renders(old: Mapping[str, Any], new: Mapping[str, Any]) -> RenderDiff:
    """What changes from render `old` to render `new` (both as `render_document` returns them)."""
    old_resources, new_resources = _by_urn(old), _by_urn(new)
    changes: list[ResourceChange] = []
    unchanged = 0
    for address in sorted(old_resources.keys() | new_resources.keys()):
        before, after = old_resources.get(address), new_resources.get(address)
        if before is None or after is None:
            entry = after if before is None else before
            changes.append(ResourceChange("create" if before is None else "delete", entry["type"], entry["name"]))
            continue
        fields = field_changes(before, after)
        if fields:
            changes.append(ResourceChange("update", after["type"], after["name"], fields))
        else:
            unchanged += 1
    outputs = field_changes(_stack_neutral(old, old["outputs"]), _stack_neutral(new, new["outputs"]))
    return RenderDiff(resources=tuple(changes), outputs=outputs, unchanged=unchanged)


def field_changes(old: Any, new: Any) -> tuple[FieldChange, ...]:
    """The leaves that differ between two values, by dotted path, sorted by path."""
    old_leaves, new_leaves = dict(_leaves(old)), dict(_leaves(new))
    return tuple(
        FieldChange(path, old_leaves.get(path, _ABSENT), new_leaves.get(path, _ABSENT))
        for path in sorted(old_leaves.keys() | new_leaves.keys())
        if old_leaves.get(path, _ABSENT) != new_leaves.get(path, _ABSENT)
    )


def format_value(value: Any) -> str:
    """A value as it reads in a diff: JSON scalars (`"NodePort"`, `true`, `2`), compact JSON otherwise."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _by_urn(document: Mapping[str, Any]) -> dict[str, Any]:
    return {entry["urn"]: entry for entry in _stack_neutral(document, document["resources"])}


def _stack_neutral(document: Mapping[str, Any], value: Any) -> Any:
    """`value` with the document's stack taken out of every URN in it, so that renders of
    different stacks compare (`urn:pulumi:dev::servicemesh::T::n` becomes `T::n`)."""
    stack, project = document["stack"], document["project"]
    prefix, root = f"urn:pulumi:{stack}::{project}::", f"pulumi:pulumi:Stack::{project}-{stack}"
    if isinstance(value, str):
        return value.replace(prefix, "").replace(root, "pulumi:pulumi:Stack")
    if isinstance(value, Mapping):
        return {_stack_neutral(document, key): _stack_neutral(document, item) for key, item in value.items()}
    if isinstance(value, list):
        return [_stack_neutral(document, item) for item in value]
    return value


def _leaves(value: Any, path: str = "") -> list[tuple[str, Any]]:
    """Every scalar (and empty mapping or list) in `value` with its dotted path."""
    if isinstance(value, Mapping) and value:
        return [leaf for key, item in value.items() for leaf in _leaves(item, _join(path, str(key)))]
    if isinstance(value, list) and value:
        return [leaf for index, item in enumerate(value) for leaf in _leaves(item, f"{path}[{index}]")]
    return [(path, value)]


def _join(path: str, key: str) -> str:
    if not _PLAIN_KEY.fullmatch(key):
        return f"{path}[{json.dumps(key)}]"
    return f"{path}.{key}" if path else key
