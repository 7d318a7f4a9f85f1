"""Pod security: no container of any pod template reaches beyond its container, and a pod mounts an
API token only where it needs one. A mesh's own workloads get exactly what they need, named per
object, container and finding with the reason, in the mesh's folder; nothing by namespace."""

from __future__ import annotations

import pytest
from policy_fixtures import (
    WORKLOAD_KINDS,
    findings,
    hardened_container,
    messages,
    resource,
    workload,
)

from mesh.implementations import REGISTRY
from policy.pod_security import EXEMPTIONS, is_finding

POD_SECURITY = "pod-security"
TOKEN = "service-account-token-only-where-needed"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
DAEMON_SET = "kubernetes:apps/v1:DaemonSet"


def running(container, *, type_=DEPLOYMENT, field="containers", name="web", namespace="team", **pod):
    """A workload whose pods run a hardened app container and `container` in `field`, with `pod` fields."""
    spec = {"containers": [hardened_container()], **pod}
    spec.setdefault(field, []).append(container)
    return workload(type_, name, namespace, spec=spec)


def reported(*resources):
    """Each pod security message, cut to what it reports: the subject and the findings."""
    return [message.split(" gives it")[0] for message in messages(POD_SECURITY, *resources)]


def test_a_hardened_pod_passes():
    assert messages(POD_SECURITY, workload(DEPLOYMENT)) == []


@pytest.mark.parametrize(
    ("security_context", "finding"),
    [
        ({"privileged": True}, "privileged"),
        ({"allowPrivilegeEscalation": True}, "allowPrivilegeEscalation"),
        ({"capabilities": {"add": ["NET_ADMIN"]}}, "capabilities.add NET_ADMIN"),
        ({"capabilities": {"add": ["cap_sys_admin"]}}, "capabilities.add SYS_ADMIN"),
        ({"runAsUser": 0}, "runAsUser 0"),
        ({"runAsUser": 0.0}, "runAsUser 0"),
        ({"runAsNonRoot": False}, "runAsNonRoot false"),
        ({"seccompProfile": {"type": "Unconfined"}}, "seccompProfile Unconfined"),
    ],
)
@pytest.mark.parametrize("field", ["containers", "initContainers", "ephemeralContainers"])
def test_a_container_that_asks_for_its_node_is_refused(security_context, finding, field):
    (message,) = messages(POD_SECURITY, running(hardened_container("sidecar", **security_context), field=field))

    assert message.startswith(f"Deployment team/web container 'sidecar': {finding} gives it")
    assert "name the object, container and finding with the reason among that mesh's pod security exemptions" in (
        message
    )


def test_unset_privilege_escalation_and_seccomp_are_refused_because_kubernetes_allows_them():
    bare = {"name": "sidecar", "image": "docker.io/org/sidecar:1.0.0"}

    (message,) = messages(POD_SECURITY, running(bare))

    assert message.startswith("Deployment team/web container 'sidecar': allowPrivilegeEscalation gives it")
    assert "set securityContext.allowPrivilegeEscalation: false" in message
    assert "seccompProfile unset gives it every system call" in message


def test_the_pods_seccomp_profile_covers_its_containers_and_an_unconfined_one_is_refused():
    bare = {
        "name": "sidecar",
        "image": "docker.io/org/sidecar:1.0.0",
        "securityContext": {"allowPrivilegeEscalation": False},
    }
    confined = running(bare, securityContext={"seccompProfile": {"type": "RuntimeDefault"}})
    unconfined = running(hardened_container("sidecar"), securityContext={"seccompProfile": {"type": "Unconfined"}})

    assert messages(POD_SECURITY, confined) == []
    assert reported(unconfined) == ["Deployment team/web: seccompProfile Unconfined"]


def test_the_one_capability_pod_security_restricted_allows_passes():
    assert messages(POD_SECURITY, running(hardened_container("web", capabilities={"add": ["NET_BIND_SERVICE"]}))) == []


@pytest.mark.parametrize(
    ("pod", "finding"),
    [
        ({"hostNetwork": True}, "hostNetwork"),
        ({"hostPID": True}, "hostPID"),
        ({"hostIPC": True}, "hostIPC"),
        ({"volumes": [{"name": "root", "hostPath": {"path": "/"}}]}, "hostPath /"),
        ({"securityContext": {"runAsUser": 0}}, "runAsUser 0"),
        ({"securityContext": {"runAsNonRoot": False}}, "runAsNonRoot false"),
    ],
)
def test_a_pod_that_shares_its_nodes_namespaces_files_or_root_is_refused(pod, finding):
    (message,) = messages(POD_SECURITY, workload(DEPLOYMENT, "web", spec={"containers": [hardened_container()], **pod}))

    assert message.startswith(f"Deployment team/web: {finding} gives it")


def test_a_host_port_is_refused():
    exposed = hardened_container("web")
    exposed["ports"] = [{"containerPort": 8080, "hostPort": 8080.0}]

    assert reported(running(exposed)) == ["Deployment team/web container 'web': hostPort 8080"]


