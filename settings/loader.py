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

from settings.models import MeshSettings, ResourceSettings, StackSettings, nested_model, version_key

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
        try:
            decoded = _decode(value)
        except json.JSONDecodeError as error:
            problems.append(ConfigProblem(full_key, f"is not valid structured config: {error.msg}", value))
            continue
        if key in allowed:
            document[key] = decoded
        else:
            problems.append(ConfigProblem(full_key, _unknown_key_message(key, allowed), decoded))

    try:
        settings = StackSettings.model_validate_json(json.dumps(document))
    except ValidationError as error:
        problems += [_problem_from_pydantic(entry) for entry in error.errors()]
    if problems:
        raise ConfigError(problems)

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
        nested = nested_model(field.annotation) if field else None
        if nested is None:
            return None
        model = nested
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
    elif kind == "less_than_equal":
        message = f"must be an integer <= {context['le']}"
    elif kind == "value_error":
        message = str(context["error"])
    else:
        message = entry["msg"]
    return ConfigProblem(_key_for(location), message, value)


def _cross_field_problems(settings: StackSettings) -> Iterator[ConfigProblem]:
    """Rules that span several keys, or depend on the environment."""
    yield from _prod_problems(settings)
    yield from _disruption_budget_problems(settings)
    yield from _resource_problems(settings)
    yield from _namespace_problems(settings)
    yield from _app_name_problems(settings)
    yield from _revision_problems(settings)
    yield from _observability_problems(settings)
    yield from _provider_problems(settings)


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
            "prod requires true: deleting the base chart would delete every Istio resource in the cluster",
            mesh.protect_crds,
        )
    for index, app in enumerate(settings.apps):
        if app.replicas < 2:
            yield ConfigProblem(f"{NAMESPACE}:apps[{index}].replicas", "prod requires at least 2", app.replicas)
        if not app.pod_disruption_budget:
            yield ConfigProblem(f"{NAMESPACE}:apps[{index}].podDisruptionBudget", "prod requires true", False)


def _disruption_budget_problems(settings: StackSettings) -> Iterator[ConfigProblem]:
    controllers = settings.mesh.linkerd.controllers
    minimum_replicas = {
        "mesh.istiod": (settings.mesh.istiod.pod_disruption_budget, settings.mesh.istiod.min_replicas),
        "mesh.gateway": (settings.mesh.gateway.pod_disruption_budget, settings.mesh.gateway.min_replicas),
        "mesh.linkerd.controllers": (controllers.pod_disruption_budget, controllers.replicas),
        **{f"apps[{i}]": (app.pod_disruption_budget, app.replicas) for i, app in enumerate(settings.apps)},
    }
    for path, (budget, replicas) in minimum_replicas.items():
        if budget and replicas < 2:
            yield ConfigProblem(
                f"{NAMESPACE}:{path}.podDisruptionBudget",
                f"needs at least 2 replicas (replicas, or autoscaling.minReplicas when autoscaling), has "
                f"{replicas}: a budget over a single pod blocks every node drain",
                True,
            )


def _resource_problems(settings: StackSettings) -> Iterator[ConfigProblem]:
    mesh = settings.mesh
    owners: dict[str, ResourceSettings] = {
        "mesh.istiod.resources": mesh.istiod.resources,
        "mesh.gateway.resources": mesh.gateway.resources,
        "mesh.proxy.resources": mesh.proxy.resources,
        "mesh.ambient.ztunnel.resources": mesh.ambient.ztunnel.resources,
        "mesh.ambient.cni.resources": mesh.ambient.cni.resources,
        "mesh.linkerd.controllers.resources": mesh.linkerd.controllers.resources,
        "mesh.linkerd.proxy.resources": mesh.linkerd.proxy.resources,
        "mesh.linkerd.viz.resources": mesh.linkerd.viz.resources,
        "mesh.consul.server.resources": mesh.consul.server.resources,
        "mesh.consul.connectInject.resources": mesh.consul.connect_inject.resources,
        "mesh.consul.proxy.resources": mesh.consul.proxy.resources,
    }
    addons = settings.observability
    for name in ("prometheus", "grafana", "kiali", "jaeger"):
        owners[f"observability.{name}.resources"] = getattr(addons, name).resources
    for index, app in enumerate(settings.apps):
        owners[f"apps[{index}].resources"] = app.resources
        owners[f"apps[{index}].trafficClient.resources"] = app.traffic_client.resources
    for path, resources in owners.items():
        for resource in resources.requests_above_limits():
            yield ConfigProblem(
                f"{NAMESPACE}:{path}.requests.{resource}",
                f"request exceeds its limit {getattr(resources.limits, resource)}",
                getattr(resources.requests, resource),
            )


def _namespace_problems(settings: StackSettings) -> Iterator[ConfigProblem]:
    reserved = _control_plane_namespaces(settings.mesh)
    mesh = settings.mesh
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


def _app_name_problems(settings: StackSettings) -> Iterator[ConfigProblem]:
    first_index: dict[str, int] = {}
    for index, app in enumerate(settings.apps):
        if app.name in first_index:
            yield ConfigProblem(
                f"{NAMESPACE}:apps[{index}].name",
                f"is already the name of apps[{first_index[app.name]}]; app names must be unique",
                app.name,
            )
        first_index.setdefault(app.name, index)


