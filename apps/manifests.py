"""Pure builders of the Kubernetes objects of one app in the mesh; its mesh objects come from the
mesh's `MeshAttachment`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mesh.attachment import Manifest, MeshAttachment, Workload
from settings.models import AppSettings

PORT_NAME = "http"
# Both images run as an unprivileged user: go-httpbin as distroless `nonroot`, curl as `curl_user`.
APP_USER_ID = 65532
CLIENT_USER_ID = 100
CLIENT_SERVICE_PORT = 80


def app_labels(app: AppSettings) -> dict[str, str]:
    """`app` and `version`: the labels Istio's telemetry and Kiali group workloads by."""
    return {"app": app.name, "version": image_version(app.image)}


def image_version(image: str) -> str:
    """The image tag, or a short digest for images pinned by digest only."""
    name, _, digest = image.partition("@")
    _, _, tag = name.rsplit("/", 1)[-1].partition(":")
    return tag or digest.removeprefix("sha256:")[:12]


def in_mesh_url(app: AppSettings) -> str:
    return f"http://{app_workload(app).service_host}:{app.port}"


def gateway_url(app: AppSettings) -> str | None:
    if app.ingress is None:
        return None
    scheme = "https" if app.ingress.tls_secret else "http"
    return f"{scheme}://{app.ingress.host}{app.ingress.path_prefix}"


def port_forward_command(app: AppSettings) -> str:
    return f"kubectl -n {app.namespace} port-forward svc/{app.name} 8080:{app.port}  # then http://localhost:8080/"


def _restricted_container_security(*, read_only_root_filesystem: bool) -> dict[str, Any]:
    return {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "readOnlyRootFilesystem": read_only_root_filesystem,
        "runAsNonRoot": True,
    }


