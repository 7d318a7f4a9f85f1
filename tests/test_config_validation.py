"""Given a real stack file with one bad value, the program stops before registering anything,
with a message naming the full key, the value and what is allowed."""

from __future__ import annotations

import pulumi
import pytest
from stack_harness import DELETE, run_program, stack_config

from settings.loader import ConfigError, load_settings

APP = {"name": "httpbin", "namespace": "sample"}

BAD_INPUTS = [
    # (id, stack, overrides, key named, value shown, what is allowed)
    ("unknown-top-level-key", "dev", {"servicemesh:mseh": {}}, "servicemesh:mseh", "{}", "did you mean 'mesh'?"),
    (
        "unknown-nested-key",
        "dev",
        {"servicemesh:mesh.gatway": {}},
        "servicemesh:mesh.gatway",
        "{}",
        "did you mean 'istio.gateway'?",
    ),
    (
        "flat-istio-key-of-an-old-stack-file",
        "dev",
        {"servicemesh:mesh.imageHub": "mirror.example.com/istio"},
        "servicemesh:mesh.imageHub",
        '"mirror.example.com/istio"',
        "did you mean 'istio.imageHub'?",
    ),
    (
        "unknown-deep-key",
        "dev",
        {"servicemesh:mesh.istio.istiod.replica": 2},
        "servicemesh:mesh.istio.istiod.replica",
        "2",
        "did you mean 'replicas'?",
    ),
    (
        "unknown-key-without-near-match",
        "dev",
        {"servicemesh:mesh.colour": "blue"},
        "servicemesh:mesh.colour",
        '"blue"',
        "allowed keys here: provider, trustDomain, mtlsMode, accessLogging, protectCrds, injectedNamespaces, "
        "certificateWarningDays, istio",
    ),
    (
        "replicas-as-string",
        "dev",
        {"servicemesh:mesh.istio.istiod.replicas": "2"},
        "servicemesh:mesh.istio.istiod.replicas",
        '"2"',
        "must be an integer",
    ),
    (
        "boolean-as-string",
        "dev",
        {"servicemesh:mesh.accessLogging": "yes"},
        "servicemesh:mesh.accessLogging",
        '"yes"',
        "must be a boolean",
    ),
    (
        "object-as-string",
        "dev",
        {"servicemesh:mesh.istio.istiod": "large"},
        "servicemesh:mesh.istio.istiod",
        '"large"',
        "must be an object",
    ),
    (
        "list-as-string",
        "dev",
        {"servicemesh:mesh.injectedNamespaces": "sandbox"},
        "servicemesh:mesh.injectedNamespaces",
        '"sandbox"',
        "must be a list",
    ),
    (
        "version-range",
        "dev",
        {"servicemesh:mesh.istio.version": "^1.30"},
        "servicemesh:mesh.istio.version",
        '"^1.30"',
        "exact version X.Y.Z",
    ),
    (
        "version-with-v-prefix",
        "dev",
        {"servicemesh:mesh.istio.version": "v1.30.3"},
        "servicemesh:mesh.istio.version",
        '"v1.30.3"',
        "exact version X.Y.Z",
    ),
    (
        "version-without-patch",
        "prod",
        {"servicemesh:mesh.istio.version": "1.30"},
        "servicemesh:mesh.istio.version",
        '"1.30"',
        "exact version X.Y.Z",
    ),
    (
        "unknown-mtls-mode",
        "dev",
        {"servicemesh:mesh.mtlsMode": "OFF"},
        "servicemesh:mesh.mtlsMode",
        '"OFF"',
        "must be one of 'STRICT', 'PERMISSIVE' or 'DISABLE'",
    ),
    (
        "unknown-environment",
        "dev",
        {"servicemesh:environment": "production"},
        "servicemesh:environment",
        '"production"',
        "must be one of 'dev', 'staging' or 'prod'",
    ),
    ("missing-environment", "dev", {"servicemesh:environment": DELETE}, "servicemesh:environment", None, "is required"),
    (
        "unknown-service-type",
        "dev",
        {"servicemesh:mesh.istio.gateway.serviceType": "Loadbalancer"},
        "servicemesh:mesh.istio.gateway.serviceType",
        '"Loadbalancer"',
        "'ClusterIP', 'NodePort' or 'LoadBalancer'",
    ),
    (
        "namespace-not-dns-label",
        "dev",
        {"servicemesh:mesh.istio.namespace": "Istio_System"},
        "servicemesh:mesh.istio.namespace",
        '"Istio_System"',
        "DNS-1123 label",
    ),
    (
        "namespace-too-long",
        "dev",
        {"servicemesh:mesh.istio.gateway.namespace": "a" * 64},
        "servicemesh:mesh.istio.gateway.namespace",
        f'"{"a" * 64}"',
        "at most 63 characters",
    ),
    (
        "injected-namespace-not-dns-label",
        "dev",
        {"servicemesh:mesh.injectedNamespaces": ["ok", "-bad"]},
        "servicemesh:mesh.injectedNamespaces[1]",
        '"-bad"',
        "DNS-1123 label",
    ),
    (
        "injected-namespace-is-mesh-namespace",
        "dev",
        {"servicemesh:mesh.injectedNamespaces": ["istio-system"]},
        "servicemesh:mesh.injectedNamespaces[0]",
        '"istio-system"',
        "list workload namespaces only",
    ),
    (
        "replicas-zero",
        "dev",
        {"servicemesh:mesh.istio.istiod.replicas": 0},
        "servicemesh:mesh.istio.istiod.replicas",
        "0",
        "must be an integer >= 1",
    ),
    (
        "autoscaling-min-zero",
        "prod",
        {"servicemesh:mesh.istio.gateway.autoscaling.minReplicas": 0},
        "servicemesh:mesh.istio.gateway.autoscaling.minReplicas",
        "0",
        "must be an integer >= 1",
    ),
    (
        "autoscaling-min-above-max",
        "prod",
        {"servicemesh:mesh.istio.istiod.autoscaling.minReplicas": 6},
        "servicemesh:mesh.istio.istiod.autoscaling",
        "minReplicas",
        "must not exceed maxReplicas (5)",
    ),
    (
        "cpu-not-a-quantity",
        "dev",
        {"servicemesh:mesh.istio.istiod.resources.requests.cpu": "half"},
        "servicemesh:mesh.istio.istiod.resources.requests.cpu",
        '"half"',
        "Kubernetes quantity",
    ),
    (
        "memory-with-decimal-unit",
        "dev",
        {"servicemesh:mesh.istio.proxy.resources.requests.memory": "1GB"},
        "servicemesh:mesh.istio.proxy.resources.requests.memory",
        '"1GB"',
        "Kubernetes quantity",
    ),
    (
        "negative-limit",
        "dev",
        {"servicemesh:mesh.istio.gateway.resources.limits.cpu": "-1"},
        "servicemesh:mesh.istio.gateway.resources.limits.cpu",
        '"-1"',
        "Kubernetes quantity",
    ),
    (
        "request-above-limit",
        "dev",
        {"servicemesh:mesh.istio.gateway.resources.requests.memory": "2Gi"},
        "servicemesh:mesh.istio.gateway.resources.requests.memory",
        '"2Gi"',
        "request exceeds its limit 1024Mi",
    ),
    (
        # Every `resources` in the settings is checked, wherever it sits: the waypoint's too.
        "request-above-limit-of-a-waypoint",
        "dev-ambient",
        {"servicemesh:mesh.istio.ambient.waypoint.resources.requests.cpu": "3"},
        "servicemesh:mesh.istio.ambient.waypoint.resources.requests.cpu",
        '"3"',
        "request exceeds its limit 2000m",
    ),
    (
        "requests-without-memory",
        "dev",
        {"servicemesh:mesh.istio.istiod.resources.requests.memory": DELETE},
        "servicemesh:mesh.istio.istiod.resources.requests.memory",
        None,
        "is required",
    ),
    (
        "prod-permissive-mtls",
        "prod",
        {"servicemesh:mesh.mtlsMode": "PERMISSIVE"},
        "servicemesh:mesh.mtlsMode",
        '"PERMISSIVE"',
        "prod requires STRICT",
    ),
    (
        "prod-unprotected-crds",
        "prod",
        {"servicemesh:mesh.protectCrds": False},
        "servicemesh:mesh.protectCrds",
        "false",
        "prod requires true",
    ),
    (
        "budget-over-one-pod",
        "dev",
        {"servicemesh:mesh.istio.gateway.podDisruptionBudget": True},
        "servicemesh:mesh.istio.gateway.podDisruptionBudget",
        "true",
        "needs at least 2 replicas",
    ),
    (
        "empty-chart-repository",
        "dev",
        {"servicemesh:mesh.istio.chartRepository": " "},
        "servicemesh:mesh.istio.chartRepository",
        '" "',
        "or an existing local directory",
    ),
    (
        "duplicate-app-names",
        "dev",
        {"servicemesh:apps": [APP, {**APP, "namespace": "other"}]},
        "servicemesh:apps[1].name",
        '"httpbin"',
        "is already the name of apps[0]",
    ),
    (
        "app-namespace-not-dns-label",
        "dev",
        {"servicemesh:apps": [{**APP, "namespace": "Sample"}]},
        "servicemesh:apps[0].namespace",
        '"Sample"',
        "DNS-1123 label",
    ),
    (
        "app-port-out-of-range",
        "dev",
        {"servicemesh:apps": [{**APP, "port": 70000}]},
        "servicemesh:apps[0].port",
        "70000",
        "<= 65535",
    ),
    (
        "app-image-without-tag",
        "dev",
        {"servicemesh:apps": [{**APP, "image": "docker.io/mccutchen/go-httpbin"}]},
        "servicemesh:apps[0].image",
        '"docker.io/mccutchen/go-httpbin"',
        "must pin the image by tag or digest",
    ),
    (
        "app-image-latest",
        "dev",
        {"servicemesh:apps": [{**APP, "image": "registry:5000/httpbin:latest"}]},
        "servicemesh:apps[0].image",
        '"registry:5000/httpbin:latest"',
        "not 'latest'",
    ),
    (
        "client-image-bad-digest",
        "dev",
        {"servicemesh:apps": [{**APP, "trafficClient": {"enabled": True, "image": "curl@sha256:abc"}}]},
        "servicemesh:apps[0].trafficClient.image",
        '"curl@sha256:abc"',
        "must be an image reference",
    ),
    (
        "unknown-app-key",
        "dev",
        {"servicemesh:apps": [{**APP, "replica": 2}]},
        "servicemesh:apps[0].replica",
        "2",
        "did you mean 'replicas'?",
    ),
    (
        "app-in-mesh-namespace",
        "dev",
        {"servicemesh:apps": [{**APP, "namespace": "istio-ingress"}]},
        "servicemesh:apps[0].namespace",
        '"istio-ingress"',
        "list workload namespaces only",
    ),
    (
        "ingress-path-not-absolute",
        "dev",
        {"servicemesh:apps": [{**APP, "ingress": {"host": "a.b", "pathPrefix": "api"}}]},
        "servicemesh:apps[0].ingress.pathPrefix",
        '"api"',
        "must be an absolute URL path",
    ),
    (
        "dashboards-over-plain-http",
        "dev",
        {"servicemesh:observability.grafana.dashboards.baseUrl": "http://mirror.example.com/dashboards"},
        "servicemesh:observability.grafana.dashboards.baseUrl",
        '"http://mirror.example.com/dashboards"',
        "must be an https:// URL of a folder",
    ),
    (
        "dashboards-url-with-query",
        "dev",
        {"servicemesh:observability.grafana.dashboards.baseUrl": "https://mirror.example.com/d?token=x"},
        "servicemesh:observability.grafana.dashboards.baseUrl",
        '"https://mirror.example.com/d?token=x"',
        "without query or fragment",
    ),
    (
        "dashboards-url-with-shell-syntax",
        "dev",
        {"servicemesh:observability.grafana.dashboards.baseUrl": "https://mirror.example.com/$(id)"},
        "servicemesh:observability.grafana.dashboards.baseUrl",
        '"https://mirror.example.com/$(id)"',
        "must be an https:// URL of a folder",
    ),
    (
        "dashboards-config-map-not-a-name",
        "dev",
        {"servicemesh:observability.grafana.dashboards.configMap": "Istio_Dashboards"},
        "servicemesh:observability.grafana.dashboards.configMap",
        '"Istio_Dashboards"',
        "DNS-1123 subdomain",
    ),
    (
        "dashboards-from-a-mirror-and-a-config-map",
        "dev",
        {
            "servicemesh:observability.grafana.dashboards.baseUrl": "https://mirror.example.com/d",
            "servicemesh:observability.grafana.dashboards.configMap": "istio-dashboards",
        },
        "servicemesh:observability.grafana.dashboards",
        '"configMap": "istio-dashboards"',
        "baseUrl and configMap are mutually exclusive",
    ),
    (
        "dashboards-source-while-switched-off",
        "dev",
        {
            "servicemesh:observability.grafana.dashboards.enabled": False,
            "servicemesh:observability.grafana.dashboards.configMap": "istio-dashboards",
        },
        "servicemesh:observability.grafana.dashboards",
        '"enabled": false',
        "no effect with enabled: false",
    ),
    (
        "prod-app-single-replica",
        "prod",
        {"servicemesh:apps": [{**APP, "podDisruptionBudget": False}]},
        "servicemesh:apps[0].replicas",
        "1",
        "prod requires at least 2",
    ),
]


