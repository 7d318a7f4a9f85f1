"""The configuration reference table, generated from the settings models.

`python -m settings.reference` prints the Markdown table that README.md embeds between the
`config-reference` markers; a test fails when the two differ.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Iterator

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from settings.loader import NAMESPACE
from settings.models import StackSettings, nested_model

_TYPE_NAMES = {str: "string", int: "integer", bool: "boolean", type(None): "null"}
_CONSTRAINED_STRING_NAMES = {
    "_exact_version": "version X.Y.Z",
    "_dns1123_label": "DNS-1123 label",
    "_quantity": "quantity",
    "_chart_repository": "URL or path",
    "_dns1123_subdomain": "DNS-1123 subdomain",
    "_pinned_image": "image reference",
    "_path_prefix": "URL path",
    "_duration": "duration",
    "_https_url": "https:// URL",
}


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
        return " \\| ".join(f"`{value}`" for value in typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(argument) for argument in typing.get_args(annotation))
    if origin is tuple:
        return f"list of {_type_name(typing.get_args(annotation)[0])}"
    if origin is dict:
        key, value = typing.get_args(annotation)
        return f"map of {_type_name(key)} to {_type_name(value)}"
    if nested_model(annotation):
        return "object"
    return _TYPE_NAMES.get(annotation, str(annotation))  # type: ignore[arg-type]


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    value = field.default_factory() if field.default_factory else field.default  # type: ignore[call-arg]
    if value is PydanticUndefined:
        return "required"
    if isinstance(value, BaseModel):
        return "see below"
    if isinstance(value, tuple):
        value = list(value)
    return f"`{json.dumps(value)}`"


def _rows(model: type[BaseModel], prefix: str) -> Iterator[tuple[str, str, str, str]]:
    for name, field in model.model_fields.items():
        key = f"{prefix}{field.alias or name}"
        annotation = field.annotation
        type_name = _constrained_name(field.metadata) or _type_name(annotation)
        yield key, type_name, _default(field), field.description or ""
        model = nested_model(annotation)
        if model:
            yield from _rows(model, f"{key}[]." if typing.get_origin(annotation) is tuple else f"{key}.")


def reference_table() -> str:
    """Every config key with its type, default and meaning, as a Markdown table."""
    lines = ["| key | type | default | description |", "|---|---|---|---|"]
    for key, type_name, default, description in _rows(StackSettings, f"{NAMESPACE}:"):
        lines.append(f"| `{key}` | {type_name} | {default} | {description} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(reference_table(), end="")
