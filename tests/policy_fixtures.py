"""Building blocks of the policy tests: resources as the pack sees them, and the findings of one
policy over them (through its CrossGuard validate function, as `policy.offline.evaluate` calls it)."""

from __future__ import annotations

from policy.checks import Resource
from policy.offline import evaluate
from policy.pack import POLICIES

PROD = {"servicemesh:environment": "prod"}
DEV = {"servicemesh:environment": "dev"}
DIGEST = "sha256:" + "a" * 64
RESOURCES = {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "64Mi"}}


def findings(policy_name, *resources, config=None, stack_config=DEV):
    (policy,) = [policy for policy in POLICIES if policy.name == policy_name]
    return evaluate(
        list(resources),
        stack_config=stack_config,
        pack_config={policy_name: config} if config else None,
        policies=[policy],
    )


def messages(policy_name, *resources, **options):
    return [finding.message for finding in findings(policy_name, *resources, **options)]


def resource(type_, name, props):
    return Resource(type=type_, props=props, urn=f"urn:pulumi:test::servicemesh::{type_}::{name}", name=name)


def peer_authentication(name="default", namespace="istio-system", mode="STRICT", **spec):
    if mode is not None:
        spec["mtls"] = {"mode": mode}
    return resource(
        "kubernetes:security.istio.io/v1:PeerAuthentication",
        f"{namespace}-{name}",
        {"kind": "PeerAuthentication", "metadata": {"name": name, "namespace": namespace}, "spec": spec},
    )


def container(name="app", image="docker.io/org/app:1.2.3", resources=RESOURCES):
    return {"name": name, "image": image, "resources": resources}


def pod_spec(*containers, init_containers=()):
    spec = {"containers": list(containers or [container()])}
    if init_containers:
        spec["initContainers"] = list(init_containers)
    return spec


def deployment(name="app", namespace="team", *containers, replicas=1, init_containers=(), annotations=None):
    template = {"metadata": {"labels": {"app": name}}, "spec": pod_spec(*containers, init_containers=init_containers)}
    if annotations:
        template["metadata"]["annotations"] = annotations
    return resource(
        "kubernetes:apps/v1:Deployment",
        name,
        {
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}}, "template": template},
        },
    )


def namespace(name, labels=None, annotations=None):
    metadata = {"name": name, "labels": labels or {}}
    if annotations:
        metadata["annotations"] = annotations
    return resource("kubernetes:core/v1:Namespace", f"ns-{name}", {"metadata": metadata})


def chart(chart_name, version="1.2.3", repo=None, type_="kubernetes:helm.sh/v4:Chart", values=None):
    props = {"chart": chart_name, "version": version, "values": values or {}}
    if repo:
        props["repositoryOpts"] = {"repo": repo}
    return resource(type_, chart_name.rsplit("/", 1)[-1], props)


def linkerd_control_plane(default_inbound_policy="all-authenticated"):
    proxy = {"resources": {}} if default_inbound_policy is None else {"defaultInboundPolicy": default_inbound_policy}
    return chart("linkerd-control-plane", "2026.8.3", repo="https://helm.linkerd.io/edge", values={"proxy": proxy})


def linkerd_config(default_inbound_policy):
    """The ConfigMap the control-plane chart renders with its values: what a real preview shows of a v4 Chart."""
    values = f"controllerReplicas: 1\nproxy:\n  defaultInboundPolicy: {default_inbound_policy}\n"
    return resource(
        "kubernetes:core/v1:ConfigMap",
        "linkerd-config",
        {"metadata": {"name": "linkerd-config", "namespace": "linkerd"}, "data": {"values": values}},
    )


def consul_entry(kind, name, namespace="consul", **spec):
    return resource(
        f"kubernetes:consul.hashicorp.com/v1alpha1:{kind}",
        f"{namespace}-{kind}-{name}",
        {"kind": kind, "metadata": {"name": name, "namespace": namespace}, "spec": spec},
    )


CONSUL_CHART = chart(
    "consul", "2.0.3", repo="https://helm.releases.hashicorp.com", type_="kubernetes:helm.sh/v3:Release"
)
STRICT_CONSUL_MESH = consul_entry("Mesh", "mesh", allowEnablingPermissiveMutualTLS=False)


def service(name, service_type="ClusterIP", labels=None):
    return resource(
        "kubernetes:core/v1:Service",
        name,
        {
            "kind": "Service",
            "metadata": {"name": name, "namespace": "istio-system", "labels": labels or {}},
            "spec": {"type": service_type},
        },
    )


def budget(selector, namespace="team"):
    return resource(
        "kubernetes:policy/v1:PodDisruptionBudget",
        "budget",
        {"metadata": {"name": "budget", "namespace": namespace}, "spec": {"minAvailable": 1, "selector": selector}},
    )


# Where each kind of workload keeps its pods' spec, as Kubernetes defines it; a `<Kind>Patch` (server-side
# apply) keeps it at the same place.
POD_SPEC_PATHS = {
    "kubernetes:core/v1:Pod": ("spec",),
    "kubernetes:apps/v1:Deployment": ("spec", "template", "spec"),
    "kubernetes:apps/v1:StatefulSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:DaemonSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:ReplicaSet": ("spec", "template", "spec"),
    "kubernetes:batch/v1:Job": ("spec", "template", "spec"),
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
WORKLOAD_KINDS = [*POD_SPEC_PATHS, *(f"{type_}Patch" for type_ in POD_SPEC_PATHS)]
# A container security context that asks for nothing beyond its container.
HARDENED_CONTEXT = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "runAsNonRoot": True,
    "seccompProfile": {"type": "RuntimeDefault"},
}


def hardened_container(name="app", image="docker.io/org/app:1.2.3", **security_context):
    return {**container(name, image), "securityContext": {**HARDENED_CONTEXT, **security_context}}


def workload(type_, name="app", namespace="team", *, spec=None, labels=None, annotations=None):
    """A workload of any kind (or its patch) whose pods run `spec` (one hardened container by default)."""
    pod = {"metadata": {"labels": labels or {"app": name}}, "spec": spec or {"containers": [hardened_container()]}}
    if annotations:
        pod["metadata"]["annotations"] = annotations
    path = POD_SPEC_PATHS[type_.removesuffix("Patch")]
    if len(path) == 1:
        return resource(type_, name, {**pod, "metadata": {"name": name, "namespace": namespace, **pod["metadata"]}})
    node = pod
    for key in reversed(path[:-1]):
        node = {key: node}
    return resource(type_, name, {"metadata": {"name": name, "namespace": namespace}, **node})
