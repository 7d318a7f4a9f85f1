"""`ConsulAttachment`: how namespaces and workloads join a Consul service mesh."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from mesh.attachment import Manifest, MeshAttachment, ObjectMetadata, Workload, pod_security_labels
from mesh.consul.manifests import INJECT_ANNOTATION, service_defaults, service_intentions

# Without consul-cni every injected pod gets a `consul-connect-inject-init` container that runs as
# root with NET_ADMIN to redirect traffic with iptables; Pod Security's `baseline` and `restricted`
# levels refuse that capability, so only `privileged` admits injected pods. The app containers are
# still warned and audited against `restricted`.
CONSUL_POD_SECURITY_LABELS = pod_security_labels(enforce="privileged")


@dataclass(frozen=True, kw_only=True)
class ConsulAttachment(MeshAttachment):
    """Consul: pods opt in with the `consul.hashicorp.com/connect-inject` annotation (namespaces
    only carry their Pod Security level); every meshed pod needs a Service, whose name is its
    identity; "only these identities may call" is a `ServiceIntentions` per workload, with a
    `ServiceDefaults` stating its protocol; default deny is mesh-wide (ACLs, and the `*` intention
    the mesh component adds). Sidecars are annotated for Prometheus by the injector; no Kiali, no
    ingress gateway, no dashboards, and the add-ons are never injected (injection is opt-in)."""

    callers_need_service: bool = True
    # connect-inject-init and consul-dataplane log in to Consul's Kubernetes auth method with it.
    pods_mount_service_account_token: bool = True

    def namespace_metadata(self, namespace: str, *, default_deny: bool) -> ObjectMetadata:
        # Default deny is not per namespace in Consul: intentions are mesh-wide config entries.
        return ObjectMetadata(labels=CONSUL_POD_SECURITY_LABELS)

    def meshed_pod_annotations(self) -> Mapping[str, str]:
        return {INJECT_ANNOTATION: "true"}

    def authorization_manifests(
        self, workload: Workload, *, callers: Sequence[Workload], methods: Sequence[str] = ()
    ) -> list[Manifest]:
        # L7 intentions are only accepted for an HTTP-based destination; Consul's controller retries
        # the intentions until the ServiceDefaults that makes it one has been written.
        return [
            service_defaults(namespace=workload.namespace, service=workload.service, protocol=workload.protocol),
            service_intentions(
                name=workload.name,
                namespace=workload.namespace,
                destination=workload.service,
                sources=[caller.service for caller in callers],
                methods=methods,
            ),
        ]

    def principal(self, workload: Workload) -> str:
        """The workload's Consul service name: what intentions and Consul's UI name it by. (Its
        SPIFFE ID, `spiffe://<cluster id>.consul/ns/default/dc/<dc>/svc/<service>`, embeds the id
        Consul's CA generates at install, which the program cannot know.)"""
        return workload.service
