"""Consul's objects whose drift outside the stack weakens the mesh (`review.drift`)."""

from mesh.consul.manifests import CONSUL_API_VERSION
from mesh.drift import SecurityFields

_GROUP = CONSUL_API_VERSION.partition("/")[0]

SECURITY_FIELDS: SecurityFields = {
    # Who may call whom, and the mesh-wide TLS and proxy defaults (`mutualTLSMode: permissive`).
    (_GROUP, "ServiceIntentions"): ("",),
    (_GROUP, "Mesh"): ("",),
    (_GROUP, "ProxyDefaults"): ("",),
    (_GROUP, "ServiceDefaults"): ("spec.mutualTLSMode", "spec.transparentProxy"),
}
