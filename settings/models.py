"""The typed, immutable settings a stack is built from.

Every stack config key under the project namespace maps to one field here, but a mesh's own
keys (`mesh.<provider>.*`), which map to the models in its folder (`mesh/<provider>/settings.py`),
built from this kit; `settings.stack` puts them together. Field descriptions
and defaults are the contract: docs/configuration.md's reference is generated from them
(`python -m settings.reference`) and a test keeps the two equal.
"""

from __future__ import annotations

import math
import re
import types
import typing
from abc import abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    Tag,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from settings.artifacts import (
    GRAFANA_CHART_REPOSITORY,
    GRAFANA_CHART_VERSION,
    JAEGER_CHART_REPOSITORY,
    JAEGER_CHART_VERSION,
    KIALI_CHART_REPOSITORY,
    KIALI_CHART_VERSION,
    PROMETHEUS_CHART_REPOSITORY,
    PROMETHEUS_CHART_VERSION,
)
from settings.quantities import MAX_QUANTITY, is_quantity, parse_quantity

PROJECT_ROOT = Path(__file__).resolve().parent.parent
"""Where Pulumi runs the program: what a relative local chart or manifest path is relative to."""

INT32_MAX = 2**31 - 1
"""The largest integer any setting takes: Kubernetes holds replicas, ports and counts in int32."""

_NANOSECONDS = {"ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}
_NANOSECONDS |= {"d": 24 * _NANOSECONDS["h"], "w": 7 * 24 * _NANOSECONDS["h"], "y": 365 * 24 * _NANOSECONDS["h"]}
GO_DURATION_MAX_HOURS = (2**63 - 1) // _NANOSECONDS["h"]
"""2,562,047: Go's `time.Duration` counts int64 nanoseconds, and Prometheus' retention, Jaeger's and
the tls provider's certificate lifetimes are computed in it; anything longer overflows."""

# Every pattern is matched whole (`fullmatch`: `$` would also accept a trailing newline) and spelled
# with ASCII classes (`\d` would accept any Unicode digit).
_VERSION_NUMBER = r"(0|[1-9][0-9]{0,8})"
_EXACT_VERSION = re.compile(rf"{_VERSION_NUMBER}\.{_VERSION_NUMBER}\.{_VERSION_NUMBER}")
_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
_DURATION = re.compile(r"(?P<amount>[1-9][0-9]*)(?P<unit>ms|s|m|h|d|w|y)")
_IMAGE_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_IMAGE_DIGEST = re.compile(r"sha256:[a-f0-9]{64}")
_HOST_AND_PORT = r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:[0-9]{1,5})?"
# In a URL the host may also be an IPv6 literal in brackets (an API server on a v6-only network).
_URL_HOST_AND_PORT = rf"({_HOST_AND_PORT}|\[[0-9A-Fa-f:.]{{2,45}}\](:[0-9]{{1,5}})?)"
# A repository path component as the distribution spec allows it.
_PATH_COMPONENT = r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*"
# A registry host (optionally with a port), then path components.
_IMAGE_NAME = re.compile(rf"({_HOST_AND_PORT}/)?{_PATH_COMPONENT}(/{_PATH_COMPONENT})*")
_IMAGE_HUB = re.compile(
    rf"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[0-9]{{1,5}})?(/{_PATH_COMPONENT})*"
)
# An absolute URL path: segments of RFC 3986 path characters (unreserved, sub-delims, ':', '@' and
# %-escapes), none empty, without query or fragment.
_URL_PATH_SEGMENT = r"([A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2})+"
_URL_PATH = re.compile(rf"/({_URL_PATH_SEGMENT}(/{_URL_PATH_SEGMENT})*/?)?")
# https://, a host (and port), and a path of URL characters that are inert inside a double-quoted shell word.
_HTTPS_FOLDER_URL = re.compile(rf"https://{_HOST_AND_PORT}(/[A-Za-z0-9._~%+,;=:@-]*)*")
# A remote location: a scheme, a host (and port) without credentials, a path; no query or fragment.
_REMOTE_URL = re.compile(rf"(?P<scheme>https|http|oci)://{_URL_HOST_AND_PORT}(/[A-Za-z0-9._~!$&'()*+,;=:@%-]*)*")
_LONGEST_URL = 2048
_LONGEST_IMAGE_NAME = 255


def _exact_version(value: str) -> str:
    if not _EXACT_VERSION.fullmatch(value):
        raise ValueError(
            "must be an exact version X.Y.Z (no range, no 'v' prefix, no leading zeros, ASCII digits), e.g. 1.30.3"
        )
    return value


