"""Reads the stack configuration into `StackSettings`, or fails with every problem named.

This is the only place that reads Pulumi config. Each problem names the full key
(`servicemesh:mesh.istio.istiod.replicas`), the value found and what is allowed, and all of them
are reported at once, before the program registers a single resource: first what the models
refuse (and keys under a misspelling of the project's namespace), then (on a valid document) the
rules across keys (`settings.rules`), the stack name's agreement with `environment`, and that
passwords are secrets.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime.config import CONFIG, get_config_env
from pydantic import BaseModel, Discriminator, ValidationError

from settings.models import Environment, nested_model, union_members
from settings.problems import MISSING, NAMESPACE, ConfigError, ConfigProblem
from settings.rules import cross_field_problems
from settings.secrets import is_secret_key
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
    "float_type": "a number",
}
# The words of a stack name (split at anything but letters and digits) that say which environment it
# is, checked strictest first: a stack named for prod is prod (`prod`, `prod-eu`, `eu-prod2`).
_STACK_NAME_ENVIRONMENTS: dict[Environment, re.Pattern[str]] = {
    "prod": re.compile(r"(prod|production|prd)[0-9]*"),
    "staging": re.compile(r"(staging|stage|stg)[0-9]*"),
    "dev": re.compile(r"(dev|development)[0-9]*"),
}
# How close a namespace must be to the project's to be taken for a misspelling of it.
_NEAR_MISS = 0.8


def read_pulumi_config() -> dict[str, Any]:
    """All config values, of every namespace, as the engine handed them to the program."""
    return {**get_config_env(), **CONFIG.get()}


def load_settings(raw_config: Mapping[str, Any]) -> StackSettings:
    """Validate `namespace:key -> value` config (as the engine passes it) into `StackSettings`.

    Keys of other namespaces are left to their owners, but for a misspelling of the project's. The
    running stack's name must agree with `environment`, and a password must be a secret key."""
    document: dict[str, Any] = {}
    problems: list[ConfigProblem] = []
    allowed = _allowed_keys(StackSettings)
    for full_key, value in sorted(raw_config.items()):
        namespace, _, key = full_key.partition(":")
        if namespace != NAMESPACE:
            if _misspells_project_namespace(namespace):
                problems.append(
                    ConfigProblem(
                        full_key,
                        f"is under namespace {namespace!r}, which this program does not read; did you mean "
                        f"'{NAMESPACE}:{key}'? (other namespaces are left to their owners, such as kubernetes:)",
                        _shown(value),
                    )
                )
            continue
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

    problems = [
        *cross_field_problems(settings),
        *_stack_name_problems(settings, stack=pulumi.get_stack()),
        *_plain_text_password_problems(settings),
    ]
    if problems:
        raise ConfigError(problems)
    return settings


def _misspells_project_namespace(namespace: str) -> bool:
    """Whether a config namespace is a near miss of the project's (`servicmesh`, `ServiceMesh`, `servicemesh-`)."""
    folded = namespace.lower()
    return re.sub(r"[^a-z0-9]", "", folded) == NAMESPACE or (
        difflib.SequenceMatcher(None, folded, NAMESPACE).ratio() >= _NEAR_MISS
    )


def environment_named_by(stack: str) -> Environment | None:
    """The environment a stack's name says it is, if any (see `_STACK_NAME_ENVIRONMENTS`)."""
    words = re.split(r"[^a-z0-9]+", stack.lower())
    return next(
        (environment for environment, word in _STACK_NAME_ENVIRONMENTS.items() if any(map(word.fullmatch, words))),
        None,
    )


def _stack_name_problems(settings: StackSettings, *, stack: str) -> Iterator[ConfigProblem]:
    """A stack named for an environment declares that environment, so that no typo in its file turns its
    guardrails off (a stack named `prod-eu` with `environment: dev` would run without prod's checks)."""
    named = environment_named_by(stack)
    if named is not None and named != settings.environment:
        yield ConfigProblem(
            f"{NAMESPACE}:environment",
            f"does not match the stack {stack!r}, whose name says {named}; allowed: {named} (or a stack whose name "
            "says the environment it is)",
            settings.environment,
        )


