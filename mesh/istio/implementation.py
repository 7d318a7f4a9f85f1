"""Istio, sidecar or ambient, as the registry (`mesh.implementations`) lists it: everything of this folder the
settings, the program, the review and the policy pack reach."""

from mesh.component import MeshImplementation
from mesh.istio import artifacts, drift, footprint, images, multicluster, policy, rules
from mesh.istio.mesh import IstioMesh
from mesh.istio.settings import IstioMeshSettings
from mesh.istio.values import CONTROL_PLANE_CHART

IMPLEMENTATION = MeshImplementation(
    settings=IstioMeshSettings,
    rules=rules.problems,
    reserved_ports=rules.RESERVED_PORTS,
    workload_name_suffixes=rules.WORKLOAD_NAME_SUFFIXES,
    namespace_object_names=rules.NAMESPACE_OBJECT_NAMES,
    component=IstioMesh,
    footprint=footprint.FOOTPRINT,
    control_plane_chart=CONTROL_PLANE_CHART,
    injected_images=images.injected_images,
    policy=policy.GUARDRAILS,
    security_fields=drift.SECURITY_FIELDS,
    outputs={
        "istioVersion": "the Istio version of all its charts",
        "istioNamespace": "the control-plane (and mesh root) namespace",
        "istioRevisions": "per control-plane revision: its `version` and the `tags` pointing at it",
        "istioCertificateExpiry": "with a plug-in CA: when this cluster's `intermediate` CA expires (renewed by "
        "an `up` in its last third, or `earlyRenewalHours`), and the trust stack's `root`",
        "ingressGateway": "`namespace`, `service` and `access`: the command that shows how to reach the ingress "
        "gateway (a `kubectl port-forward`, the NodePort, or the load balancer address, by Service type)",
        multicluster.IDENTITY_OUTPUT: "with `mesh.istio.multiCluster`: `meshId`, `clusterName`, `network`, the "
        "Istio `namespace` and the `eastWestGateway` Service, which the link project (`multicluster/`) reads",
        multicluster.READER_OUTPUT: "with `mesh.istio.multiCluster`: the kubeconfig (secret) through which the other "
        "clusters' istiod read this one, as a read-only ServiceAccount; the link project writes it into them",
    },
    artifacts=artifacts.ARTIFACTS,
    artifact_notes=(artifacts.SUPPORT,),
    retired_locations=artifacts.RETIRED_LOCATIONS,
)
