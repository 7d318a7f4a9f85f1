"""Reads the stack configuration into `StackSettings`, or fails with every problem named.

This is the only place that reads Pulumi config. Each problem names the full key
(`servicemesh:mesh.istiod.replicas`), the value found and what is allowed, and all of them are
reported at once, before the program registers a single resource.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.runtime.config import CONFIG, get_config_env
from pydantic import BaseModel, ValidationError

from settings.models import ScaledComponentSettings, StackSettings

NAMESPACE = "servicemesh"

_MISSING = object()

_TYPE_NAMES = {
    "int_type": "an integer",
    "int_from_float": "an integer",
    "bool_type": "a boolean (true or false)",
    "string_type": "a string",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "dict_type": "an object",
    "tuple_type": "a list",
    "list_type": "a list",
}


@dataclass(frozen=True)
class ConfigProblem:
    """One bad stack config value: where it is, what it was and what is allowed."""

    key: str
    message: str
    value: Any = _MISSING

    def __str__(self) -> str:
        if self.value is _MISSING:
            return f"{self.key}: {self.message}"
        return f"{self.key} = {json.dumps(self.value)}: {self.message}"


class ConfigError(pulumi.RunError):
    """Bad stack configuration. A RunError, so Pulumi prints the message without a traceback."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(
            f"invalid stack configuration ({len(problems)} problem{'s' if len(problems) != 1 else ''}):\n{lines}\n"
            "See the configuration reference in README.md."
        )


def read_pulumi_config() -> dict[str, Any]:
    """All config values of this project's namespace, as the engine handed them to the program."""
    values = {**get_config_env(), **CONFIG.get()}
    return {key: value for key, value in values.items() if key.startswith(f"{NAMESPACE}:")}


def load_settings(raw_config: Mapping[str, Any]) -> StackSettings:
    """Validate `namespace:key -> value` config (as the engine passes it) into `StackSettings`."""
    document: dict[str, Any] = {}
    problems: list[ConfigProblem] = []
    allowed = _allowed_keys(StackSettings)
    for full_key, value in sorted(raw_config.items()):
        key = full_key.split(":", 1)[1]
        if key not in allowed:
            problems.append(ConfigProblem(full_key, _unknown_key_message(key, allowed), value))
            continue
        try:
            document[key] = _decode(value)
        except json.JSONDecodeError as error:
            problems.append(ConfigProblem(full_key, f"is not valid structured config: {error.msg}", value))
    if problems:
        raise ConfigError(problems)

    try:
        settings = StackSettings.model_validate_json(json.dumps(document))
    except ValidationError as error:
        raise ConfigError([_problem_from_pydantic(entry) for entry in error.errors()]) from None

    problems = list(_cross_field_problems(settings))
    if problems:
        raise ConfigError(problems)
    return settings


def _decode(value: Any) -> Any:
    """Structured config reaches the program as JSON text; scalars as plain strings."""
    if isinstance(value, str) and value.lstrip().startswith(("{", "[")):
        return json.loads(value)
    return value


def _allowed_keys(model: type[BaseModel]) -> list[str]:
    return [field.alias or name for name, field in model.model_fields.items()]


def _unknown_key_message(key: str, allowed: list[str]) -> str:
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return f"unknown key; {hint}allowed keys here: {', '.join(allowed)}"


def _model_at(location: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The settings class that holds the value at `location`, for naming its allowed keys."""
    model: type[BaseModel] = StackSettings
    for part in location:
        if isinstance(part, int):
            continue
        by_alias = {field.alias or name: field for name, field in model.model_fields.items()}
        field = by_alias.get(part)
        annotation = field.annotation if field else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    return model


def _key_for(location: tuple[str | int, ...]) -> str:
    key = NAMESPACE
    for index, part in enumerate(location):
        if isinstance(part, int):
            key += f"[{part}]"
        else:
            key += (":" if index == 0 else ".") + part
    return key


def _problem_from_pydantic(entry: Mapping[str, Any]) -> ConfigProblem:
    location = tuple(entry["loc"])
    kind = entry["type"]
    value = entry.get("input", _MISSING)
    context = entry.get("ctx", {})
    if kind == "missing":
        return ConfigProblem(_key_for(location), "is required")
    if kind == "extra_forbidden":
        holder = _model_at(location[:-1])
        allowed = _allowed_keys(holder) if holder else []
        return ConfigProblem(_key_for(location), _unknown_key_message(str(location[-1]), allowed), value)
    if kind == "literal_error":
        message = f"must be one of {context['expected']}"
    elif kind in _TYPE_NAMES:
        message = f"wrong type ({type(value).__name__}); must be {_TYPE_NAMES[kind]}"
    elif kind == "greater_than_equal":
        message = f"must be an integer >= {context['ge']}"
    elif kind == "value_error":
        message = str(context["error"])
    else:
        message = entry["msg"]
    return ConfigProblem(_key_for(location), message, value)


def _cross_field_problems(settings: StackSettings) -> Iterator[ConfigProblem]:
    """Rules that span several keys, or depend on the environment."""
    mesh = settings.mesh
    if settings.environment == "prod":
        if mesh.mtls_mode != "STRICT":
            yield ConfigProblem(
                f"{NAMESPACE}:mesh.mtlsMode",
                "prod requires STRICT mutual TLS; PERMISSIVE is for migrating non-prod stacks only",
                mesh.mtls_mode,
            )
        if not mesh.protect_crds:
            yield ConfigProblem(
                f"{NAMESPACE}:mesh.protectCrds",
                "prod requires true: deleting the base chart would delete every Istio resource in the cluster",
                mesh.protect_crds,
            )

    components: dict[str, ScaledComponentSettings] = {"istiod": mesh.istiod, "gateway": mesh.gateway}
    for name, component in components.items():
        if component.pod_disruption_budget and component.min_replicas < 2:
            yield ConfigProblem(
                f"{NAMESPACE}:mesh.{name}.podDisruptionBudget",
                f"needs at least 2 replicas (replicas, or autoscaling.minReplicas when autoscaling), has "
                f"{component.min_replicas}: a budget over a single pod blocks every node drain",
                True,
            )

    resource_owners = {
        "mesh.istiod.resources": mesh.istiod.resources,
        "mesh.gateway.resources": mesh.gateway.resources,
        "mesh.proxy.resources": mesh.proxy.resources,
    }
    for path, resources in resource_owners.items():
        for resource in resources.requests_above_limits():
            yield ConfigProblem(
                f"{NAMESPACE}:{path}.requests.{resource}",
                f"request exceeds its limit {getattr(resources.limits, resource)}",
                getattr(resources.requests, resource),
            )

    reserved = {mesh.namespace: "mesh.namespace", mesh.gateway.namespace: "mesh.gateway.namespace"}
    seen: set[str] = set()
    for index, namespace in enumerate(mesh.injected_namespaces):
        key = f"{NAMESPACE}:mesh.injectedNamespaces[{index}]"
        if namespace in reserved:
            yield ConfigProblem(
                key, f"is the mesh's own namespace ({reserved[namespace]}); list workload namespaces only", namespace
            )
        elif namespace in seen:
            yield ConfigProblem(key, "is listed twice", namespace)
        seen.add(namespace)
