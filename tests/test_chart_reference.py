"""The values and custom resources the program sets exist in the pinned charts as published.

Helm ignores a misspelled value key without a word, so each key is checked against the chart's
own `values.yaml` (and the gateway's `values.schema.json`). The upstream files live in
`../shared/reference/` beside the project, or where SERVICEMESH_REFERENCE_DIR points; a checkout
without them skips these tests.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

import jsonschema
import pytest
import yaml
from reference_data import HELM_CHARTS, ISTIO, MISSING_REASON, REFERENCE
from stack_harness import stack_names, stack_run
from test_manifest_schemas import as_manifest

from mesh.charts import HELM_INSTALL_TYPES
from mesh.objects import pod_spec_of, type_token_of
from review import images

CHART = "kubernetes:helm.sh/v4:Chart"

pytestmark = pytest.mark.skipif(not ISTIO.is_dir(), reason=MISSING_REASON)

# meshConfig is Istio's MeshConfig API (istio.mesh.v1alpha1), passed through by the chart
# unchecked; these are the MeshConfig fields the program may set.
MESH_CONFIG_FIELDS = {
    "rootNamespace",
    "trustDomain",
    "accessLogFile",
    "enablePrometheusMerge",
    "extensionProviders",
    # A trust bundle of several roots (mesh.istio.trust): the proxies' agent metadata, istiod's extra roots.
    "defaultConfig",
    "caCertificates",
}


# The upstream values of each chart the program installs, at the pinned version.
CHART_VALUES = {
    "base": ISTIO / "charts" / "base" / "values.yaml",
    "istiod": ISTIO / "charts" / "istiod" / "values.yaml",
    "gateway": ISTIO / "charts" / "gateway" / "values.yaml",
    "cni": ISTIO / "charts" / "cni" / "values.yaml",
    "ztunnel": ISTIO / "charts" / "ztunnel" / "values.yaml",
    "linkerd-crds": REFERENCE / "charts" / "linkerd-crds-edge-26.8.3" / "values.yaml",
    "linkerd-control-plane": REFERENCE / "charts" / "linkerd-control-plane-edge-26.8.3" / "values.yaml",
    "linkerd-viz": REFERENCE / "charts" / "linkerd-viz-edge-26.8.3" / "values.yaml",
    "consul": REFERENCE / "charts" / "consul-2.0.3" / "values.yaml",
    "prometheus": REFERENCE / "charts" / "prometheus-29.27.0" / "values.yaml",
    "grafana": REFERENCE / "charts" / "grafana-12.11.1" / "values.yaml",
    "kiali-server": REFERENCE / "charts" / "kiali-server-2.29.0" / "values.yaml",
    "jaeger": REFERENCE / "charts" / "jaeger-4.11.1" / "values.yaml",
}
# Sections a chart copies verbatim into the add-on's own configuration, unchecked by Helm:
# Kiali's config file and Jaeger's whole collector config; and the Istio gateway chart's `labels`,
# a free map of labels it puts on its objects (the east-west gateway's network label).
PASSED_THROUGH = {"external_services", "userconfig", "labels"}
# Keys the chart's templates read although its values.yaml does not list them (read in the
# charts' templates at the pinned tags): the Jaeger Deployment's pod labels and update strategy
# (templates/jaeger/jaeger-deploy.yaml), the failure policy
# of the base chart's default-revision webhook
# (templates/defaultrevision-validatingwebhookconfiguration.yaml), and the `profile` every Istio
# chart applies from its files/profile-<name>.yaml (templates/zzz_profile.yaml).
TEMPLATE_ONLY = {
    "jaeger": {"jaeger.podLabels", "jaeger.strategy"},
    "base": {"base.validationFailurePolicy"},
    "istiod": {"profile"},
    "cni": {"profile"},
    "ztunnel": {"profile"},
}


def chart_defaults(chart: str) -> tuple[dict[str, Any], str]:
    text = CHART_VALUES[chart].read_text()
    defaults = yaml.safe_load(text)
    return defaults.get("_internal_defaults_do_not_set", defaults), text


def unknown_keys(values: dict[str, Any], defaults: dict[str, Any], text: str, path: str = "") -> list[str]:
    """Keys of `values` that the chart neither sets by default nor documents in a comment."""
    unknown = []
    for key, value in values.items():
        where = f"{path}{key}"
        if where == "meshConfig":
            unknown += [f"meshConfig.{field}" for field in value if field not in MESH_CONFIG_FIELDS]
        elif where in PASSED_THROUGH:
            continue
        elif key not in defaults:
            if not re.search(rf"^\s*#\s*{re.escape(key)}:", text, re.MULTILINE):
                unknown.append(where)
        elif isinstance(value, dict) and isinstance(defaults[key], dict) and defaults[key]:
            # A Kubernetes resources block: the chart renders it whole, limits included.
            if key in ("requests", "limits") or (key == "resources" and "requests" in defaults[key]):
                continue
            unknown += unknown_keys(value, defaults[key], text, f"{where}.")
    return unknown


@pytest.mark.parametrize("stack", stack_names())
def test_every_value_key_exists_in_the_chart(stack):
    installed = [resource for resource in stack_run(stack).resources if resource.type in HELM_INSTALL_TYPES]

    assert {resource.inputs["chart"] for resource in installed} <= set(CHART_VALUES), "a chart is not checked"
    for resource in installed:
        chart = resource.inputs["chart"]
        defaults, text = chart_defaults(chart)
        assert set(unknown_keys(resource.inputs["values"], defaults, text)) <= TEMPLATE_ONLY.get(chart, set()), chart


def test_prometheus_values_satisfy_the_chart_schema(any_stack):
    schema = json.loads((REFERENCE / "charts" / "prometheus-29.27.0" / "values.schema.json").read_text())
    (prometheus,) = [resource for resource in any_stack.of_type(CHART) if resource.inputs["chart"] == "prometheus"]

    jsonschema.Draft7Validator(schema).validate(as_manifest(prometheus)["values"])


def test_gateway_values_satisfy_the_chart_schema(any_stack):
    schema = json.loads((ISTIO / "charts" / "gateway" / "values.schema.json").read_text())
    (gateway,) = [resource for resource in any_stack.of_type(CHART) if resource.inputs["chart"] == "gateway"]

    jsonschema.Draft7Validator(schema).validate(gateway.inputs["values"])


def test_the_unknown_key_check_catches_a_misspelling():
    defaults, text = chart_defaults("istiod")

    assert unknown_keys({"autoscaleEnable": True, "global": {"proxy": {"resourcez": {}}}}, defaults, text) == [
        "autoscaleEnable",
        "global.proxy.resourcez",
    ]


@functools.cache
def istio_crds() -> list[dict[str, Any]]:
    return [doc for doc in yaml.load_all((ISTIO / "crd-all.gen.yaml").read_text(), Loader=yaml.CSafeLoader) if doc]


def test_the_peer_authentication_kind_and_version_are_served_by_the_crds(any_stack):
    crds = istio_crds()
    (peer_authentication,) = any_stack.of_type("kubernetes:security.istio.io/v1:PeerAuthentication")
    group, version = peer_authentication.inputs["apiVersion"].split("/")

    (crd,) = [crd for crd in crds if crd["spec"]["names"]["kind"] == "PeerAuthentication"]
    assert crd["spec"]["group"] == group
    served = {entry["name"] for entry in crd["spec"]["versions"] if entry["served"]}
    assert version in served
    modes = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["mtls"][
        "properties"
    ]["mode"]["enum"]
    assert peer_authentication.inputs["spec"]["mtls"]["mode"] in modes


# The charts' templates: what a value turns into


# Where each add-on chart's Deployment template reads its update strategy.
STRATEGY_KEYS = {
    "grafana": ("templates/deployment.yaml", "deploymentStrategy"),
    "prometheus": ("templates/deploy.yaml", "server.strategy"),
    "jaeger": ("templates/jaeger/jaeger-deploy.yaml", "jaeger.strategy"),
}
# Init containers the charts render without resources and offer no key to size: Consul's servers'
# `locality-init` (installed as a Helm release, the chart's objects cannot be patched either).
UNSIZABLE_INIT_CONTAINERS = {("consul-server", "locality-init")}
# The prod stacks put every add-on on a volume and run every mesh: they render every init container.
PROD_STACKS = [stack for stack in stack_names() if stack.startswith("prod")]


def template(chart: str, path: str) -> str:
    return (HELM_CHARTS / chart / path).read_text()


def value_at(values: dict[str, Any], dotted: str) -> Any:
    for part in dotted.split("."):
        values = values.get(part, {})
    return values


@pytest.mark.parametrize("chart", sorted(STRATEGY_KEYS))
def test_the_recreate_strategy_is_set_where_the_charts_deployment_reads_it(prod, chart):
    path, key = STRATEGY_KEYS[chart]
    (installed,) = [resource for resource in prod.of_type(CHART) if resource.inputs["chart"] == chart]

    assert value_at(installed.inputs["values"], key) == {"type": "Recreate"}
    # The template line that reads the key opens the block that renders `spec.strategy`.
    assert re.search(rf"\.Values\.{re.escape(key)}\b[^\n]*}}}}\s*\n\s*strategy:", template(chart, path)), path


def test_consuls_locality_init_still_has_no_resources_key():
    """When a chart version sizes it, set it in mesh/consul/values.py and drop it from UNSIZABLE_INIT_CONTAINERS."""
    statefulset = template("consul", "templates/server-statefulset.yaml")
    start = statefulset.index("- name: locality-init")
    locality_init = statefulset[start : statefulset.index("containers:\n", start)]

    assert "resources" not in locality_init


@functools.cache
def rendered_pods(stack: str, helm: str) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(kind, object, pod spec) of every pod-bearing object the stack's charts render, hooks included."""
    pods = []
    kube_version = images.pinned_kubernetes_version()
    for install in images.chart_installs(stack_run(stack).resources):
        directory = images.chart_directory(install, charts=HELM_CHARTS)
        for manifest in images.render_chart(install, directory=directory, helm=helm, kube_version=kube_version):
            pod_spec = pod_spec_of(type_token_of(manifest), manifest)
            if pod_spec is not None:
                pods.append((manifest["kind"], manifest, pod_spec))
    return pods


@pytest.mark.charts
@pytest.mark.parametrize("stack", PROD_STACKS)
def test_every_rendered_deployment_on_a_volume_claim_is_recreated(helm, stack):
    on_claims = {
        manifest["metadata"]["name"]: manifest["spec"].get("strategy", {}).get("type")
        for kind, manifest, pod_spec in rendered_pods(stack, helm)
        if kind == "Deployment" and any("persistentVolumeClaim" in volume for volume in pod_spec.get("volumes") or [])
    }

    assert on_claims == dict.fromkeys(("prometheus", "grafana", "jaeger"), "Recreate")


@pytest.mark.charts
@pytest.mark.parametrize("stack", PROD_STACKS)
def test_every_rendered_init_container_has_requests_and_limits(helm, stack):
    unsized = {
        (manifest["metadata"]["name"], container["name"])
        for _, manifest, pod_spec in rendered_pods(stack, helm)
        for container in pod_spec.get("initContainers") or []
        if any(
            not (container.get("resources") or {}).get(kind, {}).get(resource)
            for kind in ("requests", "limits")
            for resource in ("cpu", "memory")
        )
    }

    assert unsized <= UNSIZABLE_INIT_CONTAINERS