def _dns1123_label(value: str) -> str:
    if len(value) > 63 or not _DNS1123_LABEL.fullmatch(value):
        raise ValueError(
            "must be a DNS-1123 label: at most 63 characters of lower-case letters, digits and '-',"
            " starting and ending with a letter or digit"
        )
    return value


def _dns1035_label(value: str) -> str:
    if len(value) > 63 or not _DNS1035_LABEL.fullmatch(value):
        raise ValueError(
            "must be a DNS-1035 label, as a Service name is: at most 63 characters of lower-case letters, digits "
            "and '-', starting with a letter and ending with a letter or digit"
        )
    return value


def _dns1123_subdomain(value: str) -> str:
    labels = value.split(".")
    if len(value) > 253 or not all(len(label) <= 63 and _DNS1123_LABEL.fullmatch(label) for label in labels):
        raise ValueError(
            "must be a DNS-1123 subdomain: at most 253 characters of dot-separated labels, each at most 63 "
            "lower-case letters, digits and '-', starting and ending with a letter or digit"
        )
    return value


def _pinned_image(value: str) -> str:
    """An image reference pinned by tag (not `latest`) or by digest."""
    name, at, digest = value.partition("@")
    path, _, last_segment = name.rpartition("/")
    repository_tail, colon, tag = last_segment.partition(":")
    repository = f"{path}/{repository_tail}" if path else repository_tail
    if (
        len(repository) > _LONGEST_IMAGE_NAME
        or not _IMAGE_NAME.fullmatch(repository)
        or (at and not _IMAGE_DIGEST.fullmatch(digest))
        or (colon and not _IMAGE_TAG.fullmatch(tag))
    ):
        raise ValueError("must be an image reference such as 'docker.io/org/name:1.2.3' or 'name@sha256:<64 hex>'")
    if not tag and not digest:
        raise ValueError("must pin the image by tag or digest; an untagged image means 'latest'")
    if tag == "latest" and not digest:
        raise ValueError("must pin the image by a version tag or digest, not 'latest'")
    return value


def _path_prefix(value: str) -> str:
    segments = value.split("/")
    if len(value) > _LONGEST_URL or not _URL_PATH.fullmatch(value) or "." in segments or ".." in segments:
        raise ValueError(
            "must be an absolute URL path starting with '/': segments of letters, digits, "
            "\"-._~!$&'()*+,;=:@\" and %XX escapes, with no space, query ('?'), fragment ('#'), empty, '.' or "
            "'..' segment, e.g. '/api/'"
        )
    return value


def _bounded_duration(match: re.Match[str]) -> None:
    amount, unit = match["amount"], match["unit"]
    if len(amount) > 19 or int(amount) * _NANOSECONDS[unit] > GO_DURATION_MAX_HOURS * _NANOSECONDS["h"]:
        raise ValueError(
            f"must be at most {GO_DURATION_MAX_HOURS}h (about 292 years), the longest duration Go represents"
        )


def _duration(value: str) -> str:
    """A duration as Prometheus reads it."""
    match = _DURATION.fullmatch(value)
    if match is None:
        raise ValueError("must be a duration such as '6h', '15d' or '90m' (units ms, s, m, h, d, w, y)")
    _bounded_duration(match)
    return value


def _go_duration(value: str) -> str:
    """A duration as Go's `time.ParseDuration` reads it, which knows no days, weeks or years."""
    match = _DURATION.fullmatch(value)
    if match is None or match["unit"] not in ("ms", "s", "m", "h"):
        raise ValueError(
            "must be a duration such as '72h', '90m' or '30s' (units ms, s, m, h; Go durations have no d, w or y, "
            "so 7 days is '168h')"
        )
    _bounded_duration(match)
    return value