@pytest.mark.parametrize(
    ("stack", "overrides", "key", "value", "allowed"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD_INPUTS],
)
def test_bad_config_stops_the_program_before_any_resource(stack, overrides, key, value, allowed):
    run = run_program(stack_config(stack, overrides), stack=stack)

    assert isinstance(run.error, ConfigError), run.error
    assert run.resources == [], "no resource may be registered from a bad configuration"
    problems = [str(problem) for problem in run.error.problems if problem.key == key]
    assert problems, f"no problem names {key}: {run.error}"
    if value is None:
        assert f"{key}:" in problems[0]
    else:
        assert value in problems[0]
    assert allowed in problems[0]


def test_there_are_at_least_fifteen_bad_inputs():
    assert len(BAD_INPUTS) >= 15


def test_every_problem_is_reported_at_once():
    config = stack_config(
        "dev",
        {
            "servicemesh:mesh.istio.version": "latest",
            "servicemesh:mesh.istio.istiod.replicas": 0,
            "servicemesh:mesh.istio.gateway.serviceType": "Ingress",
        },
    )

    run = run_program(config, stack="dev")

    assert {problem.key for problem in run.error.problems} == {
        "servicemesh:mesh.istio.version",
        "servicemesh:mesh.istio.istiod.replicas",
        "servicemesh:mesh.istio.gateway.serviceType",
    }
    assert "3 problems" in str(run.error)


