"""Drift: what changed in the cluster outside the stack, read from `pulumi preview --refresh --json`.

A refresh reads every object of the stack's state back from the cluster; the preview that follows
then plans the steps that would bring the cluster back to what the program declares. On a stack
without code or config changes, each such step is drift: an `update` (or `replace`) names the
fields someone changed, a `create` an object someone deleted. Which fields matter for security is
not this module's knowledge: the caller passes `SecurityFields`, the Kubernetes kinds' own
(`mesh.drift.CORE_SECURITY_FIELDS`) merged with each mesh's (`mesh.implementations.SECURITY_FIELDS`).

Objects a Helm *release* installs are not in the state one by one, so their drift is invisible
here; objects of a `helm.v4.Chart` are (docs/reviewing-changes.md).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mesh.drift import SecurityFields

# How the engine names the step that undoes each kind of drift, and what that drift was.
_DRIFT_OPS = {
    "update": "changed",
    "replace": "changed (the fix replaces it)",
    "create-replacement": "changed (the fix replaces it)",
    "create": "deleted outside the stack",
}
_INDEX = re.compile(r"\[[0-9]+\]")
# The engine quotes path segments that hold dots or slashes: metadata.labels["istio.io/rev"].
_QUOTED = re.compile(r'\["((?:[^"\\]|\\.)*)"\]')
_ECHOED = 80


class DriftError(Exception):
    """A refreshed preview that could not be run or read."""


@dataclass(frozen=True, kw_only=True)
class FieldDrift:
    """One field of an object as the cluster has it (`live`) against what the stack declares (`declared`)."""

    path: str
    live: Any
    declared: Any
    security: bool


@dataclass(frozen=True, kw_only=True)
class ObjectDrift:
    """One object that differs from the stack: what happened to it, and the fields that differ."""

    group: str
    kind: str
    namespace: str
    name: str
    what: str
    fields: tuple[FieldDrift, ...]
    security: bool

    @property
    def object(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind}{'.' + self.group if self.group else ''} {where}"


@dataclass(frozen=True)
class DriftReport:
    objects: tuple[ObjectDrift, ...]

    @property
    def security(self) -> tuple[ObjectDrift, ...]:
        return tuple(drift for drift in self.objects if drift.security)

    def lines(self) -> list[str]:
        """The report as a person reads it: security findings first, each field with both values."""
        ordered = sorted(self.objects, key=lambda drift: (not drift.security, drift.object))
        lines = []
        for drift in ordered:
            mark = "SECURITY " if drift.security else ""
            lines.append(f"{mark}{drift.object}: {drift.what}")
            for field in drift.fields:
                flag = " [security]" if field.security else ""
                lines.append(f"  {field.path}: live {echo(field.live)}, declared {echo(field.declared)}{flag}")
        return lines


def drift_report(preview: Mapping[str, Any], security_fields: SecurityFields) -> DriftReport:
    """The drift in the JSON of `pulumi preview --refresh --json` on an unchanged program.

    A preview that failed planned only some objects, so a report from it would miss drift:
    DriftError instead, with the engine's errors."""
    if errors := failed_preview_errors(preview):
        raise DriftError(f"the refreshed preview failed, so it cannot tell all the drift:\n{errors}")
    return DriftReport(
        tuple(
            _object_drift(step, security_fields)
            for step in preview.get("steps", [])
            if step.get("op") in _DRIFT_OPS and _is_kubernetes_object(step)
        )
    )


def failed_preview_errors(preview: Mapping[str, Any]) -> str:
    """The engine's errors in a preview's JSON (the first five, each bounded); "" if it succeeded."""
    errors = [
        str(diagnostic.get("message", "")).strip()[:1000]
        for diagnostic in preview.get("diagnostics") or []
        if diagnostic.get("severity") == "error"
    ]
    return "\n".join(errors[:5])


def parse_preview(text: str) -> dict[str, Any]:
    """The preview's JSON document; DriftError with the start of the text when it is not one."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        raise DriftError(f"pulumi preview printed no JSON document: {text[:500]!r}") from None
    if not isinstance(document, dict) or not isinstance(document.get("steps", []), list):
        raise DriftError("pulumi preview printed JSON that is not a preview document (no list of steps)")
    return document


def _is_kubernetes_object(step: Mapping[str, Any]) -> bool:
    state = step.get("newState") or step.get("oldState") or {}
    return str(state.get("type", "")).startswith("kubernetes:") and "kind" in (state.get("inputs") or {})


def _object_drift(step: Mapping[str, Any], security_fields: SecurityFields) -> ObjectDrift:
    new, old = step.get("newState") or {}, step.get("oldState") or {}
    declared = new.get("inputs") or {}
    live = old.get("outputs") or {}
    # The API group as Kubernetes names it: "" for the core kinds (apiVersion `v1`).
    group, kind = str(declared.get("apiVersion", "")).rpartition("/")[0], declared["kind"]
    metadata = declared.get("metadata") or {}
    watched = security_fields.get((group, kind), ())
    fields = tuple(
        FieldDrift(
            path=path,
            live=_at(live, path),
            declared=_at(declared, path),
            security=_covered(path, watched),
        )
        for path in sorted((step.get("detailedDiff") or {}).keys())
    )
    deleted = step["op"] == "create"
    return ObjectDrift(
        group=group,
        kind=kind,
        namespace=str(metadata.get("namespace") or ""),
        name=str(metadata.get("name") or step.get("urn", "").rsplit("::", 1)[-1]),
        what=_DRIFT_OPS[step["op"]],
        fields=fields,
        security=any(field.security for field in fields) or (deleted and bool(watched)),
    )


def _segments(path: str) -> list[str]:
    """`webhooks[0].failurePolicy` → ["webhooks", "[0]", "failurePolicy"]; quoted keys kept whole."""
    quoted: list[str] = []

    def hold(match: re.Match[str]) -> str:
        quoted.append(match[1])
        return f".\0{len(quoted) - 1}"

    plain = _QUOTED.sub(hold, path)
    plain = re.sub(r"(\[[0-9]+\])", r".\1", plain)
    return [quoted[int(part[1:])] if part.startswith("\0") else part for part in plain.split(".") if part]


def _covered(path: str, watched: Iterable[str]) -> bool:
    """Whether `path` is one of `watched` or below it (indices match `[*]`)."""
    wildcard = _INDEX.sub("[*]", path)
    return any(
        not prefix or wildcard == prefix or wildcard.startswith((f"{prefix}.", f"{prefix}[", f'{prefix}["'))
        for prefix in watched
    )


def _at(document: Any, path: str) -> Any:
    """The value at a detailed-diff path, or None where there is none."""
    value = document
    for part in _segments(path):
        if part.startswith("[") and isinstance(value, list):
            index = int(part[1:-1])
            value = value[index] if index < len(value) else None
        elif isinstance(value, Mapping):
            value = value.get(part)
        else:
            return None
    return value


def echo(value: Any) -> str:
    """A value short enough for a log line; secrets arrive from the engine already masked."""
    text = "(none)" if value is None else json.dumps(value, sort_keys=True)
    return text if len(text) <= _ECHOED else f"{text[: _ECHOED - 1]}…"
