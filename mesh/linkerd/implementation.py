"""Linkerd, as the registry (`mesh.implementations`) lists it: everything of this folder the
settings, the program, the review and the policy pack reach."""

from mesh.component import MeshImplementation
from mesh.linkerd import footprint, images, policy, rules
from mesh.linkerd.mesh import LinkerdMesh
from mesh.linkerd.settings import LinkerdMeshSettings
from mesh.linkerd.values import CONTROL_PLANE_CHART

IMPLEMENTATION = MeshImplementation(
    settings=LinkerdMeshSettings,
    rules=rules.problems,
    component=LinkerdMesh,
    footprint=footprint.FOOTPRINT,
    control_plane_chart=CONTROL_PLANE_CHART,
    injected_images=images.injected_images,
    policy=policy.GUARDRAILS,
)