def _revision_problems(settings: StackSettings) -> Iterator[ConfigProblem]:
    """Revisions, tags and the references to them must describe a safe control-plane state."""
    mesh = settings.mesh
    key = f"{NAMESPACE}:mesh"
    references = {
        f"{key}.injectionRevision": mesh.injection_revision,
        f"{key}.gateway.revision": mesh.gateway.revision,
        **{f"{key}.namespaceRevisions.{namespace}": ref for namespace, ref in mesh.namespace_revisions.items()},
    }
    if not mesh.revisioned:
        unused = {
            **references,
            f"{key}.revisionTags": mesh.revision_tags or None,
            f"{key}.defaultRevision": mesh.default_revision,
        }
        for path, value in unused.items():
            if value is not None:
                yield ConfigProblem(path, "needs mesh.revisions: no control-plane revision is declared", value)
        return

    names = [revision.name for revision in mesh.revisions]
    for index, revision in enumerate(mesh.revisions):
        if revision.name in names[:index]:
            yield ConfigProblem(
                f"{key}.revisions[{index}].name",
                f"is already the name of mesh.revisions[{names.index(revision.name)}]; revision names must be unique",
                revision.name,
            )
        if version_key(revision.version) > version_key(mesh.version):
            yield ConfigProblem(
                f"{key}.revisions[{index}].version",
                f"is newer than mesh.version {mesh.version}: the CRDs (base chart) must be at least as new as every "
                "control plane, so raise mesh.version first",
                revision.version,
            )
        newest_before = max((version_key(r.version) for r in mesh.revisions[:index]), default=None)
        if newest_before and version_key(revision.version) < newest_before and not mesh.allow_downgrade:
            yield ConfigProblem(
                f"{key}.revisions[{index}].version",
                "is older than a revision listed before it: a downgrade; list revisions oldest first, or set "
                "mesh.allowDowngrade: true for a deliberate rollback",
                revision.version,
            )

    declared = ", ".join(names)
    for tag, target in mesh.revision_tags.items():
        if tag in names:
            yield ConfigProblem(f"{key}.revisionTags.{tag}", "a tag may not have the name of a revision", target)
        elif target not in names:
            yield ConfigProblem(
                f"{key}.revisionTags.{tag}",
                f"points at a revision that is not declared (declared: {declared}); declare it, or move the tag "
                "before removing the revision",
                target,
            )
    if mesh.default_revision is not None and mesh.default_revision not in names:
        yield ConfigProblem(
            f"{key}.defaultRevision", f"is not a declared revision (declared: {declared})", mesh.default_revision
        )

    if mesh.injection_revision is None:
        yield ConfigProblem(f"{key}.injectionRevision", "is required when mesh.revisions are declared")
    allowed = ", ".join([*mesh.revision_tags, *names])
    for path, reference in references.items():
        if reference is not None and reference not in mesh.revision_tags and reference not in names:
            yield ConfigProblem(
                path,
                f"names neither a revision tag nor a revision (allowed: {allowed}); a namespace or gateway may not "
                "use a removed revision",
                reference,
            )
    enrolled = set(settings.enrolled_namespaces)
    for namespace in mesh.namespace_revisions:
        if namespace not in enrolled:
            yield ConfigProblem(
                f"{key}.namespaceRevisions.{namespace}",
                "is not an enrolled namespace (mesh.injectedNamespaces or an app's namespace)",
                namespace,
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


# Keys of `mesh` that configure one implementation only; setting one for another is a mistake.
_IMPLEMENTATION_KEYS: dict[str, tuple[str, ...]] = {
    "dataplane": ("istio-sidecar", "istio-ambient"),
    "ambient": ("istio-ambient",),
    "linkerd": ("linkerd",),
    "consul": ("consul",),
    "trust_domain": ("istio-sidecar", "istio-ambient", "linkerd"),
    **{
        key: ("istio-sidecar", "istio-ambient")
        for key in (
            "version",
            "chart_repository",
            "image_hub",
            "namespace",
            "revisions",
            "revision_tags",
            "default_revision",
            "injection_revision",
            "namespace_revisions",
            "allow_downgrade",
            "istiod",
            "gateway",
            "proxy",
        )
    },
}


def _control_plane_namespaces(mesh: MeshSettings) -> dict[str, str]:
    """The namespaces the chosen mesh implementation owns, each with the key that names it."""
    if mesh.provider == "linkerd":
        return {
            mesh.linkerd.namespace: "mesh.linkerd.namespace",
            mesh.linkerd.viz_namespace: "mesh.linkerd.vizNamespace",
        }
    if mesh.provider == "consul":
        return {mesh.consul.namespace: "mesh.consul.namespace"}
    return {mesh.namespace: "mesh.namespace", mesh.gateway.namespace: "mesh.gateway.namespace"}


def _provider_problems(settings: StackSettings) -> Iterator[ConfigProblem]:
    """Each key applies to the implementations that have the feature; what one cannot do is refused."""
    mesh = settings.mesh
    key = f"{NAMESPACE}:mesh"
    implementation = mesh.implementation
    for field_name in sorted(mesh.model_fields_set):
        applies_to = _IMPLEMENTATION_KEYS.get(field_name)
        if applies_to and implementation not in applies_to:
            alias = MeshSettings.model_fields[field_name].alias or field_name
            yield ConfigProblem(
                f"{key}.{alias}",
                f"applies to {' and '.join(applies_to)} only; this stack's mesh is {implementation} "
                "(mesh.provider, mesh.dataplane): remove the key",
                _plain(getattr(mesh, field_name)),
            )
    if mesh.mtls_mode == "DISABLE" and implementation != "istio-sidecar":
        reasons = {
            "istio-ambient": "ztunnel always speaks mTLS (HBONE) between ambient pods; Istio ambient does not "
            "support DISABLE",
            "linkerd": "Linkerd always uses mTLS between meshed pods",
            "consul": "Consul always uses mTLS between connect-injected services",
        }
        yield ConfigProblem(
            f"{key}.mtlsMode", f"{reasons[implementation]}; allowed: STRICT or PERMISSIVE", mesh.mtls_mode
        )
    if implementation == "istio-ambient" and mesh.revisions:
        yield ConfigProblem(
            f"{key}.revisions",
            "Istio ambient upgrades in place here: every revision would share one ztunnel and istio-cni; "
            "remove mesh.revisions (and the keys that refer to them) or use dataplane: sidecar",
            [revision.name for revision in mesh.revisions],
        )
    if mesh.provider != "istio":
        for index, app in enumerate(settings.apps):
            if app.ingress is not None:
                yield ConfigProblem(
                    f"{NAMESPACE}:apps[{index}].ingress",
                    f"needs Istio's ingress gateway; this program installs none with {mesh.provider}: remove "
                    "it and reach the app with its portForward command",
                    app.ingress.model_dump(by_alias=True, exclude_none=True),
                )
        if settings.observability.kiali.enabled:
            yield ConfigProblem(
                f"{NAMESPACE}:observability.kiali.enabled",
                f"Kiali observes Istio only; set false with mesh.provider {mesh.provider} (its dashboard is "
                f"{'linkerd-viz' if mesh.provider == 'linkerd' else 'the Consul UI'})",
                True,
            )
    certificates = mesh.linkerd.certificates
    if certificates.issuer_validity_hours >= certificates.trust_anchor_validity_hours:
        yield ConfigProblem(
            f"{key}.linkerd.certificates.issuerValidityHours",
            f"must be shorter than trustAnchorValidityHours ({certificates.trust_anchor_validity_hours}): the "
            "issuer cannot outlive the anchor that signs it",
            certificates.issuer_validity_hours,
        )
    if mesh.provider == "consul" and settings.helm.install_mode != "release":
        yield ConfigProblem(
            f"{NAMESPACE}:helm.installMode",
            "the consul chart creates its TLS CA and gossip key in Helm hooks, which 'chart' mode never runs "
            "(the servers would wait for them forever); allowed with mesh.provider consul: release",
            settings.helm.install_mode,
        )
    for index, app in enumerate(settings.apps):
        if app.allowed_methods and app.protocol not in ("http", "http2", "grpc"):
            yield ConfigProblem(
                f"{NAMESPACE}:apps[{index}].allowedMethods",
                f"needs an HTTP protocol (http, http2 or grpc); apps[{index}].protocol is {app.protocol}, whose "
                "requests have no method",
                list(app.allowed_methods),
            )
    if mesh.provider == "consul":
        consul = mesh.consul
        for path, resources in {
            "server.resources": consul.server.resources,
            "connectInject.resources": consul.connect_inject.resources,
        }.items():
            for limit in ("cpu", "memory"):
                if getattr(resources.limits, limit) is None:
                    yield ConfigProblem(
                        f"{key}.consul.{path}.limits.{limit}",
                        "is required: the consul chart otherwise keeps its own small default limit, which a larger "
                        "request would exceed",
                    )
    servers = mesh.consul.server.replicas
    if mesh.provider == "consul" and servers % 2 == 0:
        yield ConfigProblem(
            f"{key}.consul.server.replicas",
            f"must be odd (1, 3 or 5): {servers} Raft peers tolerate no more failures than {servers - 1}",
            servers,
        )
    if settings.environment == "prod":
        if mesh.provider == "consul" and servers < 3:
            yield ConfigProblem(
                f"{key}.consul.server.replicas",
                "prod requires at least 3 servers: a quorum that survives one loss",
                servers,
            )
        if mesh.provider == "linkerd" and mesh.linkerd.controllers.replicas < 2:
            yield ConfigProblem(
                f"{key}.linkerd.controllers.replicas",
                "prod requires at least 2 (high availability)",
                mesh.linkerd.controllers.replicas,
            )


def _plain(value: Any) -> Any:
    """A settings value as the user wrote it, for an error message."""
    if isinstance(value, BaseModel):
        return value.model_dump(by_alias=True, exclude_none=True)
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    return value