@pytest.mark.parametrize("type_", WORKLOAD_KINDS)
def test_every_kind_of_pod_template_is_checked(type_):
    privileged = running(hardened_container("sidecar", privileged=True), type_=type_)

    assert reported(privileged) == [f"{type_.rsplit(':', 1)[-1]} team/web container 'sidecar': privileged"]


def test_a_patch_is_judged_for_what_it_sets_not_for_what_it_leaves_to_the_object():
    # A DeploymentPatch on httpbin (server-side apply) merges into the Deployment: what it leaves out stays.
    partial = {"containers": [{"name": "httpbin", "env": [{"name": "DEBUG", "value": "1"}]}]}
    escalating = {"containers": [{"name": "httpbin", "securityContext": {"privileged": True}}]}
    patch = "kubernetes:apps/v1:DeploymentPatch"

    assert messages(POD_SECURITY, workload(patch, "httpbin", "sample", spec=partial)) == []
    assert reported(workload(patch, "httpbin", "sample", spec=escalating)) == [
        "DeploymentPatch sample/httpbin container 'httpbin': privileged"
    ]


def test_every_finding_of_a_container_is_listed_in_one_message():
    worst = hardened_container("tool", privileged=True, runAsUser=0, capabilities={"add": ["SYS_ADMIN", "NET_RAW"]})

    (message,) = messages(POD_SECURITY, running(worst))

    for finding in ("privileged", "capabilities.add SYS_ADMIN", "capabilities.add NET_RAW", "runAsUser 0"):
        assert f"{finding} gives it" in message


def test_kube_system_is_not_exempt():
    privileged = workload(
        "kubernetes:core/v1:Pod",
        "tool",
        "kube-system",
        spec={
            "hostNetwork": True,
            "hostPID": True,
            "volumes": [{"name": "root", "hostPath": {"path": "/"}}],
            "containers": [hardened_container("tool", privileged=True)],
        },
    )

    assert reported(privileged) == [
        "Pod kube-system/tool: hostNetwork",
        "Pod kube-system/tool container 'tool': privileged",
    ]


# Each mesh's own workloads: what they need, named per object, container and finding.

# As the ztunnel chart renders it: root, privilege escalation, three capabilities, no seccomp profile.
ZTUNNEL_CONTAINER = {
    "name": "istio-proxy",
    "image": "docker.io/istio/ztunnel:1.30.3",
    "securityContext": {
        "allowPrivilegeEscalation": True,
        "capabilities": {"drop": ["ALL"], "add": ["NET_ADMIN", "SYS_ADMIN", "NET_RAW"]},
        "runAsUser": 0,
        "runAsNonRoot": False,
    },
}
ZTUNNEL_VOLUMES = [{"name": "cni-ztunnel-sock-dir", "hostPath": {"path": "/var/run/ztunnel"}}]


def ztunnel(container=ZTUNNEL_CONTAINER, *, name="ztunnel", kind=DAEMON_SET, volumes=ZTUNNEL_VOLUMES):
    return workload(kind, name, "istio-system", spec={"volumes": volumes, "containers": [container]})


def test_ztunnel_gets_exactly_what_it_needs_of_its_node():
    assert messages(POD_SECURITY, ztunnel()) == []


def test_an_exemption_allows_no_other_finding_container_kind_or_name():
    more = {**ZTUNNEL_CONTAINER, "securityContext": {**ZTUNNEL_CONTAINER["securityContext"], "privileged": True}}
    other_path = [{"name": "root", "hostPath": {"path": "/"}}]

    assert reported(ztunnel(more)) == ["DaemonSet istio-system/ztunnel container 'istio-proxy': privileged"]
    assert reported(ztunnel(volumes=other_path)) == ["DaemonSet istio-system/ztunnel: hostPath /"]
    assert len(messages(POD_SECURITY, ztunnel({**ZTUNNEL_CONTAINER, "name": "shell"}))) == 1
    assert len(messages(POD_SECURITY, ztunnel(kind=DEPLOYMENT))) == 2
    assert len(messages(POD_SECURITY, ztunnel(name="my-ztunnel"))) == 2


