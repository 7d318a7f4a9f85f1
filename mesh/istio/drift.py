"""Istio's objects whose drift outside the stack weakens the mesh (`review.drift`)."""

from mesh.drift import SecurityFields

SECURITY_FIELDS: SecurityFields = {
    # mTLS mode (mesh-wide or per port) and the identities allowed to call: the whole of each.
    ("security.istio.io", "PeerAuthentication"): ("",),
    ("security.istio.io", "AuthorizationPolicy"): ("",),
    ("security.istio.io", "RequestAuthentication"): ("",),
    # Client-side TLS: `tls.mode: DISABLE` or `SIMPLE` sends plaintext or unauthenticated traffic.
    ("networking.istio.io", "DestinationRule"): ("spec.trafficPolicy",),
    # Which hosts the ingress serves, and with which certificate.
    ("networking.istio.io", "Gateway"): ("spec.servers",),
}
