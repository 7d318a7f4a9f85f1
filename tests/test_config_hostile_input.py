"""Given a real stack file with one mistake an operator makes, the program stops before registering
anything, with a message naming the full key, the value and what is allowed; what Kubernetes and the
engine accept stays accepted. One section per class of mistake (issue 16): patterns that match the
whole value, system namespaces, names and collisions, numbers, ports the data plane takes, versions
and lifetimes, URLs and credentials, and prod guardrails."""

from __future__ import annotations

import ast
import json
import math
import re
from pathlib import Path

import pytest
from stack_harness import PROJECT_ROOT, run_program, stack_config

from mesh.implementations import REGISTRY, implementation_of
from mesh.istio.artifacts import ISTIO_CHART_REPOSITORY
from mesh.istio.settings import OLDEST_RELEASES
from mesh.linkerd.settings import LONGEST_TRUST_ANCHOR_HOURS
from review.program import SECRET
from settings.artifacts import GRAFANA_CHART_REPOSITORY
from settings.loader import ConfigError, environment_named_by, load_settings
from settings.models import GO_DURATION_MAX_HOURS, INT32_MAX

APP = {"name": "httpbin", "namespace": "sample"}
L7_APP = {**APP, "allowedMethods": ["GET"], "trafficClient": {"enabled": True}}
OPENID = {"servicemesh:observability.kiali.authStrategy": "openid"}
SECRET_PASSWORD = {"secure": "v1:c2VjcmV0"}


def _login(repository: str, password: object = SECRET_PASSWORD) -> dict[str, object]:
    return {
        "servicemesh:helm.repositoryCredentials": [{"repository": repository, "username": "ci", "password": password}]
    }


