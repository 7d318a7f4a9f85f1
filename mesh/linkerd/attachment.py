"""`LinkerdAttachment`: how namespaces and workloads join a Linkerd mesh."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mesh.attachment import Manifest, MeshAttachment, ObjectMetadata, Workload, pod_security_labels
from mesh.linkerd.manifests import (
    ACCESS_LOG_ANNOTATION,
    DEFAULT_INBOUND_POLICY_ANNOTATION,
    INJECT_ANNOTATION,
    PROXY_PROTOCOLS,
    authorization_policy,
    http_route,
    linkerd_identity,
    mesh_tls_authentication,
    network_authentication,
    proxy_admin_scraping,
    proxy_scrape_config,
    server,
)

# Without linkerd-cni every meshed pod gets a `linkerd-init` container with NET_ADMIN and NET_RAW,
# which Pod Security's `baseline` and `restricted` levels refuse.
LINKERD_POD_SECURITY_LABELS = pod_security_labels(enforce="privileged")
# A workload with L7 rules gets a route (and its authorization) for its probes: `<name>-probes`.
PROBES_SUFFIX = "probes"


@dataclass(frozen=True, kw_only=True)
class LinkerdAttachment(MeshAttachment):
    """Linkerd: namespaces annotated `linkerd.io/inject: enabled`; mTLS identities from service
    accounts; "only these identities may call" as a `Server`, a `MeshTLSAuthentication` and an
    `AuthorizationPolicy`; default deny as the namespace's default inbound policy; proxies
    scraped by a Prometheus job of their own; HTTP access logs by annotation."""

    access_logging: bool = False

    def namespace_metadata(self, namespace: str, *, default_deny: bool) -> ObjectMetadata:
        annotations = {INJECT_ANNOTATION: "enabled"}
        if default_deny:
            annotations[DEFAULT_INBOUND_POLICY_ANNOTATION] = "deny"
        if self.access_logging:
            annotations[ACCESS_LOG_ANNOTATION] = "json"
        return ObjectMetadata(labels=LINKERD_POD_SECURITY_LABELS, annotations=annotations)

    def namespace_manifests(self, namespace: str, *, default_deny: bool, layer7: bool) -> list[Manifest]:
        return proxy_admin_scraping(namespace=namespace)

    def authorization_manifests(
        self, workload: Workload, *, callers: Sequence[Workload], methods: Sequence[str] = ()
    ) -> list[Manifest]:
        manifests = [
            server(
                name=workload.name,
                namespace=workload.namespace,
                selector=workload.selector,
                port=workload.port_name,
                proxy_protocol=PROXY_PROTOCOLS[workload.protocol],
            )
        ]
        # With methods the callers are admitted to an HTTPRoute of those methods, not to the whole
        # Server; a route on a Server ends Linkerd's default authorization of the kubelet's probes,
        # so a second route admits a GET of the probe paths from any address, as Linkerd otherwise does.
        target = {"target_kind": "HTTPRoute"} if methods else {}
        if methods:
            manifests.append(
                http_route(name=workload.name, namespace=workload.namespace, server_name=workload.name, methods=methods)
            )
            probes = f"{workload.name}-{PROBES_SUFFIX}"
            manifests += [
                http_route(
                    name=probes,
                    namespace=workload.namespace,
                    server_name=workload.name,
                    exact_paths=workload.probe_paths,
                ),
                network_authentication(name=probes, namespace=workload.namespace),
                authorization_policy(
                    name=probes,
                    namespace=workload.namespace,
                    target_name=probes,
                    authentication_kind="NetworkAuthentication",
                    authentication_name=probes,
                    target_kind="HTTPRoute",
                ),
            ]
        # A Server (or route) without an AuthorizationPolicy admits nobody, which is what no callers means.
        if callers:
            manifests += [
                mesh_tls_authentication(
                    name=workload.name,
                    namespace=workload.namespace,
                    service_accounts=[(caller.namespace, caller.service_account) for caller in callers],
                ),
                authorization_policy(
                    name=workload.name,
                    namespace=workload.namespace,
                    target_name=workload.name,
                    authentication_kind="MeshTLSAuthentication",
                    authentication_name=workload.name,
                    **target,
                ),
            ]
        return manifests

    def principal(self, workload: Workload) -> str:
        return linkerd_identity(
            service_account=workload.service_account,
            namespace=workload.namespace,
            control_plane_namespace=self.root_namespace,
            trust_domain=self.trust_domain,
        )

    def prometheus_scrape_configs(self) -> list[Manifest]:
        return [proxy_scrape_config(control_plane_namespace=self.root_namespace)]
