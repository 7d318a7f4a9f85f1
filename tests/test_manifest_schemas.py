"""Every object the program creates is valid for the API server that will receive it.

Kubernetes objects are checked offline against the OpenAPI schema of the oldest Kubernetes
version Istio 1.30 supports, in strict mode (an unknown field is an error); Istio custom
resources against the OpenAPI schema of Istio's own CRDs, equally strict.
"""

from __future__ import annotations

import functools
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from reference_data import ISTIO, MISSING_REASON
from stack_harness import stack_names, stack_run

MINIMUM_KUBERNETES = "1.32.0"
NOT_OBJECTS = ("kubernetes:helm.sh/",)


def as_manifest(resource) -> dict[str, Any]:
    """The object as sent to the API server (integers travel through Pulumi's wire as floats)."""
    return _integral_floats_as_ints(resource.inputs)


def _integral_floats_as_ints(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _integral_floats_as_ints(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_integral_floats_as_ints(item) for item in value]
    return value


def is_built_in(resource_type: str) -> bool:
    """A built-in Kubernetes kind (`kubernetes:apps/v1:Deployment`), not a custom resource of a mesh
    or of the Gateway API, and not one of the provider's own components (Helm, YAML files)."""
    if not resource_type.startswith("kubernetes:") or resource_type.startswith(NOT_OBJECTS):
        return False
    group = resource_type.split(":")[1].split("/")[0]
    return "." not in group and group != "yaml"


def kubernetes_objects(run):
    return [resource for resource in run.resources if is_built_in(resource.type)]


def istio_objects(run):
    return [resource for resource in run.resources if ".istio.io/" in resource.type]


def test_every_kubernetes_object_validates_strictly(every_stack):
    objects = kubernetes_objects(every_stack)

    assert objects
    for resource in objects:
        kubernetes_validate.validate(as_manifest(resource), MINIMUM_KUBERNETES, strict=True)


def test_strict_validation_rejects_an_unknown_field(dev):
    manifest = as_manifest(dev.named("app-httpbin-deployment"))
    manifest["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}

    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(manifest, MINIMUM_KUBERNETES, strict=True)


@functools.cache
def istio_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """Strict JSON schemas of Istio's CRDs by (apiVersion, kind)."""
    schemas = {}
    for crd in yaml.load_all((ISTIO / "crd-all.gen.yaml").read_text(), Loader=yaml.CSafeLoader):
        if not crd:
            continue
        for version in crd["spec"]["versions"]:
            api_version = f"{crd['spec']['group']}/{version['name']}"
            schemas[(api_version, crd["spec"]["names"]["kind"])] = _strict(version["schema"]["openAPIV3Schema"])
    return schemas


def _strict(schema: Any) -> Any:
    """Forbid fields a schema does not declare, as the API server's strict field validation does."""
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    strict = {key: _strict(value) for key, value in schema.items()}
    if "properties" in schema and not schema.get("x-kubernetes-preserve-unknown-fields"):
        strict.setdefault("additionalProperties", False)
    return strict


@pytest.mark.skipif(not ISTIO.is_dir(), reason=MISSING_REASON)
@pytest.mark.parametrize(
    "stack", [stack for stack in stack_names() if stack_run(stack).outputs["mesh"].startswith("istio")]
)
def test_every_istio_resource_validates_against_istios_crd_schema(stack):
    resources = istio_objects(stack_run(stack))

    assert resources
    for resource in resources:
        manifest = as_manifest(resource)
        schema = istio_schemas()[(manifest["apiVersion"], manifest["kind"])]
        jsonschema.Draft7Validator(schema).validate({"spec": manifest["spec"]})


@pytest.mark.skipif(not ISTIO.is_dir(), reason=MISSING_REASON)
def test_the_istio_schema_check_rejects_an_unknown_field(dev):
    manifest = as_manifest(dev.named("app-httpbin-route"))
    manifest["spec"]["http"][0]["routes"] = []
    schema = istio_schemas()[(manifest["apiVersion"], manifest["kind"])]

    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(schema).validate({"spec": manifest["spec"]})