REFUSED = [
    # (id, stack, overrides, key named, value shown, what is allowed)
    # 2. Patterns match the whole value, in ASCII
    (
        "trust-domain-with-a-trailing-newline",
        "dev",
        {"servicemesh:mesh.trustDomain": "cluster.local\n"},
        "servicemesh:mesh.trustDomain",
        '"cluster.local\\n"',
        "must be a DNS-1123 subdomain",
    ),
    (
        "version-with-fullwidth-digits",
        "dev",
        {"servicemesh:mesh.istio.version": "1.\uff130.3"},
        "servicemesh:mesh.istio.version",
        '"1.\\uff130.3"',
        "ASCII digits",
    ),
    (
        "version-with-a-trailing-newline",
        "dev-consul",
        {"servicemesh:mesh.consul.chartVersion": "2.0.3\n"},
        "servicemesh:mesh.consul.chartVersion",
        '"2.0.3\\n"',
        "exact version X.Y.Z",
    ),
    (
        "version-with-a-leading-zero",
        "dev",
        {"servicemesh:observability.grafana.chartVersion": "12.011.1"},
        "servicemesh:observability.grafana.chartVersion",
        '"12.011.1"',
        "no leading zeros",
    ),
    (
        "linkerd-version-with-arabic-indic-digits",
        "dev-linkerd",
        {"servicemesh:mesh.linkerd.version": "\u0662\u0660\u0662\u0666.8.3"},
        "servicemesh:mesh.linkerd.version",
        '"\\u0662\\u0660\\u0662\\u0666.8.3"',
        "edge chart version YYYY.M.P",
    ),
    (
        "linkerd-version-with-a-trailing-newline",
        "dev-linkerd",
        {"servicemesh:mesh.linkerd.version": "2026.8.3\n"},
        "servicemesh:mesh.linkerd.version",
        '"2026.8.3\\n"',
        "edge chart version YYYY.M.P",
    ),
    (
        "namespace-with-a-trailing-newline",
        "dev",
        {"servicemesh:mesh.injectedNamespaces": ["sandbox\n"]},
        "servicemesh:mesh.injectedNamespaces[0]",
        '"sandbox\\n"',
        "must be a DNS-1123 label",
    ),
    (
        "image-tag-with-a-trailing-newline",
        "dev",
        {"servicemesh:apps": [{**APP, "image": "docker.io/mccutchen/go-httpbin:v2.18.3\n"}]},
        "servicemesh:apps[0].image",
        '"docker.io/mccutchen/go-httpbin:v2.18.3\\n"',
        "must be an image reference",
    ),
    (
        "image-repository-in-capitals",
        "dev",
        {"servicemesh:apps": [{**APP, "image": "docker.io/MccUtchen/go-httpbin:v2.18.3"}]},
        "servicemesh:apps[0].image",
        '"docker.io/MccUtchen/go-httpbin:v2.18.3"',
        "must be an image reference",
    ),
    (
        "quantity-with-fullwidth-digits",
        "dev",
        {"servicemesh:mesh.istio.istiod.resources.requests.cpu": "\uff1100m"},
        "servicemesh:mesh.istio.istiod.resources.requests.cpu",
        '"\\uff1100m"',
        "must be a Kubernetes quantity",
    ),
    (
        "duration-with-a-trailing-newline",
        "dev",
        {"servicemesh:observability.prometheus.retention": "6h\n"},
        "servicemesh:observability.prometheus.retention",
        '"6h\\n"',
        "must be a duration",
    ),
    (
        "host-with-a-label-over-63-characters",
        "dev",
        {"servicemesh:apps": [{**APP, "ingress": {"host": f"{'a' * 64}.example.com"}}]},
        "servicemesh:apps[0].ingress.host",
        f'"{"a" * 64}.example.com"',
        "each at most 63",
    ),
    # 3. System namespaces are never enrolled, owned or labelled
    (
        "app-in-kube-system",
        "dev",
        {"servicemesh:apps": [{**APP, "namespace": "kube-system"}]},
        "servicemesh:apps[0].namespace",
        '"kube-system"',
        "is a namespace Kubernetes keeps",
    ),
    (
        "default-enrolled",
        "dev",
        {"servicemesh:mesh.injectedNamespaces": ["default"]},
        "servicemesh:mesh.injectedNamespaces[0]",
        '"default"',
        "use a namespace of the stack's own",
    ),
    (
        "add-ons-in-kube-public",
        "dev-linkerd",
        {"servicemesh:observability.namespace": "kube-public"},
        "servicemesh:observability.namespace",
        '"kube-public"',
        "is a namespace Kubernetes keeps",
    ),
    (
        "control-plane-in-kube-node-lease",
        "dev",
        {"servicemesh:mesh.istio.namespace": "kube-node-lease"},
        "servicemesh:mesh.istio.namespace",
        '"kube-node-lease"',
        "is a namespace Kubernetes keeps",
    ),
    (
        "gateway-in-default",
        "dev",
        {"servicemesh:mesh.istio.gateway.namespace": "default"},
        "servicemesh:mesh.istio.gateway.namespace",
        '"default"',
        "is a namespace Kubernetes keeps",
    ),
    (
        "extension-in-a-kube-prefixed-namespace",
        "dev-linkerd",
        {"servicemesh:mesh.linkerd.vizNamespace": "kube-viz"},
        "servicemesh:mesh.linkerd.vizNamespace",
        '"kube-viz"',
        "kube-* is reserved",
    ),
    # 4. Names and collisions
    (
        "app-name-starting-with-a-digit",
        "dev",
        {"servicemesh:apps": [{**APP, "name": "1httpbin"}]},
        "servicemesh:apps[0].name",
        '"1httpbin"',
        "must be a DNS-1035 label",
    ),
    (
        "app-named-like-another-apps-traffic-client",
        "dev",
        {"servicemesh:apps": [{**APP, "trafficClient": {"enabled": True}}, {**APP, "name": "httpbin-client"}]},
        "servicemesh:apps[1].name",
        '"httpbin-client"',
        "is the name of the traffic client of apps[0] (httpbin)",
    ),
    (
        # Resource names are stack-wide: a client in another namespace still takes the name.
        "app-named-like-a-traffic-client-of-another-namespace",
        "dev-consul",
        {"servicemesh:apps": [{**APP, "name": "web-client", "namespace": "other"}, {**APP, "name": "web"}]},
        "servicemesh:apps[0].name",
        '"web-client"',
        "is the name of the traffic client of apps[1] (web)",
    ),
    (
        "app-named-like-the-waypoint-policy-of-another-app",
        "dev-ambient",
        {"servicemesh:apps": [L7_APP, {**APP, "name": "httpbin-waypoint"}]},
        "servicemesh:apps[1].name",
        '"httpbin-waypoint"',
        "is the name of an object the mesh adds beside apps[0] in namespace sample",
    ),
    (
        "app-named-like-the-probe-route-of-another-app",
        "dev-linkerd",
        {"servicemesh:apps": [L7_APP, {**APP, "name": "httpbin-probes"}]},
        "servicemesh:apps[1].name",
        '"httpbin-probes"',
        "is the name of an object the mesh adds beside apps[0]",
    ),
    (
        "app-named-like-the-default-deny-policy",
        "dev",
        {"servicemesh:apps": [{**APP, "name": "allow-nothing"}]},
        "servicemesh:apps[0].name",
        '"allow-nothing"',
        "uses for an object of its own in every enrolled namespace",
    ),
    (
        "app-named-like-the-waypoint",
        "dev-ambient",
        {"servicemesh:apps": [{**APP, "name": "waypoint"}]},
        "servicemesh:apps[0].name",
        '"waypoint"',
        "uses for an object of its own in every enrolled namespace",
    ),
    (
        "app-name-too-long-for-its-client",
        "dev-consul",
        {"servicemesh:apps": [{**APP, "name": "a" * 57}]},
        "servicemesh:apps[0].name",
        f'"{"a" * 57}"',
        "at most 56, so that the names derived from it (<app>-client) fit",
    ),
    (
        "app-name-too-long-for-its-waypoint-policy",
        "dev-ambient",
        {"servicemesh:apps": [{**APP, "name": "a" * 55}]},
        "servicemesh:apps[0].name",
        f'"{"a" * 55}"',
        "at most 54",
    ),
    (
        "image-tag-ending-in-a-dash",
        "dev",
        {"servicemesh:apps": [{**APP, "image": "docker.io/mccutchen/go-httpbin:v2.18.3-"}]},
        "servicemesh:apps[0].image",
        '"docker.io/mccutchen/go-httpbin:v2.18.3-"',
        "becomes its pods' `version` label",
    ),
    (
        "client-image-tag-over-63-characters",
        "dev",
        {"servicemesh:apps": [{**APP, "trafficClient": {"enabled": True, "image": f"curl:8.16.0-{'x' * 60}"}}]},
        "servicemesh:apps[0].trafficClient.image",
        f'"curl:8.16.0-{"x" * 60}"',
        "a label value is at most 63 characters",
    ),
    (
        "two-apps-claiming-one-host",
        "dev",
        {
            "servicemesh:apps": [
                {**APP, "ingress": {"host": "shop.example.com"}},
                {**APP, "name": "cart", "ingress": {"host": "shop.example.com", "pathPrefix": "/cart"}},
            ]
        },
        "servicemesh:apps[1].ingress.host",
        '"shop.example.com"',
        "is already the host of apps[0].ingress",
    ),
    (
        "path-prefix-with-a-query",
        "dev",
        {"servicemesh:apps": [{**APP, "ingress": {"host": "a.example.com", "pathPrefix": "/api?v=1"}}]},
        "servicemesh:apps[0].ingress.pathPrefix",
        '"/api?v=1"',
        "no space, query ('?')",
    ),
    (
        "path-prefix-with-a-dot-dot-segment",
        "dev",
        {"servicemesh:apps": [{**APP, "ingress": {"host": "a.example.com", "pathPrefix": "/api/../admin"}}]},
        "servicemesh:apps[0].ingress.pathPrefix",
        '"/api/../admin"',
        "'.' or '..' segment",
    ),
    (
        "health-path-with-a-space",
        "dev",
        {"servicemesh:apps": [{**APP, "healthPath": "/status 200"}]},
        "servicemesh:apps[0].healthPath",
        '"/status 200"',
        "must be an absolute URL path",
    ),
    # 5. Numbers and quantities
    (
        "replicas-beyond-int32",
        "dev",
        {"servicemesh:mesh.istio.istiod.replicas": INT32_MAX + 1},
        "servicemesh:mesh.istio.istiod.replicas",
        str(INT32_MAX + 1),
        f"must be an integer <= {INT32_MAX}",
    ),
    (
        "trace-count-beyond-int32",
        "dev",
        {"servicemesh:observability.jaeger.maxTraces": 10**12},
        "servicemesh:observability.jaeger.maxTraces",
        str(10**12),
        f"must be an integer <= {INT32_MAX}",
    ),
    (
        "replicas-of-1e100",
        "dev",
        {"servicemesh:apps": [{**APP, "replicas": 1e100}]},
        "servicemesh:apps[0].replicas",
        "1e+100",
        "must be an integer",
    ),
    (
        "memory-in-millibytes",
        "dev",
        {"servicemesh:mesh.istio.proxy.resources.requests.memory": "128m"},
        "servicemesh:mesh.istio.proxy.resources.requests.memory",
        '"128m"',
        "is in millibytes",
    ),
    (
        "memory-of-1e100",
        "dev",
        {"servicemesh:mesh.istio.istiod.resources.limits.memory": 1e100},
        "servicemesh:mesh.istio.istiod.resources.limits.memory",
        "1e+100",
        "is too large: at most",
    ),
    (
        "storage-with-an-exponent-of-a-thousand",
        "prod",
        {"servicemesh:observability.prometheus.persistence.size": "1e1000"},
        "servicemesh:observability.prometheus.persistence.size",
        '"1e1000"',
        "is too large: at most",
    ),
    (
        "half-a-byte",
        "dev",
        {"servicemesh:mesh.istio.istiod.resources.requests.memory": 0.5},
        "servicemesh:mesh.istio.istiod.resources.requests.memory",
        "0.5",
        "is not a whole number of bytes",
    ),
    (
        "cpu-finer-than-a-millicore",
        "dev",
        {"servicemesh:mesh.istio.istiod.resources.requests.cpu": "0.0001"},
        "servicemesh:mesh.istio.istiod.resources.requests.cpu",
        '"0.0001"',
        "is finer than a millicore",
    ),
    (
        "sampling-above-100-percent",
        "dev",
        {"servicemesh:observability.tracing.samplingPercentage": 150},
        "servicemesh:observability.tracing.samplingPercentage",
        "150",
        "must be a number <= 100",
    ),
    (
        "sampling-below-0-percent",
        "dev",
        {"servicemesh:observability.tracing.samplingPercentage": -0.5},
        "servicemesh:observability.tracing.samplingPercentage",
        "-0.5",
        "must be a number >= 0",
    ),
    # 6. Ports the data plane takes
    (
        "istio-sidecar-inbound-port",
        "dev",
        {"servicemesh:apps": [{**APP, "port": 15006}]},
        "servicemesh:apps[0].port",
        "15006",
        "by Envoy's inbound listener",
    ),
    (
        "istio-envoy-admin-port",
        "prod",
        {"servicemesh:apps": [{**APP, "port": 15000, "replicas": 2, "podDisruptionBudget": True}]},
        "servicemesh:apps[0].port",
        "15000",
        "by Envoy's admin interface",
    ),
    (
        "istio-ambient-hbone-port",
        "dev-ambient",
        {"servicemesh:apps": [{**APP, "port": 15008}]},
        "servicemesh:apps[0].port",
        "15008",
        "HBONE, the mTLS tunnel of ztunnel",
    ),
    (
        "linkerd-proxy-inbound-port",
        "dev-linkerd",
        {"servicemesh:apps": [{**APP, "port": 4143}]},
        "servicemesh:apps[0].port",
        "4143",
        "linkerd-proxy's inbound listener",
    ),
    (
        "linkerd-proxy-admin-port",
        "dev-linkerd",
        {"servicemesh:apps": [{**APP, "port": 4191}]},
        "servicemesh:apps[0].port",
        "4191",
        "allowed: 1 to 65535 but 4140, 4143, 4190, 4191",
    ),
    (
        "consul-envoy-public-listener-port",
        "dev-consul",
        {"servicemesh:apps": [{**APP, "port": 20000}]},
        "servicemesh:apps[0].port",
        "20000",
        "Envoy's public listener",
    ),
    (
        "consul-envoy-admin-port",
        "dev-consul",
        {"servicemesh:apps": [{**APP, "port": 19000}]},
        "servicemesh:apps[0].port",
        "19000",
        "Envoy's admin interface",
    ),
    # 7. Versions and lifetimes
    (
        "istio-before-its-values-were-unprefixed",
        "staging",
        {"servicemesh:mesh.istio.version": "1.23.6", "servicemesh:mesh.istio.revisions": []},
        "servicemesh:mesh.istio.version",
        '"1.23.6"',
        f"is older than {OLDEST_RELEASES[0]}",
    ),
    (
        "istio-revision-of-a-line-without-fail-closed-webhooks",
        "dev",
        {"servicemesh:mesh.istio.revisions": [{"name": "1-29-1", "version": "1.29.1"}]},
        "servicemesh:mesh.istio.revisions[0].version",
        '"1.29.1"',
        "allowed: 1.28.6 or a later 1.28.x, 1.29.2 or a later 1.29.x, or 1.30.0 and later",
    ),
    (
        "trust-anchor-beyond-what-go-durations-hold",
        "prod-linkerd",
        {"servicemesh:mesh.linkerd.certificates.trustAnchorValidityHours": GO_DURATION_MAX_HOURS + 1},
        "servicemesh:mesh.linkerd.certificates.trustAnchorValidityHours",
        str(GO_DURATION_MAX_HOURS + 1),
        f"must be an integer <= {LONGEST_TRUST_ANCHOR_HOURS}",
    ),
    (
        "issuer-for-a-century",
        "dev-linkerd",
        {"servicemesh:mesh.linkerd.certificates.issuerValidityHours": 876000},
        "servicemesh:mesh.linkerd.certificates.issuerValidityHours",
        "876000",
        "must be an integer <= 87600",
    ),
    (
        "prometheus-retention-beyond-go-durations",
        "dev",
        {"servicemesh:observability.prometheus.retention": "300y"},
        "servicemesh:observability.prometheus.retention",
        '"300y"',
        f"must be at most {GO_DURATION_MAX_HOURS}h",
    ),
    (
        "jaeger-retention-in-days",
        "prod",
        {"servicemesh:observability.jaeger.retention": "15d"},
        "servicemesh:observability.jaeger.retention",
        '"15d"',
        "Go durations have no d, w or y",
    ),
    # 8. URLs and credentials
    (
        "chart-repository-with-an-upper-case-scheme",
        "dev",
        {"servicemesh:mesh.istio.chartRepository": "HTTPS://charts.example.com/istio"},
        "servicemesh:mesh.istio.chartRepository",
        '"HTTPS://charts.example.com/istio"',
        "schemes are compared exactly",
    ),
    (
        "chart-repository-over-ftp",
        "dev-linkerd",
        {"servicemesh:mesh.linkerd.chartRepository": "ftp://charts.example.com/linkerd"},
        "servicemesh:mesh.linkerd.chartRepository",
        '"ftp://charts.example.com/linkerd"',
        "allowed: an https:// or oci:// chart repository URL",
    ),
    (
        "chart-repository-that-is-no-directory",
        "dev",
        {"servicemesh:observability.kiali.chartRepository": "./no-such-charts"},
        "servicemesh:observability.kiali.chartRepository",
        '"./no-such-charts"',
        "or an existing local directory: no such directory here",
    ),
    (
        "chart-repository-with-credentials",
        "dev",
        {"servicemesh:mesh.istio.chartRepository": "https://ci:hunter2@charts.example.com/istio"},
        "servicemesh:mesh.istio.chartRepository",
        '"https://ci:hunter2@charts.example.com/istio"',
        "embeds credentials",
    ),
    (
        "registry-path-with-credentials",
        "dev-consul",
        {"servicemesh:mesh.consul.chartRepository": "oci://ci:hunter2@registry.example.com/charts"},
        "servicemesh:mesh.consul.chartRepository",
        '"oci://ci:hunter2@registry.example.com/charts"',
        "embeds credentials",
    ),
    (
        "prod-chart-repository-over-plain-http",
        "prod",
        {"servicemesh:mesh.istio.chartRepository": "http://charts.example.com/istio"},
        "servicemesh:mesh.istio.chartRepository",
        '"http://charts.example.com/istio"',
        "is plain http:// in prod",
    ),
    (
        "prod-add-on-chart-over-plain-http",
        "prod-consul",
        {"servicemesh:observability.grafana.chartRepository": "http://charts.example.com/grafana"},
        "servicemesh:observability.grafana.chartRepository",
        '"http://charts.example.com/grafana"',
        "allowed: https://, oci:// or a local path",
    ),
    (
        "prod-crd-manifest-over-plain-http",
        "prod-ambient",
        {"servicemesh:mesh.istio.ambient.gatewayApiManifest": "http://mirror.example.com/standard-install.yaml"},
        "servicemesh:mesh.istio.ambient.gatewayApiManifest",
        '"http://mirror.example.com/standard-install.yaml"',
        "is plain http:// in prod",
    ),
    (
        "crd-manifest-that-is-no-file",
        "dev-ambient",
        {"servicemesh:mesh.istio.ambient.gatewayApiManifest": "crds/standard-install.yaml"},
        "servicemesh:mesh.istio.ambient.gatewayApiManifest",
        '"crds/standard-install.yaml"',
        "or an existing local file: no such file here",
    ),
    (
        "openid-issuer-over-plain-http",
        "prod",
        {**OPENID, "servicemesh:observability.kiali.openid": {"issuerUri": "http://idp.example.com", "clientId": "k"}},
        "servicemesh:observability.kiali.openid.issuerUri",
        '"http://idp.example.com"',
        "must be an https:// URL without query or fragment",
    ),
    (
        "openid-issuer-with-credentials",
        "staging",
        {
            **OPENID,
            "servicemesh:observability.kiali.openid": {"issuerUri": "https://a:b@idp.example.com", "clientId": "k"},
        },
        "servicemesh:observability.kiali.openid.issuerUri",
        '"https://a:b@idp.example.com"',
        "embeds credentials",
    ),
    (
        "openid-issuer-with-a-fragment",
        "staging",
        {
            **OPENID,
            "servicemesh:observability.kiali.openid": {"issuerUri": "https://idp.example.com/#x", "clientId": "k"},
        },
        "servicemesh:observability.kiali.openid.issuerUri",
        '"https://idp.example.com/#x"',
        "without query or fragment",
    ),
    (
        "dashboards-folder-with-credentials",
        "dev",
        {"servicemesh:observability.grafana.dashboards.baseUrl": "https://a:b@mirror.example.com/dashboards"},
        "servicemesh:observability.grafana.dashboards.baseUrl",
        '"https://a:b@mirror.example.com/dashboards"',
        "embeds credentials",
    ),
    (
        "repository-password-in-plain-text",
        "dev",
        _login(ISTIO_CHART_REPOSITORY, password="hunter2"),
        "servicemesh:helm.repositoryCredentials[0].password",
        None,
        "pulumi config set --secret --path 'servicemesh:helm.repositoryCredentials[0].password'",
    ),
    (
        "repository-login-for-a-repository-the-stack-does-not-use",
        "dev",
        _login("https://charts.example.com/unused", password="hunter2"),
        "servicemesh:helm.repositoryCredentials[0].repository",
        '"https://charts.example.com/unused"',
        f"would never be used; allowed: {ISTIO_CHART_REPOSITORY}, {GRAFANA_CHART_REPOSITORY}",
    ),
    (
        "repository-login-for-an-oci-registry",
        "dev",
        {
            "servicemesh:mesh.istio.chartRepository": "oci://registry.example.com/istio",
            **_login("oci://registry.example.com/istio", password="hunter2"),
        },
        "servicemesh:helm.repositoryCredentials[0].repository",
        '"oci://registry.example.com/istio"',
        "takes its login from `helm registry login`",
    ),
    (
        "repository-login-over-plain-http",
        "dev",
        {
            "servicemesh:mesh.istio.chartRepository": "http://charts.example.com/istio",
            **_login("http://charts.example.com/istio", password="hunter2"),
        },
        "servicemesh:helm.repositoryCredentials[0].repository",
        '"http://charts.example.com/istio"',
        "a password is never sent in plain text",
    ),
    # 9. Prod guardrails that no label or typo switches off
    (
        "prod-stack-that-says-it-is-dev",
        "prod",
        {"servicemesh:environment": "dev"},
        "servicemesh:environment",
        '"dev"',
        "does not match the stack 'prod', whose name says prod; allowed: prod",
    ),
    (
        "prod-linkerd-stack-that-says-it-is-staging",
        "prod-linkerd",
        {"servicemesh:environment": "staging"},
        "servicemesh:environment",
        '"staging"',
        "allowed: prod",
    ),
    (
        "dev-stack-that-says-it-is-staging",
        "dev-consul",
        {"servicemesh:environment": "staging"},
        "servicemesh:environment",
        '"staging"',
        "whose name says dev; allowed: dev",
    ),
    (
        "authorization-under-a-misspelled-namespace",
        "prod",
        {"servicmesh:authorization": {"defaultDeny": False}},
        "servicmesh:authorization",
        '{"defaultDeny": false}',
        "did you mean 'servicemesh:authorization'?",
    ),
    (
        "key-under-the-namespace-with-a-trailing-dash",
        "dev",
        {"servicemesh-:mesh": {"mtlsMode": "STRICT"}},
        "servicemesh-:mesh",
        '{"mtlsMode": "STRICT"}',
        "did you mean 'servicemesh:mesh'?",
    ),
    (
        "key-under-the-namespace-in-capitals",
        "dev",
        {"ServiceMesh:environment": "prod"},
        "ServiceMesh:environment",
        '"prod"',
        "did you mean 'servicemesh:environment'?",
    ),
]


