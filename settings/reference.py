"""The configuration reference table, generated from the settings models.

`python -m settings.reference` prints the Markdown that docs/configuration.md embeds between the
`config-reference` markers; a test fails when the two differ. A `resources` block, which a dozen
components have, is one row typed `resources` and described once, in its own table.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Iterator

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from settings.models import ResourceSettings, nested_model, union_members
from settings.problems import NAMESPACE
from settings.stack import StackSettings

_CHOICE = " \\| "
_TYPE_NAMES = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    type(None): "null",
    SecretStr: "secret string",
}
_CONSTRAINED_STRING_NAMES = {
    "_exact_version": "version X.Y.Z",
    "_edge_chart_version": "version YYYY.M.P",
    "_dns1123_label": "DNS-1123 label",
    "_dns1035_label": "DNS-1035 label",
    "_cpu_quantity": "CPU quantity",
    "_byte_quantity": "byte quantity",
    "_chart_repository": "URL or path",
    "_manifest_source": "URL or path",
    "_dns1123_subdomain": "DNS-1123 subdomain",
    "_pinned_image": "image reference",
    "_path_prefix": "URL path",
    "_duration": "duration",
    "_go_duration": "duration (ms, s, m, h)",
    "_https_url": "https:// URL",
    "_issuer_url": "https:// URL",
}
_RESOURCES = "[resources](#type-resources)"


def _constrained_name(metadata: list[object]) -> str | None:
    for item in metadata:
        name = getattr(getattr(item, "func", None), "__name__", "")
        if name in _CONSTRAINED_STRING_NAMES:
            return _CONSTRAINED_STRING_NAMES[name]
    return None


def _type_name(annotation: object) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        base, *metadata = typing.get_args(annotation)
        return _constrained_name(metadata) or _type_name(base)
    if origin is typing.Literal:
        return _CHOICE.join(f"`{value}`" for value in typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(argument) for argument in typing.get_args(annotation))
    if origin is tuple:
        return f"list of {_type_name(typing.get_args(annotation)[0])}"
    if origin is dict:
        key, value = typing.get_args(annotation)
        return f"map of {_type_name(key)} to {_type_name(value)}"
    if annotation is ResourceSettings:
        return _RESOURCES
    if nested_model(annotation):
        return "object"
    return _TYPE_NAMES.get(annotation, str(annotation))  # type: ignore[arg-type]


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    value = field.default_factory() if field.default_factory else field.default  # type: ignore[call-arg]
    if value is PydanticUndefined:
        return "required"
    if isinstance(value, ResourceSettings):
        return _resources_default(value)
    if isinstance(value, BaseModel):
        return "see below"
    if isinstance(value, tuple):
        value = list(value)
    return f"`{json.dumps(value)}`"


def _resources_default(resources: ResourceSettings) -> str:
    """A default `resources` block in one cell: its requests, and its limits when it has any."""
    text = f"requests `{resources.requests.cpu}` / `{resources.requests.memory}`"
    limits = resources.limits.model_dump(exclude_none=True)
    if limits:
        text += ", limits " + ", ".join(f"{name} `{value}`" for name, value in limits.items())
    return text


def _rows(model: type[BaseModel], prefix: str) -> Iterator[tuple[str, str, str, str]]:
    for name, field in model.model_fields.items():
        key = f"{prefix}{field.alias or name}"
        annotation = field.annotation
        type_name = _constrained_name(field.metadata) or _type_name(annotation)
        members = union_members(annotation)
        if members:
            yield key, "object", _default(field), field.description or ""
            yield from _union_rows(list(members.values()), f"{key}.")
            continue
        yield key, type_name, _default(field), field.description or ""
        model = nested_model(annotation)
        if model and model is not ResourceSettings:
            yield from _rows(model, f"{key}[]." if typing.get_origin(annotation) is tuple else f"{key}.")


def _union_rows(models: list[type[BaseModel]], prefix: str) -> Iterator[tuple[str, str, str, str]]:
    """The keys of every member of a tagged union, each once; the tag key lists every member's value."""
    rows: dict[str, tuple[str, str, str, str]] = {}
    for model in models:
        for row in _rows(model, prefix):
            key, type_name, default, description = rows.get(row[0], row)
            choices = type_name.split(_CHOICE)
            choices += [choice for choice in row[1].split(_CHOICE) if choice not in choices]
            rows[key] = (key, _CHOICE.join(choices), default, description)
    yield from rows.values()


def _table(rows: Iterator[tuple[str, str, str, str]]) -> list[str]:
    lines = ["| key | type | default | description |", "|---|---|---|---|"]
    lines += [f"| `{key}` | {type_name} | {default} | {description} |" for key, type_name, default, description in rows]
    return lines


def reference_table() -> str:
    """Every config key with its type, default and meaning, as a Markdown table, then the keys of
    the `resources` type, which every key of that type takes."""
    lines = _table(_rows(StackSettings, f"{NAMESPACE}:"))
    lines += ["", "### Type `resources`", "", "Every key typed `resources` takes these keys below it:", ""]
    lines += _table(_rows(ResourceSettings, ""))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(reference_table(), end="")
