"""Istio, sidecar or ambient, as the registry (`mesh.implementations`) lists it: everything of this folder the
settings, the program, the review and the policy pack reach."""

from mesh.component import MeshImplementation
from mesh.istio import footprint, images, policy, rules
from mesh.istio.mesh import IstioMesh
from mesh.istio.settings import IstioMeshSettings
from mesh.istio.values import CONTROL_PLANE_CHART

IMPLEMENTATION = MeshImplementation(
    settings=IstioMeshSettings,
    rules=rules.problems,
    component=IstioMesh,
    footprint=footprint.FOOTPRINT,
    control_plane_chart=CONTROL_PLANE_CHART,
    injected_images=images.injected_images,
    policy=policy.GUARDRAILS,
)