@pytest.mark.parametrize(
    ("stack", "overrides", "key", "value", "allowed"), [pytest.param(*case[1:], id=case[0]) for case in REFUSED]
)
def test_an_operator_mistake_stops_the_program_before_any_resource(stack, overrides, key, value, allowed):
    run = run_program(stack_config(stack, overrides), stack=stack)

    assert isinstance(run.error, ConfigError), run.error
    assert run.resources == [], "no resource may be registered from a bad configuration"
    problems = [str(problem) for problem in run.error.problems if problem.key == key]
    assert problems, f"no problem names {key}: {run.error}"
    assert (f"{key}:" if value is None else f"{key} = {value}:") in problems[0]
    assert allowed in problems[0]


def test_every_class_of_mistake_is_reported_at_once():
    overrides = {
        "servicemesh:mesh.trustDomain": "cluster.local\n",
        "servicemesh:observability.tracing.samplingPercentage": 150,
        "servicmesh:authorization": {"defaultDeny": True},
    }
    refused = run_program(stack_config("dev", overrides), stack="dev").error
    rules = {
        "servicemesh:apps": [{**APP, "namespace": "kube-system", "port": 15006}, {**APP, "name": "httpbin-client"}],
        "servicemesh:mesh.istio.chartRepository": "http://charts.example.com/istio",
        "servicemesh:environment": "dev",
    }
    broken = run_program(stack_config("prod", rules), stack="prod").error

    assert {problem.key for problem in refused.problems} == {*overrides}
    assert {
        "servicemesh:apps[0].namespace",
        "servicemesh:apps[0].port",
        "servicemesh:apps[1].name",
        "servicemesh:environment",
    } <= {problem.key for problem in broken.problems}