def _restricted_pod_security(user_id: int) -> dict[str, Any]:
    return {
        "runAsNonRoot": True,
        "runAsUser": user_id,
        "runAsGroup": user_id,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def _spread_over_nodes(labels: dict[str, str], replicas: int) -> list[dict[str, Any]]:
    if replicas < 2:
        return []
    return [
        {
            "maxSkew": 1,
            "topologyKey": "kubernetes.io/hostname",
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": {"app": labels["app"]}},
        }
    ]


def app_workload(app: AppSettings) -> Workload:
    """The app as the mesh's authorization sees it."""
    return Workload(
        name=app.name,
        namespace=app.namespace,
        service_account=app.service_account,
        service=app.name,
        selector={"app": app.name},
        port=app.port,
        port_name=PORT_NAME,
        protocol=app.protocol,
        probe_paths=(app.health_path,),
    )


def client_workload(app: AppSettings) -> Workload:
    """The app's traffic client; its Service (for meshes that need one) serves nothing."""
    return Workload(
        name=app.client_name,
        namespace=app.namespace,
        service_account=app.client_name,
        service=app.client_name,
        selector={"app": app.client_name},
        port=CLIENT_SERVICE_PORT,
        port_name=PORT_NAME,
        protocol="http",
    )


def _pod_metadata(labels: dict[str, str], annotations: Mapping[str, str] | None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"labels": labels}
    if annotations:
        metadata["annotations"] = dict(annotations)
    return metadata


def app_deployment_spec(
    app: AppSettings, *, pod_annotations: Mapping[str, str] | None = None, mount_token: bool = False
) -> dict[str, Any]:
    """The app's Deployment spec: probes, resources, a restricted security context, spread; the
    pod template carries the mesh's `pod_annotations`, and mounts the ServiceAccount token only
    when the mesh logs pods in with it (`mount_token`)."""
    labels = app_labels(app)
    probe = {"httpGet": {"path": app.health_path, "port": PORT_NAME}}
    pod_spec: dict[str, Any] = {
        "serviceAccountName": app.service_account,
        # The app never talks to the API server; an Istio or Linkerd sidecar brings its own token.
        "automountServiceAccountToken": mount_token,
        "securityContext": _restricted_pod_security(APP_USER_ID),
        "containers": [
            {
                "name": app.name,
                "image": app.image,
                "env": [{"name": "PORT", "value": str(app.port)}],
                "ports": [{"name": PORT_NAME, "containerPort": app.port}],
                "readinessProbe": {**probe, "periodSeconds": 5},
                "livenessProbe": {**probe, "initialDelaySeconds": 5, "periodSeconds": 10, "failureThreshold": 3},
                "resources": app.resources.as_manifest(),
                "securityContext": _restricted_container_security(
                    read_only_root_filesystem=app.read_only_root_filesystem
                ),
            }
        ],
    }
    spread = _spread_over_nodes(labels, app.replicas)
    if spread:
        pod_spec["topologySpreadConstraints"] = spread
    return {
        "replicas": app.replicas,
        "selector": {"matchLabels": {"app": app.name}},
        "template": {"metadata": _pod_metadata(labels, pod_annotations), "spec": pod_spec},
    }


def app_service_spec(app: AppSettings) -> dict[str, Any]:
    """A ClusterIP Service with one named port whose `appProtocol` tells Istio the protocol."""
    return {
        "selector": {"app": app.name},
        "ports": [{"name": PORT_NAME, "port": app.port, "targetPort": PORT_NAME, "appProtocol": app.protocol}],
    }


def pod_disruption_budget_spec(app: AppSettings) -> dict[str, Any]:
    return {"minAvailable": 1, "selector": {"matchLabels": {"app": app.name}}}


def client_service_spec(app: AppSettings) -> dict[str, Any]:
    """A Service in front of the traffic client, for meshes that only give an identity to pods behind
    one (Consul). Nothing listens on its port; nothing calls the client."""
    return {
        "selector": {"app": app.client_name},
        "ports": [{"name": PORT_NAME, "port": CLIENT_SERVICE_PORT, "targetPort": CLIENT_SERVICE_PORT}],
    }


def traffic_client_deployment_spec(
    app: AppSettings, *, pod_annotations: Mapping[str, str] | None = None, mount_token: bool = False
) -> dict[str, Any]:
    """A curl loop calling the app through the mesh, so dashboards show traffic at once."""
    client = app.traffic_client
    labels = {"app": app.client_name, "version": image_version(client.image)}
    interval = f"{60 / client.requests_per_minute:.3f}"
    loop = (
        'while true; do curl -sS -o /dev/null -w "%{http_code} %{time_total}s\\n" "$TARGET_URL"; '
        'sleep "$INTERVAL"; done'
    )
    return {
        "replicas": 1,
        "selector": {"matchLabels": {"app": app.client_name}},
        "template": {
            "metadata": _pod_metadata(labels, pod_annotations),
            "spec": {
                "serviceAccountName": app.client_name,
                "automountServiceAccountToken": mount_token,
                "securityContext": _restricted_pod_security(CLIENT_USER_ID),
                "containers": [
                    {
                        "name": "client",
                        "image": client.image,
                        "command": ["/bin/sh", "-c", loop],
                        "env": [
                            {"name": "TARGET_URL", "value": f"{in_mesh_url(app)}{client.path}"},
                            {"name": "INTERVAL", "value": interval},
                        ],
                        "resources": client.resources.as_manifest(),
                        "securityContext": _restricted_container_security(read_only_root_filesystem=True),
                    }
                ],
            },
        },
    }


def app_authorization(app: AppSettings, mesh: MeshAttachment) -> list[Manifest]:
    """Allow only the app's own traffic client and, when routed, the ingress gateway, with the
    app's allowed methods, in the mesh's own terms."""
    callers = []
    if app.traffic_client.enabled:
        callers.append(client_workload(app))
    if app.ingress is not None and mesh.ingress_gateway is not None:
        callers.append(mesh.ingress_gateway)
    return mesh.authorization_manifests(app_workload(app), callers=callers, methods=app.allowed_methods)


def authorization_resource_suffix(manifest: Manifest, app: AppSettings) -> str:
    """A unique resource-name suffix for one of the app's authorization objects: its kind (an
    `AuthorizationPolicy` is the `authorization`) and what its name adds to the app's."""
    kind = manifest["kind"]
    slug = "authorization" if kind == "AuthorizationPolicy" else kind.lower()
    return slug + manifest["metadata"]["name"].removeprefix(app.name)
