"""Reads the stack configuration into `StackSettings`, or fails with every problem named.

This is the only place that reads Pulumi config. Each problem names the full key
(`servicemesh:mesh.istio.istiod.replicas`), the value found and what is allowed, and all of them
are reported at once, before the program registers a single resource: first what the models
refuse, then (on a valid document) the rules across keys (`settings.rules`).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi.runtime.config import CONFIG, get_config_env
from pydantic import BaseModel, Discriminator, ValidationError

from settings.models import nested_model, union_members
from settings.problems import MISSING, NAMESPACE, ConfigError, ConfigProblem
from settings.rules import cross_field_problems
from settings.stack import StackSettings

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
        try:
            decoded = _decode(value)
        except json.JSONDecodeError as error:
            problems.append(ConfigProblem(full_key, f"is not valid structured config: {error.msg}", value))
            continue
        if key in allowed:
            document[key] = decoded
        else:
            problems.append(ConfigProblem(full_key, _unknown_key_message(key, StackSettings), decoded))

    try:
        settings = StackSettings.model_validate_json(json.dumps(document))
    except ValidationError as error:
        problems += [_problem_from_pydantic(entry) for entry in error.errors()]
    if problems:
        raise ConfigError(problems)

    problems = list(cross_field_problems(settings))
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


def _unknown_key_message(key: str, holder: type[BaseModel] | None) -> str:
    allowed = _allowed_keys(holder) if holder else []
    # Keys one level down too: a flat key from before a mesh's own keys moved under `mesh.<provider>`.
    nested = {
        name: f"{alias}.{name}"
        for alias, field_info in _fields_by_alias(holder).items()
        if (model := nested_model(field_info.annotation))
        for name in _allowed_keys(model)
    }
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    nested_close = difflib.get_close_matches(key, list(nested), n=1, cutoff=0.6)
    if key in nested or (nested_close and not close):
        close = [nested[key if key in nested else nested_close[0]]]
    hint = f"did you mean '{close[0]}'? " if close else ""
    return f"unknown key; {hint}allowed keys here: {', '.join(allowed)}"


def _fields_by_alias(model: type[BaseModel] | None) -> dict[str, Any]:
    return {field_info.alias or name: field_info for name, field_info in (model.model_fields if model else {}).items()}


@dataclass
class _Place:
    """Where a pydantic error location points: its key parts without the union tags pydantic adds,
    the settings class there (None past the settings objects), and, when that class was chosen by a
    tag, the union's other members and the key that chooses (`provider`)."""

    parts: list[str | int] = field(default_factory=list)
    model: type[BaseModel] | None = StackSettings
    tag: str | None = None
    alternatives: dict[str, type[BaseModel]] = field(default_factory=dict)
    chooser: str = ""


def _place(location: tuple[str | int, ...]) -> _Place:
    place = _Place()
    members: dict[str, type[BaseModel]] = {}
    for part in location:
        if members:
            place.model, place.tag = members.pop(str(part)), str(part)
            place.alternatives, members = members, {}
            continue
        place.parts.append(part)
        place.tag, place.alternatives = None, {}
        if isinstance(part, int) or place.model is None:
            continue
        field_info = _fields_by_alias(place.model).get(part)
        annotation = field_info.annotation if field_info else None
        members = union_members(annotation)
        if members:
            place.chooser = _chooser(field_info)
        place.model = None if members else nested_model(annotation)
    return place


def _chooser(field_info: Any) -> str:
    """The key a tagged union is chosen by: its discriminator, named after that key."""
    return next(
        (item.discriminator.__name__ for item in field_info.metadata if isinstance(item, Discriminator)), "type"
    )


def _key_for(parts: list[str | int]) -> str:
    key = NAMESPACE
    for index, part in enumerate(parts):
        if isinstance(part, int):
            key += f"[{part}]"
        else:
            key += (":" if index == 0 else ".") + part
    return key


def _problem_from_pydantic(entry: Mapping[str, Any]) -> ConfigProblem:
    location = tuple(entry["loc"])
    kind = entry["type"]
    value = entry.get("input", MISSING)
    context = entry.get("ctx", {})
    place = _place(location)
    key = _key_for(place.parts)
    if kind == "missing":
        return ConfigProblem(key, "is required")
    if kind == "union_tag_invalid":
        chooser = str(context["discriminator"]).removesuffix("()")
        first, _, last = str(context["expected_tags"]).rpartition(", ")
        expected = f"{first} or {last}" if first else last
        return ConfigProblem(_key_for([*place.parts, chooser]), f"must be one of {expected}", context["tag"])
    if kind == "extra_forbidden":
        holder = _place(location[:-1])
        name = str(location[-1])
        owners = [tag for tag, model in holder.alternatives.items() if name in _allowed_keys(model)]
        if owners:
            chooser = _key_for([*holder.parts, holder.chooser]).split(":", 1)[1]
            return ConfigProblem(
                key,
                f"applies to {chooser} {' and '.join(owners)} only; this stack's {chooser} is {holder.tag}: remove "
                "the key",
                value,
            )
        return ConfigProblem(key, _unknown_key_message(name, holder.model), value)
    if kind == "literal_error":
        message = f"must be one of {context['expected']}"
    elif kind in _TYPE_NAMES:
        message = f"wrong type ({type(value).__name__}); must be {_TYPE_NAMES[kind]}"
    elif kind == "greater_than_equal":
        message = f"must be an integer >= {context['ge']}"
    elif kind == "less_than_equal":
        message = f"must be an integer <= {context['le']}"
    elif kind == "value_error":
        message = str(context["error"])
    else:
        message = entry["msg"]
    return ConfigProblem(key, message, value)