def test_malformed_structured_config_is_named():
    with pytest.raises(ConfigError, match=r"servicemesh:mesh = .*is not valid structured config"):
        load_settings({"servicemesh:environment": "dev", "servicemesh:mesh": "{version: 1.30.3"})


def test_config_errors_reach_the_user_without_a_traceback():
    # Pulumi's Python host prints a RunError's message alone, with no stack trace.
    assert issubclass(ConfigError, pulumi.RunError)


def test_config_of_other_namespaces_is_left_to_its_owners():
    run = run_program(stack_config("dev", {"kubernetes:context": "kind-servicemesh-dev"}), stack="dev")

    assert run.error is None


def test_a_stack_file_with_only_the_environment_gets_the_documented_defaults():
    settings = load_settings({"servicemesh:environment": "staging"})

    assert settings.mesh.provider == "istio"
    assert settings.mesh.istio.version == "1.30.3"
    assert settings.mesh.mtls_mode == "STRICT"
    assert settings.mesh.istio.gateway.service_type == "ClusterIP"
    assert settings.mesh.istio.istiod.resources.requests.cpu == "500m"


def test_unknown_keys_and_bad_values_are_reported_together():
    run = run_program(
        stack_config("dev", {"servicemesh:mseh": {}, "servicemesh:mesh.istio.version": "1.30"}), stack="dev"
    )

    assert [str(problem) for problem in run.error.problems] == [
        "servicemesh:mseh = {}: unknown key; did you mean 'mesh'? allowed keys here: environment, cluster, helm, "
        "mesh, apps, observability, authorization",
        "servicemesh:mesh.istio.version = \"1.30\": must be an exact version X.Y.Z (no range, no 'v' prefix, no "
        "leading zeros, ASCII digits), e.g. 1.30.3",
    ]