def _number_as_quantity(value: object) -> object:
    """A quantity written as a YAML number (`cpu: 1`, `cpu: 0.5`), which the engine passes as a number,
    in the text form Kubernetes reads; any other input is left to the quantity's own validation."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must be a finite number or a Kubernetes quantity such as '100m' or '128Mi'")
    return repr(value)


def _quantity_amount(value: str, examples: str) -> Decimal:
    if not is_quantity(value):
        raise ValueError(f"must be a Kubernetes quantity such as {examples}")
    amount = parse_quantity(value)
    if amount > MAX_QUANTITY:
        raise ValueError(
            f"is too large: at most {MAX_QUANTITY:f} (about 8 PiB for memory), as Kubernetes counts a quantity in "
            "thousandths in an int64"
        )
    return amount


def _cpu_quantity(value: str) -> str:
    cores = _quantity_amount(value, "'100m', '0.5' or 2")
    if cores * 1000 % 1:
        raise ValueError("is finer than a millicore (1m = 0.001), the smallest CPU amount Kubernetes counts")
    return value


def _byte_quantity(value: str) -> str:
    if value.endswith("m") and is_quantity(value):
        raise ValueError(
            "is in millibytes ('m' means milli, not mega): memory and storage are counted in bytes; use Mi or Gi "
            "(or M, G), e.g. '128Mi'"
        )
    size = _quantity_amount(value, "'128Mi', '1Gi' or '500M'")
    if size % 1:
        raise ValueError("is not a whole number of bytes; use a unit such as Ki, Mi or Gi, e.g. '1.5Gi'")
    return value


# `<organization>/<project>/<stack>`, in full: a StackReference to a shorter name reads a stack of the project
# that names it, never the other project's it means (the trust stack, a cluster stack of the link).
_STACK_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}(/[A-Za-z0-9][A-Za-z0-9_.-]{0,99}){2}")


def _stack_reference(value: str) -> str:
    if not _STACK_REFERENCE.fullmatch(value):
        raise ValueError(
            "must name a stack as <organization>/<project>/<stack> (e.g. organization/servicemesh/prod-east; "
            "ASCII letters, digits, '_', '.', '-')"
        )
    return value


def _has_credentials(url: str) -> bool:
    """Whether a URL names a user (and password) before its host: `https://user:password@host/`."""
    return "@" in url.partition("://")[2].split("/", 1)[0]


def _exists(path: Path, exists: Callable[[Path], bool]) -> bool:
    """Whether `path` (relative to the project) exists as `exists` asks; a name the system cannot
    hold (a NUL, too long) does not."""
    try:
        return exists(path if path.is_absolute() else PROJECT_ROOT / path)
    except (OSError, ValueError):
        return False


def _remote_or_local(value: str, *, what: str, local: str, exists: Callable[[Path], bool]) -> str:
    """A remote https://, http:// or oci:// location (its scheme spelled exactly so, so that no other
    spelling is taken for a local path), or a local path that `exists` (relative to the project)."""
    allowed = f"an https:// or oci:// {what}, an http:// one (outside prod), or an existing local {local}"
    scheme, separator, rest = value.partition("://")
    if separator:
        if _has_credentials(value):
            raise ValueError(
                "embeds credentials (user:password@) in the URL, where every preview and the state would show "
                "them; put them in secret config (see helm.repositoryCredentials)"
            )
        if scheme == "file":
            value = rest
        elif len(value) > _LONGEST_URL or not _REMOTE_URL.fullmatch(value):
            spelled = f"scheme {scheme!r} is not allowed (schemes are compared exactly, in lower case)"
            known = scheme in ("https", "http", "oci")
            problem = "has a host or path that is not a plain URL (no query or fragment)" if known else spelled
            raise ValueError(f"{problem}; allowed: {allowed}")
        else:
            return value
    if not value.strip() or not _exists(Path(value), exists):
        raise ValueError(f"is not {allowed}: no such {local} here")
    return value


def _chart_repository(value: str) -> str:
    _remote_or_local(value, what="chart repository URL or registry path", local="directory", exists=Path.is_dir)
    return value.rstrip("/") or value


def _manifest_source(value: str) -> str:
    return _remote_or_local(value, what="URL of the manifest", local="file", exists=Path.is_file)


def _image_hub(value: str) -> str:
    """A registry path images are pulled from as `<hub>/<name>:<tag>`, such as `docker.io/library`."""
    if len(value) > _LONGEST_IMAGE_NAME or not _IMAGE_HUB.fullmatch(value):
        raise ValueError(
            "must be a registry path without scheme, tag or digest, such as 'docker.io/library' or "
            "'mirror.example.com:5000/library'"
        )
    return value


def _https_url(value: str) -> str:
    """An https:// URL of a folder that files are fetched from, by a shell script in the chart, so
    limited to characters that need no quoting."""
    if _has_credentials(value):
        raise ValueError("embeds credentials (user:password@) in the URL; use a folder that needs none")
    if len(value) > _LONGEST_URL or not _HTTPS_FOLDER_URL.fullmatch(value):
        raise ValueError(
            "must be an https:// URL of a folder, without query or fragment (TLS is verified; each file's name "
            "is appended), e.g. 'https://mirror.example.com/dashboards/1.30.3'"
        )
    return value.rstrip("/")


def _plain_https_url(value: str, *, refusal: str, with_credentials: str) -> str:
    """An https:// URL, whole and ASCII, without credentials, query or fragment; else `refusal`, or
    `with_credentials` for one that embeds a user or password."""
    if _has_credentials(value):
        raise ValueError(f"embeds credentials (user:password@) in the URL; {with_credentials}")
    match = _REMOTE_URL.fullmatch(value) if len(value) <= _LONGEST_URL else None
    if match is None or match["scheme"] != "https":
        raise ValueError(refusal)
    return value


def _issuer_url(value: str) -> str:
    """An OpenID Connect issuer: https only, without query or fragment (OpenID Connect Discovery 1.0)."""
    return _plain_https_url(
        value,
        refusal="must be an https:// URL without query or fragment, as OpenID Connect requires of an issuer, e.g. "
        "'https://login.example.com/realms/mesh'",
        with_credentials="an issuer URL carries none",
    )


def _api_server_url(value: str) -> str:
    """The address of a Kubernetes API server, as a kubeconfig's `server` names it."""
    allowed = (
        "the https:// address of the cluster's API server, without credentials, query or fragment, e.g. "
        "'https://api.east.example.com:6443'"
    )
    return _plain_https_url(value, refusal=f"must be {allowed}", with_credentials=f"allowed: {allowed}").rstrip("/")