# NaN and infinity: the engine's JSON cannot carry them, but the program refuses them too.


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf])
def test_a_number_that_is_not_finite_is_refused(number):
    resources = {"requests": {"cpu": number, "memory": "1Gi"}}
    with pytest.raises(ConfigError) as refused:
        load_settings(
            {
                "servicemesh:environment": "dev",
                "servicemesh:observability": json.dumps({"tracing": {"samplingPercentage": number}}),
                "servicemesh:mesh": json.dumps({"istio": {"istiod": {"resources": resources}}}),
            }
        )

    messages = {problem.key: str(problem) for problem in refused.value.problems}
    assert "must be a finite number" in messages["servicemesh:observability.tracing.samplingPercentage"]
    assert "must be a finite number" in messages["servicemesh:mesh.istio.istiod.resources.requests.cpu"]


# What stays accepted


@pytest.mark.parametrize(("cpu", "text"), [(1, "1"), (0.5, "0.5"), ("250m", "250m"), (2, "2")])
def test_cpu_given_as_a_yaml_number_reaches_the_pods_as_kubernetes_reads_it(cpu, text):
    run = run_program(
        stack_config(
            "dev",
            {
                "servicemesh:apps": [
                    {
                        **APP,
                        "resources": {
                            "requests": {"cpu": cpu, "memory": "32Mi"},
                            "limits": {"cpu": 2, "memory": "64Mi"},
                        },
                    }
                ]
            },
        ),
        stack="dev",
    )

    assert run.error is None, run.error
    deployment = run.named("app-httpbin-deployment").inputs
    assert deployment["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] == text


def test_apps_whose_names_share_a_prefix_are_not_collisions():
    apps = [{**L7_APP, "name": "api"}, {**L7_APP, "name": "api-v2"}, {**APP, "name": "api-client-v2"}]

    for stack in ("dev-ambient", "dev-linkerd", "dev-consul"):
        run = run_program(stack_config(stack, {"servicemesh:apps": apps}), stack=stack)
        assert run.error is None, f"{stack}: {run.error}"


@pytest.mark.parametrize("stack", ["dev", "dev-ambient", "dev-linkerd", "dev-consul"])
def test_every_object_a_mesh_adds_to_an_app_namespace_is_named_as_its_implementation_declares(stack):
    """The collision rule knows each mesh's names from the registry; this holds the registry to what
    the mesh really registers beside an app with L7 rules, a client and default deny."""
    run = run_program(
        stack_config(stack, {"servicemesh:apps": [L7_APP], "servicemesh:authorization.defaultDeny": True}),
        stack=stack,
    )
    entry = implementation_of(load_settings(stack_config(stack)).mesh)
    app, client = L7_APP["name"], f"{L7_APP['name']}-client"
    declared = {app, client, *(f"{app}-{suffix}" for suffix in entry.workload_name_suffixes)}

    names = {
        resource.inputs["metadata"]["name"]
        for resource in run.resources
        if isinstance(resource.inputs.get("metadata"), dict)
        and resource.inputs["metadata"].get("namespace") == "sample"
    }
    assert names
    assert names <= declared | entry.namespace_object_names, names - declared - entry.namespace_object_names


@pytest.mark.parametrize("entry", REGISTRY, ids=lambda entry: entry.provider)
def test_every_reserved_port_is_one_an_app_could_ask_for_and_says_who_owns_it(entry):
    assert entry.reserved_ports
    assert all(1 <= port <= 65535 and owner for port, owner in entry.reserved_ports.items())
    assert 8080 not in entry.reserved_ports, "the default app port must stay usable"


def test_plain_http_chart_sources_stay_allowed_outside_prod():
    overrides = {"servicemesh:mesh.istio.chartRepository": "http://charts.internal/istio"}

    assert run_program(stack_config("dev", overrides), stack="dev").error is None


def test_a_local_chart_directory_and_manifest_file_are_accepted(tmp_path):
    manifest = tmp_path / "standard-install.yaml"
    manifest.write_text("")
    overrides = {
        "servicemesh:mesh.istio.chartRepository": f"file://{tmp_path}",
        "servicemesh:observability.grafana.chartRepository": str(tmp_path),
        "servicemesh:mesh.istio.ambient.gatewayApiManifest": str(manifest),
    }

    assert run_program(stack_config("prod-ambient", overrides), stack="prod-ambient").error is None


def test_a_secret_repository_login_reaches_helm_for_that_repository_only():
    run = run_program(stack_config("prod", _login(ISTIO_CHART_REPOSITORY)), stack="prod")

    assert run.error is None, run.error
    options = run.named("istio-istiod-1-30-3")
    assert options.inputs["repositoryOpts"] == {"repo": ISTIO_CHART_REPOSITORY, "username": "ci", "password": SECRET}
    redacted = options.redacted_inputs["repositoryOpts"]
    assert redacted == SECRET or redacted["password"] == SECRET, "the password is a secret in the state"
    grafana = next(resource for resource in run.resources if resource.inputs.get("chart") == "grafana")
    assert grafana.inputs["repositoryOpts"] == {"repo": GRAFANA_CHART_REPOSITORY}


def test_an_istio_release_that_reads_every_value_is_accepted():
    revisions = [{"name": "1-29-2", "version": "1.29.2"}, {"name": "1-30-3", "version": "1.30.3"}]
    overrides = {"servicemesh:mesh.istio.revisions": revisions}

    assert run_program(stack_config("dev", overrides), stack="dev").error is None


@pytest.mark.parametrize(
    ("stack", "environment"),
    [
        ("prod", "prod"),
        ("prod-eu", "prod"),
        ("eu-production", "prod"),
        ("mesh-prd2", "prod"),
        ("dev-prod-mirror", "prod"),
        ("staging", "staging"),
        ("stage_2", "staging"),
        ("dev-linkerd", "dev"),
        ("Dev", "dev"),
        ("test", None),
        ("product-demo", None),
        ("devops-sandbox", None),
    ],
)
def test_a_stack_name_says_its_environment_by_a_word_of_it(stack, environment):
    assert environment_named_by(stack) == environment


def test_a_stack_whose_name_says_no_environment_may_be_any():
    for environment in ("dev", "staging"):
        assert (
            run_program(stack_config("staging", {"servicemesh:environment": environment}), stack="eu-1").error is None
        )


def test_every_stack_file_says_the_environment_its_name_says():
    for path in sorted(PROJECT_ROOT.glob("Pulumi.*.yaml")):
        stack = path.name.split(".")[1]
        assert environment_named_by(stack) == load_settings(stack_config(stack)).environment, path.name


# Patterns, checked in the source: every validating pattern matches whole values with ASCII classes.

# Everything that reads config, stack files, images or the engine's output: the program and the reviewer.
PATTERN_SOURCES = sorted(
    path
    for package in (
        "settings",
        "policy",
        "mesh",
        "apps",
        "observability",
        "target_cluster",
        "review",
        "trust",
        "multicluster",
    )
    for path in (PROJECT_ROOT / package).rglob("*.py")
)
# Patterns that take a prefix of a value, and validate nothing.
PREFIX_PATTERNS = {("settings/secrets.py", "_CONFIG_KEY")}


def _strings(tree: ast.Module) -> list[str]:
    """The string literals of the code, f-string parts included, docstrings left out."""
    bare = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in bare
    ]


