"""Linkerd's objects whose drift outside the stack weakens the mesh (`review.drift`)."""

from mesh.drift import SecurityFields
from mesh.linkerd.manifests import POLICY_GROUP

SECURITY_FIELDS: SecurityFields = {
    # Which ports are policed, and who may call them: the whole of each object.
    (POLICY_GROUP, "Server"): ("",),
    (POLICY_GROUP, "AuthorizationPolicy"): ("",),
    (POLICY_GROUP, "MeshTLSAuthentication"): ("",),
    (POLICY_GROUP, "NetworkAuthentication"): ("",),
    (POLICY_GROUP, "ServerAuthorization"): ("",),
}