@dataclass(frozen=True)
class ArtifactSource:
    """Marks a setting that says where the stack downloads an artifact from: a chart repository or a
    manifest."""

    kind: str


CHART_REPOSITORY = ArtifactSource("chart repository")
MANIFEST = ArtifactSource("manifest")


def nested_model(annotation: object) -> type[BaseModel] | None:
    """The settings class inside a field's annotation (`Model`, `Model | None`, `tuple[Model, ...]`)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (tuple, typing.Union, types.UnionType):
        models = [model for argument in typing.get_args(annotation) if (model := nested_model(argument))]
        return models[0] if models else None
    return None


def union_members(annotation: object) -> dict[str, type[BaseModel]]:
    """The settings classes of a tagged union (`Annotated[Model, Tag(...)] | ...`) by tag; empty for
    any other annotation."""
    if typing.get_origin(annotation) not in (typing.Union, types.UnionType):
        return {}
    members = {}
    for argument in typing.get_args(annotation):
        if typing.get_origin(argument) is Annotated:
            model, *metadata = typing.get_args(argument)
            members.update({item.tag: model for item in metadata if isinstance(item, Tag)})
    return members


ExactVersion = Annotated[str, AfterValidator(_exact_version)]
StackReferenceName = Annotated[str, AfterValidator(_stack_reference)]
DnsLabel = Annotated[str, AfterValidator(_dns1123_label)]
ServiceName = Annotated[str, AfterValidator(_dns1035_label)]
DnsSubdomain = Annotated[str, AfterValidator(_dns1123_subdomain)]
PinnedImage = Annotated[str, AfterValidator(_pinned_image)]
PathPrefix = Annotated[str, AfterValidator(_path_prefix)]
Duration = Annotated[str, AfterValidator(_duration)]
GoDuration = Annotated[str, AfterValidator(_go_duration)]
CpuQuantity = Annotated[str, BeforeValidator(_number_as_quantity), AfterValidator(_cpu_quantity)]
ByteQuantity = Annotated[str, BeforeValidator(_number_as_quantity), AfterValidator(_byte_quantity)]
ChartRepository = Annotated[str, AfterValidator(_chart_repository), CHART_REPOSITORY]
ManifestSource = Annotated[str, AfterValidator(_manifest_source), MANIFEST]
ImageHub = Annotated[str, AfterValidator(_image_hub)]
HttpsUrl = Annotated[str, AfterValidator(_https_url)]
IssuerUrl = Annotated[str, AfterValidator(_issuer_url)]
ApiServerUrl = Annotated[str, AfterValidator(_api_server_url)]
Environment = Literal["dev", "staging", "prod"]
MtlsMode = Literal["STRICT", "PERMISSIVE", "DISABLE"]
ServiceType = Literal["ClusterIP", "NodePort", "LoadBalancer"]
AppProtocol = Literal["http", "http2", "grpc", "tcp"]
HttpMethod = Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
InstallMode = Literal["chart", "release"]
KialiAuthStrategy = Literal["anonymous", "token", "openid"]
JaegerStorage = Literal["memory", "badger"]


class Settings(BaseModel):
    """Base of every settings object: immutable, strict types, unknown keys rejected, numbers finite
    and integers within int32."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        strict=True,
        alias_generator=to_camel,
        validate_default=True,
        allow_inf_nan=False,
    )

    @field_validator("*")
    @classmethod
    def _within_int32(cls, value: object) -> object:
        """Every integer setting, whatever its own bounds: nothing the stack sets counts beyond int32."""
        if type(value) is int and value > INT32_MAX:
            raise ValueError(f"must be an integer <= {INT32_MAX} (int32, as Kubernetes counts)")
        if type(value) is int and value < -INT32_MAX - 1:
            raise ValueError(f"must be an integer >= {-INT32_MAX - 1} (int32, as Kubernetes counts)")
        return value

    def unused_fields(self) -> frozenset[str]:
        """The fields (by name) whose settings this stack does not use, such as the settings of a mode
        it does not run in: nothing they name is downloaded."""
        return frozenset()