def _plain_text_password_problems(settings: StackSettings) -> Iterator[ConfigProblem]:
    """A repository password is set with `--secret`, which keeps it encrypted in the stack file and the
    state (the engine marks the whole `helm` key secret when a value in it is)."""
    if is_secret_key(f"{NAMESPACE}:helm"):
        return
    for index, _ in enumerate(settings.helm.repository_credentials):
        key = f"{NAMESPACE}:helm.repositoryCredentials[{index}].password"
        yield ConfigProblem(
            key,
            f"is plain text in the stack file; set it as a secret: pulumi config set --secret --path '{key}' "
            "<password>",
        )


def _shown(value: Any) -> Any:
    """A value as a message shows it: structured config decoded, or its text when it does not decode."""
    try:
        return _decode(value)
    except json.JSONDecodeError:
        return value


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


def _place(location: tuple[str | int, ...], root: type[BaseModel] = StackSettings) -> _Place:
    place = _Place(model=root)
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


def _key_for(parts: list[str | int], namespace: str = NAMESPACE) -> str:
    key = namespace
    for index, part in enumerate(parts):
        if isinstance(part, int):
            key += f"[{part}]"
        else:
            key += (":" if index == 0 else ".") + part
    return key


_BOUNDS = {
    "greater_than_equal": ("ge", ">="),
    "less_than_equal": ("le", "<="),
    "greater_than": ("gt", ">"),
    "less_than": ("lt", "<"),
}


def _number_kind(location: tuple[str | int, ...], root: type[BaseModel]) -> str:
    """ "an integer" or "a number", by the type of the field a bound is on."""
    holder = _place(location[:-1], root).model
    field_info = _fields_by_alias(holder).get(str(location[-1]))
    return "a number" if field_info is not None and field_info.annotation is float else "an integer"


def validation_problems(error: ValidationError, *, model: type[BaseModel], namespace: str) -> list[ConfigProblem]:
    """The problems of config that `model` refused, as `load_settings` reports them, for the settings
    of another project in this repository (its config `namespace`, its settings `model`)."""
    return [_problem_from_pydantic(entry, root=model, namespace=namespace) for entry in error.errors()]


def _problem_from_pydantic(
    entry: Mapping[str, Any], *, root: type[BaseModel] = StackSettings, namespace: str = NAMESPACE
) -> ConfigProblem:
    location = tuple(entry["loc"])
    kind = entry["type"]
    value = entry.get("input", MISSING)
    context = entry.get("ctx", {})
    place = _place(location, root)
    key = _key_for(place.parts, namespace)
    if kind == "missing":
        return ConfigProblem(key, "is required")
    if kind == "union_tag_invalid":
        chooser = str(context["discriminator"]).removesuffix("()")
        first, _, last = str(context["expected_tags"]).rpartition(", ")
        expected = f"{first} or {last}" if first else last
        return ConfigProblem(_key_for([*place.parts, chooser], namespace), f"must be one of {expected}", context["tag"])
    if kind == "extra_forbidden":
        holder = _place(location[:-1], root)
        name = str(location[-1])
        owners = [tag for tag, model in holder.alternatives.items() if name in _allowed_keys(model)]
        if owners:
            chooser = _key_for([*holder.parts, holder.chooser], namespace).split(":", 1)[1]
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
    elif kind in _BOUNDS:
        bound, operator = _BOUNDS[kind]
        limit = context[bound]
        limit = int(limit) if isinstance(limit, float) and limit.is_integer() else limit
        message = f"must be {_number_kind(location, root)} {operator} {limit}"
    elif kind == "finite_number":
        message = "must be a finite number (not NaN or infinity)"
    elif kind in ("string_too_short", "too_short"):
        message = f"must be at least {context['min_length']} character(s) long"
    elif kind == "value_error":
        message = str(context["error"])
    else:
        message = entry["msg"]
    return ConfigProblem(key, message, value)