def _compiled_patterns(tree: ast.Module) -> dict[str, str]:
    """Module-level `NAME = re.compile(...)`: the source of each pattern, by name."""
    return {
        target.id: ast.unparse(node.value.args[0])
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
        if ast.unparse(node.value.func) == "re.compile" and node.value.args
        for target in node.targets
        if isinstance(target, ast.Name)
    }


@pytest.mark.parametrize("path", PATTERN_SOURCES, ids=lambda path: str(path.relative_to(PROJECT_ROOT)))
def test_no_pattern_accepts_a_trailing_newline_or_a_unicode_digit(path: Path):
    tree = ast.parse(path.read_text())
    relative = str(path.relative_to(PROJECT_ROOT))
    patterns = _compiled_patterns(tree)
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)]

    assert not [text for text in _strings(tree) if "\\d" in text or "\\w" in text], "spell ASCII classes: [0-9]"
    assert not [name for name, pattern in patterns.items() if re.search(r"\$['\"]$", pattern)], "$ accepts a newline"
    assert not [call for call in calls if ast.unparse(call.func) in ("re.match", "re.search") and call.args], (
        "compile the pattern and match the whole value with fullmatch"
    )
    assert not [keyword for call in calls for keyword in call.keywords if keyword.arg == "pattern"], (
        "pydantic's pattern= matches \\d as any Unicode digit: validate with fullmatch"
    )
    prefix_matches = [
        call.func.value.id
        for call in calls
        if isinstance(call.func, ast.Attribute) and call.func.attr == "match" and isinstance(call.func.value, ast.Name)
        if call.func.value.id in patterns and (relative, call.func.value.id) not in PREFIX_PATTERNS
    ]
    assert prefix_matches == [], "match() accepts anything after a matching prefix: use fullmatch()"


def test_linkerd_certificates_live_far_inside_what_go_durations_hold():
    assert LONGEST_TRUST_ANCHOR_HOURS * 10 < GO_DURATION_MAX_HOURS