class ComputeQuantities(Settings):
    cpu: CpuQuantity = Field(description="CPU quantity, e.g. `100m`, `0.5` or `2`.")
    memory: ByteQuantity = Field(description="Memory quantity in bytes, e.g. `128Mi` (not `128m`: millibytes).")


class OptionalComputeQuantities(Settings):
    cpu: CpuQuantity | None = Field(default=None, description="CPU limit; unset leaves the chart's default.")
    memory: ByteQuantity | None = Field(default=None, description="Memory limit; unset leaves the chart's default.")


class ResourceSettings(Settings):
    requests: ComputeQuantities = Field(description="Resource requests (both cpu and memory required).")
    limits: OptionalComputeQuantities = Field(default_factory=OptionalComputeQuantities, description="Resource limits.")

    def as_manifest(self) -> dict[str, dict[str, str]]:
        """The `resources` block of a container spec."""
        manifest: dict[str, dict[str, str]] = {"requests": self.requests.model_dump()}
        limits = self.limits.model_dump(exclude_none=True)
        if limits:
            manifest["limits"] = limits
        return manifest

    def requests_above_limits(self) -> list[str]:
        """Names of the resources whose request exceeds their limit."""
        return [
            name
            for name in ("cpu", "memory")
            if getattr(self.limits, name) is not None
            and parse_quantity(getattr(self.requests, name)) > parse_quantity(getattr(self.limits, name))
        ]


def default_resources(
    cpu: str, memory: str, cpu_limit: str | None = None, memory_limit: str | None = None
) -> Callable[[], ResourceSettings]:
    def build() -> ResourceSettings:
        return ResourceSettings(
            requests=ComputeQuantities(cpu=cpu, memory=memory),
            limits=OptionalComputeQuantities(cpu=cpu_limit, memory=memory_limit),
        )

    return build


class AutoscalingSettings(Settings):
    enabled: bool = Field(default=False, description="Run a HorizontalPodAutoscaler instead of a fixed replica count.")
    min_replicas: int = Field(default=1, ge=1, description="Fewest replicas the autoscaler keeps.")
    max_replicas: int = Field(default=5, ge=1, description="Most replicas the autoscaler runs.")

    @model_validator(mode="after")
    def _min_not_above_max(self) -> AutoscalingSettings:
        if self.min_replicas > self.max_replicas:
            raise ValueError(f"minReplicas ({self.min_replicas}) must not exceed maxReplicas ({self.max_replicas})")
        return self


class ScaledComponentSettings(Settings):
    """Replicas, autoscaling, disruption budget and resources of one Deployment."""

    replicas: int = Field(default=1, ge=1, description="Replica count when autoscaling is off.")
    autoscaling: AutoscalingSettings = Field(default_factory=AutoscalingSettings, description="Autoscaling.")
    pod_disruption_budget: bool = Field(
        default=False,
        description="Keep at least one pod through voluntary disruptions; needs 2 or more replicas.",
    )

    @property
    def min_replicas(self) -> int:
        """The fewest replicas that run at any time."""
        return self.autoscaling.min_replicas if self.autoscaling.enabled else self.replicas


PROVIDER_DESCRIPTION = (
    "Which mesh implements the stack; it selects the mesh's own keys, `mesh.<provider>.*`. Apps, mTLS, "
    "authorization, observability and outputs are declared the same way for each."
)


