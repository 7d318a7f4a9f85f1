"""The rules that span several keys or depend on the environment, for every mesh alike; each
mesh adds its own (`mesh/<provider>/rules.py`, reached through `mesh.implementations`).

Every rule yields `ConfigProblem`s naming the full key, the value and what is allowed; the loader
reports all of them at once, before the program registers a resource.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from mesh.implementations import implementation_of
from settings.models import ResourceSettings
from settings.problems import NAMESPACE, ConfigProblem
from settings.stack import StackSettings


def cross_field_problems(settings: StackSettings) -> Iterator[ConfigProblem]:
    """Every rule over a validated `StackSettings`: the shared ones, then the stack's mesh's own."""
    yield from _prod_problems(settings)
    yield from _disruption_budget_problems(settings)
    yield from _resource_problems(settings)
    yield from _namespace_problems(settings)
    yield from _app_problems(settings)
    yield from _mesh_feature_problems(settings)
    yield from _observability_problems(settings)
    yield from implementation_of(settings.mesh).rules(settings)


def settings_objects(value: Any, path: str = "") -> Iterator[tuple[str, BaseModel]]:
    """Every settings object in `value` with its dotted key (aliases, `[i]` for list items), outermost first."""
    if isinstance(value, BaseModel):
        yield path, value
        for name, field in type(value).model_fields.items():
            key = field.alias or name
            yield from settings_objects(getattr(value, name), f"{path}.{key}" if path else key)
    elif isinstance(value, tuple):
        for index, item in enumerate(value):
            yield from settings_objects(item, f"{path}[{index}]")


def _prod_problems(settings: StackSettings) -> Iterator[ConfigProblem]:
    if settings.environment != "prod":
        return
    mesh = settings.mesh
    if mesh.mtls_mode != "STRICT":
        yield ConfigProblem(
            f"{NAMESPACE}:mesh.mtlsMode",
            "prod requires STRICT mutual TLS; PERMISSIVE is for migrating non-prod stacks only",
            mesh.mtls_mode,
        )
    if not mesh.protect_crds:
        yield ConfigProblem(
            f"{NAMESPACE}:mesh.protectCrds",
            "prod requires true: deleting the mesh's CRD chart would delete every resource of its kinds in the cluster",
            mesh.protect_crds,
        )
    for index, app in enumerate(settings.apps):
        if app.replicas < 2:
            yield ConfigProblem(f"{NAMESPACE}:apps[{index}].replicas", "prod requires at least 2", app.replicas)
        if not app.pod_disruption_budget:
            yield ConfigProblem(f"{NAMESPACE}:apps[{index}].podDisruptionBudget", "prod requires true", False)


def _disruption_budget_problems(settings: StackSettings) -> Iterator[ConfigProblem]:
    """Every settings object with a `podDisruptionBudget` switch, wherever it sits."""
    for path, owner in settings_objects(settings):
        if getattr(owner, "pod_disruption_budget", False):
            # The fewest replicas that run: with autoscaling its minimum, else the fixed count.
            replicas = owner.min_replicas if hasattr(owner, "min_replicas") else owner.replicas  # type: ignore[attr-defined]
            if replicas < 2:
                yield ConfigProblem(
                    f"{NAMESPACE}:{path}.podDisruptionBudget",
                    f"needs at least 2 replicas (replicas, or autoscaling.minReplicas when autoscaling), has "
                    f"{replicas}: a budget over a single pod blocks every node drain",
                    True,
                )


def _resource_problems(settings: StackSettings) -> Iterator[ConfigProblem]:
    """Every `resources` in the settings: no request above its limit."""
    for path, resources in settings_objects(settings):
        if isinstance(resources, ResourceSettings):
            for resource in resources.requests_above_limits():
                yield ConfigProblem(
                    f"{NAMESPACE}:{path}.requests.{resource}",
                    f"request exceeds its limit {getattr(resources.limits, resource)}",
                    getattr(resources.requests, resource),
                )


def _namespace_problems(settings: StackSettings) -> Iterator[ConfigProblem]:
    mesh = settings.mesh
    reserved = mesh.owned_namespaces()
    workload_namespaces = [
        *(f"mesh.injectedNamespaces[{i}]" for i in range(len(mesh.injected_namespaces))),
        *(f"apps[{i}].namespace" for i in range(len(settings.apps))),
    ]
    values = [*mesh.injected_namespaces, *(app.namespace for app in settings.apps)]
    listed: set[str] = set()
    for path, namespace in zip(workload_namespaces, values, strict=True):
        key = f"{NAMESPACE}:{path}"
        if namespace in reserved:
            yield ConfigProblem(
                key, f"is the mesh's own namespace ({reserved[namespace]}); list workload namespaces only", namespace
            )
        elif path.startswith("mesh.") and namespace in listed:
            yield ConfigProblem(key, "is listed twice", namespace)
        listed.add(namespace)


def _app_problems(settings: StackSettings) -> Iterator[ConfigProblem]:
    first_index: dict[str, int] = {}
    for index, app in enumerate(settings.apps):
        if app.name in first_index:
            yield ConfigProblem(
                f"{NAMESPACE}:apps[{index}].name",
                f"is already the name of apps[{first_index[app.name]}]; app names must be unique",
                app.name,
            )
        first_index.setdefault(app.name, index)
        if app.allowed_methods and app.protocol not in ("http", "http2", "grpc"):
            yield ConfigProblem(
                f"{NAMESPACE}:apps[{index}].allowedMethods",
                f"needs an HTTP protocol (http, http2 or grpc); apps[{index}].protocol is {app.protocol}, whose "
                "requests have no method",
                list(app.allowed_methods),
            )


def _mesh_feature_problems(settings: StackSettings) -> Iterator[ConfigProblem]:
    """What the stack's mesh does not have here is refused where the stack asks for it."""
    mesh = settings.mesh
    if not mesh.ingress_gateway:
        for index, app in enumerate(settings.apps):
            if app.ingress is not None:
                yield ConfigProblem(
                    f"{NAMESPACE}:apps[{index}].ingress",
                    f"needs an ingress gateway; this program installs none with mesh.provider {mesh.provider}: "
                    "remove it and reach the app with its portForward command",
                    app.ingress.model_dump(by_alias=True, exclude_none=True),
                )
    if not mesh.kiali_observes and settings.observability.kiali.enabled:
        yield ConfigProblem(
            f"{NAMESPACE}:observability.kiali.enabled",
            f"Kiali cannot observe mesh.provider {mesh.provider}; set false (the mesh's own dashboard is "
            f"{mesh.dashboard})",
            True,
        )


