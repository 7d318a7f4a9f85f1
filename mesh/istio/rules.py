"""Istio's rules over keys that depend on each other: revisions, tags and the references to them,
and what the ambient data plane cannot do (among it, for now, span clusters)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from mesh.istio.manifests import ALLOW_NOTHING_POLICY_NAME, HBONE_PORT, WAYPOINT_NAME
from mesh.istio.settings import (
    OLDEST_RELEASES,
    IstioMeshSettings,
    IstioSettings,
    IstioTrustSettings,
    TrustRootSettings,
    oldest_release_for,
    version_key,
)
from settings.problems import NAMESPACE, ConfigProblem
from settings.secrets import is_secret_key

if TYPE_CHECKING:
    from settings.stack import StackSettings

_KEY = f"{NAMESPACE}:mesh.istio"

RESERVED_PORTS = {
    15000: "Envoy's admin interface (sidecars)",
    15001: "Envoy's outbound listener (sidecars) and ztunnel's outbound capture (ambient)",
    15004: "the Istio agent's debug interface",
    15006: "Envoy's inbound listener (sidecars) and ztunnel's inbound plain-text capture (ambient)",
    HBONE_PORT: "HBONE, the mTLS tunnel of ztunnel, waypoints and sidecars",
    15020: "the Istio agent's merged Prometheus metrics",
    15021: "the Istio agent's health checks",
    15053: "the DNS proxy of the Istio agent and ztunnel",
    15090: "Envoy's Prometheus metrics",
}
"""What listens inside a pod of the mesh, by port (istio.io, "Ports used by Istio")."""
# An app's policy for its waypoint's identity (ambient, with L7 rules) is `<app>-waypoint`; the
# namespace holds the default-deny policy and the waypoint (a Gateway, whose Deployment, Service and
# ServiceAccount istiod names after it).
WORKLOAD_NAME_SUFFIXES = (WAYPOINT_NAME,)
NAMESPACE_OBJECT_NAMES = frozenset({ALLOW_NOTHING_POLICY_NAME, WAYPOINT_NAME})


def problems(settings: StackSettings) -> Iterator[ConfigProblem]:
    mesh = settings.mesh
    assert isinstance(mesh, IstioMeshSettings)
    yield from _version_problems(mesh)
    yield from _dataplane_problems(mesh)
    yield from _revision_problems(mesh, enrolled=set(settings.enrolled_namespaces))
    yield from _trust_problems(mesh.istio.trust)
    yield from _multi_cluster_problems(mesh.istio)


def _multi_cluster_problems(istio: IstioSettings) -> Iterator[ConfigProblem]:
    """Clusters form one mesh only if they trust one root: istiod's self-signed root is its cluster's own."""
    if istio.multi_cluster is not None and istio.trust.ca != "plugin":
        yield ConfigProblem(
            f"{_TRUST}.ca",
            "must be plugin when mesh.istio.multiCluster is set: the clusters of one mesh share one root, and "
            "istiod's self-signed root is its own cluster's; allowed: plugin, with the root of a trust stack shared by "
            "every cluster (docs/trust.md)",
            istio.trust.ca,
        )


_TRUST = f"{_KEY}.trust"
_ROOT_SOURCES = (
    "{stack: <organization>/servicemesh-trust/<stack>} (a trust stack, see trust/) or the organisation's own root "
    "{certificatePem, privateKeyPem} with the key set as a secret"
)
# What a PEM private key starts and ends with (PKCS#1 `RSA`, SEC 1 `EC`, or PKCS#8).
_PRIVATE_KEY_PEM = re.compile(
    r"\s*-----BEGIN (RSA |EC )?PRIVATE KEY-----\s+[A-Za-z0-9+/=\s]+-----END (RSA |EC )?PRIVATE KEY-----\s*"
)


def _trust_problems(trust: IstioTrustSettings) -> Iterator[ConfigProblem]:
    """A plug-in CA needs one root, whole, with its key secret; the roots trusted besides it are each
    one root, other than the signing one; the intermediate renews before it expires."""
    root = trust.root
    if trust.ca == "plugin" and root is None:
        yield ConfigProblem(f"{_TRUST}.root", f"is required with ca: plugin; allowed: {_ROOT_SOURCES}")
    if trust.ca == "selfSigned" and root is not None:
        yield ConfigProblem(
            f"{_TRUST}.root",
            "is read only with ca: plugin (istiod's self-signed CA has its own root); to have proxies trust the "
            "plug-in root before the switch, list it in additionalRoots (docs/trust.md)",
            root.model_dump(by_alias=True, exclude_none=True, exclude={"private_key_pem"}),
        )
    if root is not None:
        yield from _root_problems(root)
    for index, trusted in enumerate(trust.additional_roots):
        key = f"{_TRUST}.additionalRoots[{index}]"
        if (trusted.stack is None) == (trusted.certificate_pem is None):
            yield ConfigProblem(key, "must have exactly one of stack or certificatePem")
        elif root is not None and trusted.stack is not None and trusted.stack == root.stack:
            yield ConfigProblem(
                f"{key}.stack",
                "is the signing root's stack (trust.root.stack); list only the other roots",
                trusted.stack,
            )
    intermediate = trust.intermediate
    if intermediate.early_renewal_hours is not None and intermediate.early_renewal_hours >= intermediate.validity_hours:
        yield ConfigProblem(
            f"{_TRUST}.intermediate.earlyRenewalHours",
            f"must be less than validityHours ({intermediate.validity_hours}), or every up would issue a new "
            "intermediate",
            intermediate.early_renewal_hours,
        )


def _root_problems(root: TrustRootSettings) -> Iterator[ConfigProblem]:
    key = f"{_TRUST}.root"
    own = root.certificate_pem is not None or root.private_key_pem is not None
    if root.stack is not None and own:
        yield ConfigProblem(key, f"must be one root, not both; allowed: {_ROOT_SOURCES}")
    elif root.stack is None and not own:
        yield ConfigProblem(key, f"names no root; allowed: {_ROOT_SOURCES}")
    elif root.stack is None:
        if root.certificate_pem is None:
            yield ConfigProblem(
                f"{key}.certificatePem", "is required with privateKeyPem: the root certificate the key belongs to"
            )
        if root.private_key_pem is None:
            yield ConfigProblem(
                f"{key}.privateKeyPem",
                "is required with certificatePem: each cluster signs its intermediate with the root's key; set it "
                f"as a secret: pulumi config set --secret --path '{key}.privateKeyPem' < root-key.pem",
            )
    if root.private_key_pem is not None:
        # Never echo the value: it is a private key, whether or not it was set as a secret.
        if not is_secret_key(key):
            yield ConfigProblem(
                f"{key}.privateKeyPem",
                f"is plain text in the stack file; set it as a secret: pulumi config set --secret --path "
                f"'{key}.privateKeyPem' < root-key.pem",
            )
        if not _PRIVATE_KEY_PEM.fullmatch(root.private_key_pem.get_secret_value()):
            yield ConfigProblem(
                f"{key}.privateKeyPem",
                "must be an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----, RSA PRIVATE KEY or EC "
                "PRIVATE KEY)",
            )


def _version_problems(mesh: IstioMeshSettings) -> Iterator[ConfigProblem]:
    """Every chart version must read the values the program writes (see `OLDEST_RELEASES`)."""
    istio = mesh.istio
    versions = {
        f"{_KEY}.version": istio.version,
        **{f"{_KEY}.revisions[{index}].version": revision.version for index, revision in enumerate(istio.revisions)},
    }
    *lines, newest = OLDEST_RELEASES
    allowed = ", ".join(f"{release} or a later {release.rsplit('.', 1)[0]}.x" for release in lines)
    for key, version in versions.items():
        if oldest := oldest_release_for(version):
            yield ConfigProblem(
                key,
                f"is older than {oldest}, the oldest release of its line whose charts read every value this program "
                "writes (istiod's unprefixed replicaCount, autoscale* and resources from 1.24.0; "
                f"base.validationFailurePolicy from {', '.join(OLDEST_RELEASES)}); allowed: {allowed}, or {newest} "
                "and later",
                version,
            )


def _dataplane_problems(mesh: IstioMeshSettings) -> Iterator[ConfigProblem]:
    istio = mesh.istio
    if istio.dataplane != "ambient":
        if "ambient" in istio.model_fields_set:
            yield ConfigProblem(
                f"{_KEY}.ambient",
                "applies to dataplane: ambient only; this stack's data plane is sidecar (mesh.istio.dataplane): "
                "remove the key",
                istio.ambient.model_dump(by_alias=True, exclude_none=True),
            )
        return
    if mesh.mtls_mode == "DISABLE":
        yield ConfigProblem(
            f"{NAMESPACE}:mesh.mtlsMode",
            "ztunnel always speaks mTLS (HBONE) between ambient pods; Istio ambient does not support DISABLE; "
            "allowed: STRICT or PERMISSIVE",
            mesh.mtls_mode,
        )
    if istio.multi_cluster is not None:
        yield ConfigProblem(
            f"{_KEY}.multiCluster",
            "spans clusters with the sidecar data plane only, for now: an ambient mesh reaches other networks "
            "with ztunnel's HBONE through an east-west gateway of another kind (a Gateway API Gateway), which this "
            "program does not build; remove mesh.istio.multiCluster or use dataplane: sidecar",
            istio.multi_cluster.model_dump(by_alias=True, exclude_none=True),
        )
    if istio.revisions:
        yield ConfigProblem(
            f"{_KEY}.revisions",
            "Istio ambient upgrades in place here: every revision would share one ztunnel and istio-cni; "
            "remove mesh.istio.revisions (and the keys that refer to them) or use dataplane: sidecar",
            [revision.name for revision in istio.revisions],
        )


def _revision_problems(mesh: IstioMeshSettings, *, enrolled: set[str]) -> Iterator[ConfigProblem]:
    """Revisions, tags and the references to them must describe a safe control-plane state."""
    istio = mesh.istio
    references = {
        f"{_KEY}.injectionRevision": istio.injection_revision,
        f"{_KEY}.gateway.revision": istio.gateway.revision,
        **{f"{_KEY}.namespaceRevisions.{namespace}": ref for namespace, ref in istio.namespace_revisions.items()},
    }
    if not istio.revisioned:
        unused = {
            **references,
            f"{_KEY}.revisionTags": istio.revision_tags or None,
            f"{_KEY}.defaultRevision": istio.default_revision,
        }
        for path, value in unused.items():
            if value is not None:
                yield ConfigProblem(path, "needs mesh.istio.revisions: no control-plane revision is declared", value)
        return

    names = [revision.name for revision in istio.revisions]
    for index, revision in enumerate(istio.revisions):
        if revision.name in names[:index]:
            yield ConfigProblem(
                f"{_KEY}.revisions[{index}].name",
                f"is already the name of mesh.istio.revisions[{names.index(revision.name)}]; revision names must "
                "be unique",
                revision.name,
            )
        if version_key(revision.version) > version_key(istio.version):
            yield ConfigProblem(
                f"{_KEY}.revisions[{index}].version",
                f"is newer than mesh.istio.version {istio.version}: the CRDs (base chart) must be at least as new as "
                "every control plane, so raise mesh.istio.version first",
                revision.version,
            )
        newest_before = max((version_key(r.version) for r in istio.revisions[:index]), default=None)
        if newest_before and version_key(revision.version) < newest_before and not istio.allow_downgrade:
            yield ConfigProblem(
                f"{_KEY}.revisions[{index}].version",
                "is older than a revision listed before it: a downgrade; list revisions oldest first, or set "
                "mesh.istio.allowDowngrade: true for a deliberate rollback",
                revision.version,
            )

    declared = ", ".join(names)
    for tag, target in istio.revision_tags.items():
        if tag in names:
            yield ConfigProblem(f"{_KEY}.revisionTags.{tag}", "a tag may not have the name of a revision", target)
        elif target not in names:
            yield ConfigProblem(
                f"{_KEY}.revisionTags.{tag}",
                f"points at a revision that is not declared (declared: {declared}); declare it, or move the tag "
                "before removing the revision",
                target,
            )
    if istio.default_revision is not None and istio.default_revision not in names:
        yield ConfigProblem(
            f"{_KEY}.defaultRevision", f"is not a declared revision (declared: {declared})", istio.default_revision
        )

    if istio.injection_revision is None:
        yield ConfigProblem(f"{_KEY}.injectionRevision", "is required when mesh.istio.revisions are declared")
    allowed = ", ".join([*istio.revision_tags, *names])
    for path, reference in references.items():
        if reference is not None and reference not in istio.revision_tags and reference not in names:
            yield ConfigProblem(
                path,
                f"names neither a revision tag nor a revision (allowed: {allowed}); a namespace or gateway may not "
                "use a removed revision",
                reference,
            )
    for namespace in istio.namespace_revisions:
        if namespace not in enrolled:
            yield ConfigProblem(
                f"{_KEY}.namespaceRevisions.{namespace}",
                "is not an enrolled namespace (mesh.injectedNamespaces or an app's namespace)",
                namespace,
            )
