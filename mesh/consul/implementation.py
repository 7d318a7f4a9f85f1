"""Consul, as the registry (`mesh.implementations`) lists it: everything of this folder the
settings, the program, the review and the policy pack reach."""

from mesh.component import MeshImplementation
from mesh.consul import footprint, images, policy, rules
from mesh.consul.mesh import ConsulMesh
from mesh.consul.settings import ConsulMeshSettings
from mesh.consul.values import CONTROL_PLANE_CHART

IMPLEMENTATION = MeshImplementation(
    settings=ConsulMeshSettings,
    rules=rules.problems,
    component=ConsulMesh,
    footprint=footprint.FOOTPRINT,
    control_plane_chart=CONTROL_PLANE_CHART,
    injected_images=images.injected_images,
    policy=policy.GUARDRAILS,
    outputs={
        "consulVersion": "the chart version",
        "consulNamespace": "the namespace of Consul's servers and injector",
        "consulUi": "how to open the Consul UI",
    },
)