class MeshWideSettings(Settings):
    """The keys every mesh has (`mesh.*`); each mesh adds its own under `mesh.<provider>`, beside a
    `provider` literal that selects it."""

    provider: str = Field(description=PROVIDER_DESCRIPTION)
    trust_domain: DnsSubdomain = Field(
        default="cluster.local",
        description="The mesh's trust domain: the first part of every workload's SPIFFE identity.",
    )
    mtls_mode: MtlsMode = Field(
        default="STRICT",
        description="Mesh-wide mutual TLS: `STRICT` (only mTLS), `PERMISSIVE` (plain text accepted too, while "
        "migrating) or `DISABLE` (plain text only; the meshes that always encrypt refuse it). Prod requires `STRICT`.",
    )
    access_logging: bool = Field(default=False, description="Proxy access logs to the proxies' stdout.")
    protect_crds: bool = Field(
        default=False,
        description="Protect the mesh's CRD chart and keep its CRDs when the stack is destroyed; prod requires `true`.",
    )
    injected_namespaces: tuple[DnsLabel, ...] = Field(
        default=(), description="Extra namespaces the platform enrols in the mesh (labelled or annotated for it)."
    )
    certificate_warning_days: int = Field(
        default=30,
        ge=0,
        le=3650,
        description="`pulumi preview` and `up` warn of every CA and certificate the stack makes (and of a plug-in "
        "root read from a trust stack) that expires within this many days; 0 warns of expired ones only.",
    )

    ingress_gateway: ClassVar[bool] = False
    """Whether the program installs an ingress gateway with this mesh (for `apps[].ingress`)."""
    kiali_observes: ClassVar[bool] = False
    """Whether Kiali understands this mesh."""
    dashboard: ClassVar[str]
    """The console that shows this mesh, for messages."""

    @property
    def implementation(self) -> str:
        """The provider, and a mesh's variant where it has several (`istio-ambient`)."""
        return self.provider

    @abstractmethod
    def owned_namespaces(self) -> dict[str, str]:
        """The namespaces the mesh installs itself into, by the key that names each."""


class IngressSettings(Settings):
    host: DnsSubdomain = Field(description="Host name the ingress gateway routes to the app.")
    path_prefix: PathPrefix = Field(default="/", description="URL path prefix routed to the app.")
    tls_secret: DnsSubdomain | None = Field(
        default=None,
        description="Serve HTTPS with this TLS Secret (in the gateway namespace) instead of plain HTTP.",
    )


class TrafficClientSettings(Settings):
    enabled: bool = Field(default=False, description="Run a client that calls the app in a loop.")
    image: PinnedImage = Field(default="docker.io/curlimages/curl:8.16.0", description="Client image, pinned.")
    path: PathPrefix = Field(default="/get", description="Path the client requests.")
    requests_per_minute: int = Field(default=60, ge=1, le=6000, description="How often the client calls.")
    resources: ResourceSettings = Field(
        default_factory=default_resources("5m", "16Mi", "50m", "32Mi"), description="Client container resources."
    )


class AppSettings(Settings):
    name: ServiceName = Field(
        description="App name: its Deployment, Service and ServiceAccount (mesh identity); its traffic client is "
        "`<name>-client`."
    )
    namespace: DnsLabel = Field(description="Namespace of the app; enrolled in the mesh.")
    image: PinnedImage = Field(
        default="docker.io/mccutchen/go-httpbin:v2.18.3",
        description="Container image, pinned by tag or digest (`latest` is refused).",
    )
    port: int = Field(default=8080, ge=1, le=65535, description="Port the container serves on.")
    protocol: AppProtocol = Field(
        default="http", description="`appProtocol` of the Service port (how the mesh's proxies pick the protocol)."
    )
    health_path: PathPrefix = Field(
        default="/status/200", description="HTTP path of the readiness and liveness probes."
    )
    replicas: int = Field(default=1, ge=1, description="Replica count; prod requires at least 2.")
    pod_disruption_budget: bool = Field(
        default=False, description="Keep at least one pod through voluntary disruptions; prod requires it."
    )
    read_only_root_filesystem: bool = Field(
        default=True, description="Mount the root filesystem read-only (turn off only for images that write to it)."
    )
    resources: ResourceSettings = Field(
        default_factory=default_resources("10m", "32Mi", "200m", "64Mi"), description="App container resources."
    )
    ingress: IngressSettings | None = Field(
        default=None, description="Route from the mesh's ingress gateway (with a mesh that has one); none by default."
    )
    allowed_methods: tuple[HttpMethod, ...] = Field(
        default=(),
        description="HTTP methods the app's callers may use; empty allows any. An L7 rule: a mesh without "
        "sidecars enforces it at an L7 proxy (a waypoint) it adds to the namespace.",
    )
    traffic_client: TrafficClientSettings = Field(
        default_factory=TrafficClientSettings, description="A traffic generator calling the app."
    )

    @property
    def service_account(self) -> str:
        return self.name

    @property
    def client_name(self) -> str:
        return f"{self.name}-client"


