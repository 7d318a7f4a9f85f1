"""Consul, as the registry (`mesh.implementations`) lists it: everything of this folder the
settings, the program, the review and the policy pack reach."""

from mesh.component import MeshImplementation
from mesh.consul import artifacts, drift, footprint, images, policy, rules
from mesh.consul.mesh import ConsulMesh
from mesh.consul.settings import ConsulMeshSettings
from mesh.consul.values import CONTROL_PLANE_CHART

IMPLEMENTATION = MeshImplementation(
    settings=ConsulMeshSettings,
    rules=rules.problems,
    reserved_ports=rules.RESERVED_PORTS,
    # Consul names what it adds to a workload after its Service, and adds nothing to a namespace.
    workload_name_suffixes=(),
    namespace_object_names=frozenset(),
    component=ConsulMesh,
    footprint=footprint.FOOTPRINT,
    control_plane_chart=CONTROL_PLANE_CHART,
    injected_images=images.injected_images,
    policy=policy.GUARDRAILS,
    security_fields=drift.SECURITY_FIELDS,
    outputs={
        "consulVersion": "the chart version",
        "consulNamespace": "the namespace of Consul's servers and injector",
        "consulUi": "how to open the Consul UI",
    },
    artifacts=artifacts.ARTIFACTS,
)