def test_istio_cni_gets_what_it_needs_to_install_its_plugin_and_redirect_pods():
    cni = workload(
        DAEMON_SET,
        "istio-cni-node",
        "istio-system",
        spec={
            "volumes": [
                {"name": name, "hostPath": {"path": path}}
                for name, path in [
                    ("cni-bin-dir", "/opt/cni/bin"),
                    ("cni-host-procfs", "/proc"),
                    ("cni-ztunnel-sock-dir", "/var/run/ztunnel"),
                    ("cni-net-dir", "/etc/cni/net.d"),
                    ("cni-socket-dir", "/var/run/istio-cni"),
                    ("cni-netns-dir", "/var/run/netns"),
                ]
            ],
            "containers": [
                {
                    "name": "install-cni",
                    "image": "docker.io/istio/install-cni:1.30.3",
                    "securityContext": {
                        "runAsUser": 0,
                        "runAsNonRoot": False,
                        "capabilities": {"add": ["NET_ADMIN", "NET_RAW", "SYS_PTRACE", "SYS_ADMIN", "DAC_OVERRIDE"]},
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                }
            ],
        },
    )

    assert messages(POD_SECURITY, cni) == []


@pytest.mark.parametrize("controller", ["linkerd-destination", "linkerd-identity", "linkerd-proxy-injector"])
def test_linkerds_controllers_init_container_may_rewrite_iptables_and_nothing_more(controller):
    def control_plane(*capabilities):
        init = hardened_container("linkerd-init", capabilities={"add": list(capabilities)})
        return running(init, field="initContainers", name=controller, namespace="linkerd")

    assert messages(POD_SECURITY, control_plane("NET_ADMIN", "NET_RAW")) == []
    assert reported(control_plane("NET_ADMIN", "NET_RAW", "SYS_ADMIN")) == [
        f"Deployment linkerd/{controller} container 'linkerd-init': capabilities.add SYS_ADMIN"
    ]


def test_consul_needs_no_exemption():
    # Its chart's pods are hardened; its injected init container is added at admission, unseen.
    (consul,) = [entry for entry in REGISTRY if entry.provider == "consul"]

    assert consul.policy.pod_security_exemptions == ()


@pytest.mark.parametrize(
    "exemption", EXEMPTIONS, ids=lambda exemption: f"{exemption.name}-{exemption.container or 'pod'}"
)
def test_every_exemption_names_findings_the_rules_report_and_says_why(exemption):
    assert [finding for finding in exemption.allowed if not is_finding(finding)] == []
    assert len(exemption.reason.split()) >= 10


# service-account-token-only-where-needed


def pod_with_token(mount=None, *, account="web", annotations=None, namespace="team"):
    spec = {"serviceAccountName": account, "containers": [hardened_container()]}
    if mount is not None:
        spec["automountServiceAccountToken"] = mount
    return workload(DEPLOYMENT, "web", namespace, spec=spec, annotations=annotations)


def service_account(name="web", namespace="team", **fields):
    return resource(
        "kubernetes:core/v1:ServiceAccount",
        f"sa-{name}",
        {"metadata": {"name": name, "namespace": namespace}, **fields},
    )


def binding(subjects, *, kind="RoleBinding", namespace="team"):
    metadata = {"name": "reader"} if kind == "ClusterRoleBinding" else {"name": "reader", "namespace": namespace}
    return resource(
        f"kubernetes:rbac.authorization.k8s.io/v1:{kind}",
        f"{kind}-{namespace}",
        {"metadata": metadata, "roleRef": {"kind": "ClusterRole", "name": "view"}, "subjects": subjects},
    )


def test_a_pod_that_mounts_a_token_its_service_account_has_no_role_for_is_refused():
    mounting = pod_with_token()

    (finding,) = findings(TOKEN, mounting, service_account())

    assert finding.urn == mounting.urn
    assert finding.message.startswith("Deployment team/web mounts the API token of ServiceAccount 'web'")
    assert "set automountServiceAccountToken: false" in finding.message


def test_a_pod_without_a_service_account_uses_default_and_is_held_to_the_same_rule():
    anonymous = workload(DEPLOYMENT, "web", spec={"containers": [hardened_container()]})

    (message,) = messages(TOKEN, anonymous)

    assert "ServiceAccount 'default'" in message


def test_no_token_on_the_pod_or_on_its_service_account_passes():
    assert messages(TOKEN, pod_with_token(False)) == []
    assert messages(TOKEN, pod_with_token(), service_account(automountServiceAccountToken=False)) == []
    # The pod's own setting wins over its ServiceAccount's.
    assert len(messages(TOKEN, pod_with_token(True), service_account(automountServiceAccountToken=False))) == 1


@pytest.mark.parametrize(
    "bound",
    [
        binding([{"kind": "ServiceAccount", "name": "web"}]),
        binding([{"kind": "ServiceAccount", "name": "web", "namespace": "team"}], kind="ClusterRoleBinding"),
        binding([{"kind": "Group", "name": "system:serviceaccounts:team"}], namespace="elsewhere"),
    ],
    ids=["role-binding", "cluster-role-binding", "group-of-the-namespace"],
)
def test_a_pod_whose_service_account_is_bound_to_a_role_may_mount_its_token(bound):
    assert messages(TOKEN, pod_with_token(), bound) == []


def test_a_binding_of_another_account_or_namespace_does_not_count():
    elsewhere = binding([{"kind": "ServiceAccount", "name": "web"}], namespace="other")
    other_account = binding([{"kind": "ServiceAccount", "name": "api"}])

    assert len(messages(TOKEN, pod_with_token(), elsewhere, other_account)) == 1


def test_a_consul_injected_pod_mounts_the_token_it_logs_in_with():
    injected = {"consul.hashicorp.com/connect-inject": "true"}

    assert messages(TOKEN, pod_with_token(annotations=injected)) == []


def test_ztunnels_token_is_allowed_by_name_only():
    def ztunnel_pod(name):
        return workload(DAEMON_SET, name, "istio-system", spec={"serviceAccountName": "ztunnel", "containers": []})

    assert messages(TOKEN, ztunnel_pod("ztunnel")) == []
    assert len(messages(TOKEN, ztunnel_pod("other"))) == 1