class AuthorizationSettings(Settings):
    default_deny: bool = Field(
        default=False,
        description="Add an `allow-nothing` AuthorizationPolicy to every enrolled namespace, so only what an "
        "app's own policy allows gets through.",
    )


class RepositoryCredentials(Settings):
    # Where a login is for, not something the stack downloads: not marked `CHART_REPOSITORY`.
    repository: Annotated[str, AfterValidator(_chart_repository)] = Field(
        description="The https:// chart repository they log in to, exactly as its `chartRepository` key names it."
    )
    username: str = Field(min_length=1, description="User name.")
    password: SecretStr = Field(
        min_length=1,
        description="Password or token, set as a secret: `pulumi config set --secret --path "
        "'servicemesh:helm.repositoryCredentials[0].password' <password>`; a plain-text password is refused.",
    )


class HelmSettings(Settings):
    install_mode: InstallMode = Field(
        default="chart",
        description="`chart`: per-object `helm.v4.Chart` (a preview diff per Kubernetes object). `release`: "
        "`helm.v3.Release` (Helm-native releases: `helm ls`, rollback, three-way merges).",
    )
    release_timeout_seconds: int = Field(
        default=600, ge=30, le=3600, description="In `release` mode: how long Helm waits for a release to be ready."
    )
    repository_credentials: tuple[RepositoryCredentials, ...] = Field(
        default=(),
        description="Logins for private https:// chart repositories, each sent to its own repository only. For an "
        "oci:// registry, log in with `helm registry login` where Pulumi runs; a URL with credentials is refused.",
    )

    def credentials_for(self, repository: str) -> RepositoryCredentials | None:
        """The login for a chart repository, if the stack has one."""
        return next((login for login in self.repository_credentials if login.repository == repository), None)


class PersistenceSettings(Settings):
    size: ByteQuantity = Field(description="PersistentVolumeClaim size, e.g. `20Gi`.")
    storage_class: DnsSubdomain | None = Field(default=None, description="StorageClass; the cluster default if unset.")


class AddonSettings(Settings):
    """What every add-on has: a switch, a pinned chart from a repository, and resources."""

    enabled: bool = Field(default=True, description="Install this add-on.")
    chart_repository: ChartRepository = Field(description="Repository of the add-on's chart.")
    chart_version: ExactVersion = Field(description="The add-on's chart version.")


class PrometheusSettings(AddonSettings):
    chart_repository: ChartRepository = Field(
        default=PROMETHEUS_CHART_REPOSITORY, description="Repository of the `prometheus` chart."
    )
    chart_version: ExactVersion = Field(default=PROMETHEUS_CHART_VERSION, description="`prometheus` chart version.")
    retention: Duration = Field(default="6h", description="How long Prometheus keeps samples.")
    persistence: PersistenceSettings | None = Field(
        default=None, description="Keep samples on a volume; in memory (an emptyDir) if unset. prod requires it."
    )
    resources: ResourceSettings = Field(
        default_factory=default_resources("50m", "256Mi", None, "1Gi"), description="Prometheus server resources."
    )


class GrafanaDashboardSettings(Settings):
    enabled: bool = Field(
        default=True,
        description="Provision the dashboards the mesh publishes for Grafana (with a mesh that publishes some).",
    )
    base_url: HttpsUrl | None = Field(
        default=None,
        description="Where Grafana downloads the dashboards from when its pod starts: an https:// folder holding "
        "the mesh's dashboard files under their published names (e.g. a mirror of where the mesh publishes them "
        "for its release). TLS is verified and redirects are followed. Unset: where the mesh publishes them for "
        "the installed release.",
    )
    config_map: DnsSubdomain | None = Field(
        default=None,
        description="A ConfigMap in the add-ons' namespace holding the dashboards' JSON files, one `*.json` key "
        "per dashboard (`kubectl create configmap <name> --from-file=<folder>`), mounted into Grafana, so nothing is "
        "downloaded: for air-gapped clusters. Grafana's pod waits for it to exist. Exclusive with `baseUrl`.",
    )

    @model_validator(mode="after")
    def _one_source(self) -> GrafanaDashboardSettings:
        if self.base_url is not None and self.config_map is not None:
            raise ValueError(
                "baseUrl and configMap are mutually exclusive: set baseUrl to download the dashboards from a "
                "mirror, or configMap to mount them from a ConfigMap, not both"
            )
        sources = [key for key, value in (("baseUrl", self.base_url), ("configMap", self.config_map)) if value]
        if sources and not self.enabled:
            raise ValueError(f"{' and '.join(sources)} has no effect with enabled: false; remove it")
        return self


