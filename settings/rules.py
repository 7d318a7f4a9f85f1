"""The rules that span several keys or depend on the environment, for every mesh alike; each
mesh adds its own (`mesh/<provider>/rules.py`, reached through `mesh.implementations`).

Every rule yields `ConfigProblem`s naming the full key, the value and what is allowed; the loader
reports all of them at once, before the program registers a resource.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from apps.manifests import app_labels, image_version
from mesh.implementations import implementation_of, retired_location
from settings.models import CHART_REPOSITORY, ArtifactSource, ResourceSettings, Settings
from settings.problems import NAMESPACE, ConfigProblem
from settings.stack import StackSettings

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
"""The namespaces Kubernetes creates and keeps itself; it reserves the `kube-` prefix for more."""
# A Kubernetes label value: at most 63 characters, alphanumeric at both ends.
_LABEL_VALUE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?")
_LONGEST_NAME = 63
"""A Service name and a label value, which every name derived from an app's becomes, are at most this long."""


def cross_field_problems(settings: StackSettings) -> Iterator[ConfigProblem]:
    """Every rule over a validated `StackSettings`: the shared ones, then the stack's mesh's own."""
    yield from _prod_problems(settings)
    yield from _disruption_budget_problems(settings)
    yield from _resource_problems(settings)
    yield from _system_namespace_problems(settings)
    yield from _namespace_problems(settings)
    yield from _app_problems(settings)
    yield from _app_name_problems(settings)
    yield from _label_value_problems(settings)
    yield from _ingress_problems(settings)
    yield from _reserved_port_problems(settings)
    yield from _artifact_source_problems(settings)
    yield from _retired_location_problems(settings)
    yield from _mesh_feature_problems(settings)
    yield from _observability_problems(settings)
    yield from implementation_of(settings.mesh).rules(settings)


def settings_objects(value: Any, path: str = "", *, in_use_only: bool = False) -> Iterator[tuple[str, BaseModel]]:
    """Every settings object in `value` with its dotted key (aliases, `[i]` for list items), outermost
    first; with `in_use_only`, not those under a field its owner does not use (`unused_fields`)."""
    if isinstance(value, BaseModel):
        yield path, value
        unused = value.unused_fields() if in_use_only and isinstance(value, Settings) else frozenset()
        for name, field in type(value).model_fields.items():
            if name not in unused:
                key = field.alias or name
                yield from settings_objects(
                    getattr(value, name), f"{path}.{key}" if path else key, in_use_only=in_use_only
                )
    elif isinstance(value, tuple):
        for index, item in enumerate(value):
            yield from settings_objects(item, f"{path}[{index}]", in_use_only=in_use_only)


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


def _system_namespace_problems(settings: StackSettings) -> Iterator[ConfigProblem]:
    """No namespace the stack enrols, owns or labels is one Kubernetes keeps: the stack would declare it,
    change its Pod Security level, and try to delete it on destroy."""
    mesh = settings.mesh
    namespaces = {
        **mesh.owned_namespaces(),
        "observability.namespace": settings.observability.namespace,
        **{f"mesh.injectedNamespaces[{index}]": namespace for index, namespace in enumerate(mesh.injected_namespaces)},
        **{f"apps[{index}].namespace": app.namespace for index, app in enumerate(settings.apps)},
    }
    for path, namespace in namespaces.items():
        if namespace in SYSTEM_NAMESPACES or namespace.startswith("kube-"):
            yield ConfigProblem(
                f"{NAMESPACE}:{path}",
                f"is a namespace Kubernetes keeps ({', '.join(SYSTEM_NAMESPACES)}; kube-* is reserved for more): the "
                "stack may not enrol, own or label it, and a destroy would try to delete it; use a namespace of the "
                "stack's own",
                namespace,
            )


def _namespace_problems(settings: StackSettings) -> Iterator[ConfigProblem]:
    mesh = settings.mesh
    reserved = {namespace: key for key, namespace in mesh.owned_namespaces().items()}
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


def _app_name_problems(settings: StackSettings) -> Iterator[ConfigProblem]:
    """An app's name, and every name derived from it, is its own: no other app's traffic client (whose
    objects and resource names are `<app>-client`, stack-wide), no object the mesh adds beside another app
    of its namespace (`<app>-<suffix>`) or to the namespace, and short enough for a Service and a label."""
    implementation = implementation_of(settings.mesh)
    clients = {app.client_name: index for index, app in enumerate(settings.apps)}
    suffixes = implementation.workload_name_suffixes
    longest = _LONGEST_NAME - max(len(f"-{suffix}") for suffix in ("client", *suffixes))
    for index, app in enumerate(settings.apps):
        key = f"{NAMESPACE}:apps[{index}].name"
        if app.name in clients:
            other = settings.apps[clients[app.name]]
            yield ConfigProblem(
                key,
                f"is the name of the traffic client of apps[{clients[app.name]}] ({other.name}), whose Deployment, "
                f"Service, ServiceAccount and resource names would be this app's too; app names may not end in "
                "'-client' after another app's name",
                app.name,
            )
        beside = {
            f"{other.name}-{suffix}": other_index
            for other_index, other in enumerate(settings.apps)
            if other.namespace == app.namespace
            for suffix in suffixes
        }
        if app.name in beside:
            yield ConfigProblem(
                key,
                f"is the name of an object the mesh adds beside apps[{beside[app.name]}] in namespace {app.namespace} "
                f"({settings.mesh.implementation} names them <app>-{' or <app>-'.join(suffixes)}); choose another name",
                app.name,
            )
        for name in sorted({app.name, app.client_name} & implementation.namespace_object_names):
            yield ConfigProblem(
                key,
                f"gives the app (or its traffic client) the name {name!r}, which {settings.mesh.implementation} uses "
                f"for an object of its own in every enrolled namespace (it uses "
                f"{', '.join(sorted(implementation.namespace_object_names))}); choose another name",
                app.name,
            )
        if len(app.name) > longest:
            yield ConfigProblem(
                key,
                f"is {len(app.name)} characters; at most {longest}, so that the names derived from it "
                f"(<app>-{', <app>-'.join(('client', *suffixes))}) fit the {_LONGEST_NAME} characters of a Service "
                "name and a label value",
                app.name,
            )


