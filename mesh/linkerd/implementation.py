"""Linkerd, as the registry (`mesh.implementations`) lists it: everything of this folder the
settings, the program, the review and the policy pack reach."""

from mesh.component import MeshImplementation
from mesh.linkerd import artifacts, drift, footprint, images, policy, rules
from mesh.linkerd.mesh import LinkerdMesh
from mesh.linkerd.settings import LinkerdMeshSettings
from mesh.linkerd.values import CONTROL_PLANE_CHART

IMPLEMENTATION = MeshImplementation(
    settings=LinkerdMeshSettings,
    rules=rules.problems,
    reserved_ports=rules.RESERVED_PORTS,
    workload_name_suffixes=rules.WORKLOAD_NAME_SUFFIXES,
    namespace_object_names=rules.NAMESPACE_OBJECT_NAMES,
    component=LinkerdMesh,
    footprint=footprint.FOOTPRINT,
    control_plane_chart=CONTROL_PLANE_CHART,
    injected_images=images.injected_images,
    policy=policy.GUARDRAILS,
    security_fields=drift.SECURITY_FIELDS,
    outputs={
        "linkerdVersion": "the edge chart version",
        "linkerdNamespace": "the control-plane namespace",
        "linkerdTrustAnchor": "the trust anchor certificates (public) every proxy trusts: the current one, then "
        "those kept during a rotation; for `linkerd check` or a second cluster",
        "linkerdCertificateExpiry": "when each generated certificate expires: `trustAnchor`, `issuer`, `webhookCa`, "
        "`webhooks` by Service, and `trustAnchorGeneration<n>` for each other anchor kept during a rotation",
        "linkerdViz": "the `command` and `url` of the linkerd-viz dashboard",
    },
    artifacts=artifacts.ARTIFACTS,
)