class GrafanaSettings(AddonSettings):
    chart_repository: ChartRepository = Field(
        default=GRAFANA_CHART_REPOSITORY, description="Repository of the `grafana` chart."
    )
    chart_version: ExactVersion = Field(default=GRAFANA_CHART_VERSION, description="`grafana` chart version.")
    admin_user: DnsLabel = Field(default="admin", description="Grafana admin user; its password is generated.")
    persistence: PersistenceSettings | None = Field(
        default=None, description="Keep Grafana's database on a volume; none if unset."
    )
    dashboards: GrafanaDashboardSettings = Field(
        default_factory=GrafanaDashboardSettings, description="The mesh's dashboards, and where Grafana gets them."
    )
    resources: ResourceSettings = Field(
        default_factory=default_resources("10m", "64Mi", None, "256Mi"), description="Grafana resources."
    )


class OpenIdSettings(Settings):
    issuer_uri: IssuerUrl = Field(description="OpenID Connect issuer URL (https://).")
    client_id: str = Field(min_length=1, description="OpenID Connect client id registered for Kiali.")


class KialiSettings(AddonSettings):
    chart_repository: ChartRepository = Field(
        default=KIALI_CHART_REPOSITORY, description="Repository of the `kiali-server` chart."
    )
    chart_version: ExactVersion = Field(default=KIALI_CHART_VERSION, description="`kiali-server` chart version.")
    auth_strategy: KialiAuthStrategy = Field(
        default="token",
        description="How users log in: `anonymous` (dev only), `token` (a Kubernetes token) or `openid`.",
    )
    openid: OpenIdSettings | None = Field(default=None, description="OpenID Connect settings for `openid`.")
    resources: ResourceSettings = Field(
        default_factory=default_resources("10m", "64Mi", None, "1Gi"), description="Kiali resources."
    )


class JaegerSettings(AddonSettings):
    chart_repository: ChartRepository = Field(
        default=JAEGER_CHART_REPOSITORY, description="Repository of the `jaeger` chart."
    )
    chart_version: ExactVersion = Field(default=JAEGER_CHART_VERSION, description="`jaeger` chart version (Jaeger v2).")
    storage: JaegerStorage = Field(
        default="memory",
        description="`memory`: traces in memory, lost on restart. `badger`: traces on a volume (`persistence`).",
    )
    max_traces: int = Field(default=50000, ge=1, description="With `memory` storage: how many traces are kept.")
    retention: GoDuration = Field(default="72h", description="With `badger` storage: how long traces are kept.")
    persistence: PersistenceSettings | None = Field(default=None, description="The volume for `badger` storage.")
    resources: ResourceSettings = Field(
        default_factory=default_resources("10m", "128Mi", None, "1Gi"), description="Jaeger resources."
    )


class TracingSettings(Settings):
    sampling_percentage: float = Field(
        default=1.0, ge=0, le=100, description="Percentage of requests traced, mesh-wide (Telemetry API)."
    )


class ObservabilitySettings(Settings):
    # A namespace of their own, whichever the mesh: until 2026-12 the default was Istio's system namespace
    # (docs/upgrades.md says how a stack file that left the key out keeps its add-ons where they are).
    namespace: DnsLabel = Field(default="observability", description="Namespace of the add-ons.")
    tracing: TracingSettings = Field(default_factory=TracingSettings, description="Mesh-wide tracing.")
    prometheus: PrometheusSettings = Field(default_factory=PrometheusSettings, description="Prometheus.")
    grafana: GrafanaSettings = Field(default_factory=GrafanaSettings, description="Grafana.")
    kiali: KialiSettings = Field(default_factory=KialiSettings, description="Kiali.")
    jaeger: JaegerSettings = Field(default_factory=JaegerSettings, description="Jaeger (v2).")


class ClusterSettings(Settings):
    api_server_only: bool = Field(
        default=False,
        description="The cluster is a bare API server without nodes (the end-to-end tests): nothing waits for "
        "pods to become ready, and Helm releases run none of their hook Jobs. Never set it for a real cluster.",
    )
    # Read by the policy pack (`container-image-registry-allowed`), which judges every image a preview shows.
    allowed_registries: tuple[ImageHub, ...] = Field(
        default=(),
        description="Registries, or registry paths such as `quay.io/prometheus`, that images must come from: the "
        "policy pack refuses a pod template with any other (not the images a mesh injects at admission, which it "
        "does not see). Empty: any registry.",
    )