def _label_value_problems(settings: StackSettings) -> Iterator[ConfigProblem]:
    """An image's tag becomes the `version` label of the pods that run it, so it must be a label value."""
    for index, app in enumerate(settings.apps):
        images = {f"apps[{index}].image": (app.image, app_labels(app)["version"])}
        if app.traffic_client.enabled:
            client = app.traffic_client.image
            images[f"apps[{index}].trafficClient.image"] = (client, image_version(client))
        for path, (image, version) in images.items():
            if len(version) > _LONGEST_NAME or not _LABEL_VALUE.fullmatch(version):
                yield ConfigProblem(
                    f"{NAMESPACE}:{path}",
                    f"has the tag {version!r}, which becomes its pods' `version` label: a label value is at most "
                    f"{_LONGEST_NAME} characters of letters, digits, '-', '_' and '.', starting and ending with a "
                    "letter or digit; retag the image or pin it by digest",
                    image,
                )


def _ingress_problems(settings: StackSettings) -> Iterator[ConfigProblem]:
    """One host, one app: the gateway would route a host two apps claim to one of them only."""
    hosts: dict[str, int] = {}
    for index, app in enumerate(settings.apps):
        if app.ingress is None:
            continue
        host = app.ingress.host
        if host in hosts:
            yield ConfigProblem(
                f"{NAMESPACE}:apps[{index}].ingress.host",
                f"is already the host of apps[{hosts[host]}].ingress: the gateway would route the host to one of "
                "the two apps only; allowed: a host no other app claims",
                host,
            )
        hosts.setdefault(host, index)


def _reserved_port_problems(settings: StackSettings) -> Iterator[ConfigProblem]:
    """An app serves on none of the ports the mesh's proxies take in its pod."""
    reserved = implementation_of(settings.mesh).reserved_ports
    for index, app in enumerate(settings.apps):
        if app.port in reserved:
            yield ConfigProblem(
                f"{NAMESPACE}:apps[{index}].port",
                f"is taken in every pod of the mesh ({settings.mesh.implementation}) by {reserved[app.port]}, so the "
                f"app would never see its traffic; allowed: 1 to 65535 but {', '.join(map(str, sorted(reserved)))}",
                app.port,
            )


def artifact_sources(settings: StackSettings, *, kind: ArtifactSource | None = None) -> Iterator[tuple[str, str]]:
    """Every setting that says where the stack downloads an artifact from (of one `kind`, or any), with
    its full key; not those of settings the stack does not use."""
    for path, owner in settings_objects(settings, in_use_only=True):
        for name, field in type(owner).model_fields.items():
            if any(isinstance(item, ArtifactSource) and kind in (None, item) for item in field.metadata):
                yield f"{NAMESPACE}:{path}.{field.alias or name}", getattr(owner, name)


def _artifact_source_problems(settings: StackSettings) -> Iterator[ConfigProblem]:
    """No plain http:// source in prod; every repository login is for an https:// repository the stack uses."""
    sources = dict(artifact_sources(settings))
    if settings.environment == "prod":
        for key, source in sources.items():
            if source.startswith("http://"):
                yield ConfigProblem(
                    key,
                    "is plain http:// in prod, where anyone on the path could swap what the stack installs; "
                    "allowed: https://, oci:// or a local path",
                    source,
                )
    repositories = sorted({source for _, source in artifact_sources(settings, kind=CHART_REPOSITORY)})
    logins: dict[str, int] = {}
    for index, login in enumerate(settings.helm.repository_credentials):
        key = f"{NAMESPACE}:helm.repositoryCredentials[{index}].repository"
        if not login.repository.startswith("https://"):
            yield ConfigProblem(
                key,
                "must be an https:// chart repository: a password is never sent in plain text, a local directory "
                "needs none, and an oci:// registry takes its login from `helm registry login` where Pulumi runs",
                login.repository,
            )
        elif login.repository not in repositories:
            yield ConfigProblem(
                key,
                "is no chart repository of this stack, so the login would never be used; allowed: "
                + ", ".join(repository for repository in repositories if repository.startswith("https://")),
                login.repository,
            )
        elif login.repository in logins:
            yield ConfigProblem(
                key, f"already has a login, helm.repositoryCredentials[{logins[login.repository]}]", login.repository
            )
        logins.setdefault(login.repository, index)


def _retired_location_problems(settings: StackSettings) -> Iterator[ConfigProblem]:
    """No setting points into a location a mesh's artifacts no longer come from (a chart repository,
    an image hub, an app's image, an allowed registry), whichever mesh the stack runs."""
    for path, owner in settings_objects(settings):
        for name, field in type(owner).model_fields.items():
            key = f"{NAMESPACE}:{path + '.' if path else ''}{field.alias or name}"
            value = getattr(owner, name)
            texts = [(key, value)] if isinstance(value, str) else []
            if isinstance(value, tuple):
                texts = [(f"{key}[{index}]", item) for index, item in enumerate(value) if isinstance(item, str)]
            for text_key, text in texts:
                if retired := retired_location(text):
                    yield ConfigProblem(text_key, retired.refusal(), text)


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