def _observability_problems(settings: StackSettings) -> Iterator[ConfigProblem]:
    """The add-ons must be wired to something that exists, and sized and secured for prod."""
    addons = settings.observability
    key = f"{NAMESPACE}:observability"
    for name in ("kiali", "grafana"):
        if getattr(addons, name).enabled and not addons.prometheus.enabled:
            yield ConfigProblem(
                f"{key}.{name}.enabled",
                "needs observability.prometheus.enabled: true, the metrics it shows come from Prometheus",
                True,
            )
    kiali = addons.kiali
    if kiali.enabled and kiali.auth_strategy == "anonymous" and settings.environment != "dev":
        yield ConfigProblem(
            f"{key}.kiali.authStrategy",
            f"anonymous access is allowed in dev only; use 'token' or 'openid' in {settings.environment}",
            kiali.auth_strategy,
        )
    if kiali.auth_strategy == "openid" and kiali.openid is None:
        yield ConfigProblem(f"{key}.kiali.openid", "is required when authStrategy is 'openid'")
    if kiali.auth_strategy != "openid" and kiali.openid is not None:
        yield ConfigProblem(
            f"{key}.kiali.authStrategy", "must be 'openid' when kiali.openid is set", kiali.auth_strategy
        )
    jaeger = addons.jaeger
    if jaeger.storage == "badger" and jaeger.persistence is None:
        yield ConfigProblem(f"{key}.jaeger.persistence", "is required with badger storage")
    if settings.environment == "prod":
        if addons.prometheus.enabled and addons.prometheus.persistence is None:
            yield ConfigProblem(f"{key}.prometheus.persistence", "is required in prod: metrics must survive a restart")
        if jaeger.enabled and jaeger.storage != "badger":
            yield ConfigProblem(
                f"{key}.jaeger.storage",
                "must be 'badger' in prod: traces in memory are lost on every restart",
                jaeger.storage,
            )
    if addons.namespace in settings.enrolled_namespaces:
        yield ConfigProblem(
            f"{key}.namespace",
            "is enrolled in the mesh; the add-ons run outside it (their pods are not injected)",
            addons.namespace,
        )
