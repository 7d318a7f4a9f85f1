"""Given each real stack file, Prometheus, Grafana, Kiali and Jaeger run wired to the mesh and to
each other, sized and secured per environment."""

from __future__ import annotations

from decimal import Decimal

import pytest
from stack_harness import DELETE, footprint_parts, run_program, run_stack, stack_config, stack_run

from mesh.charts import HELM_INSTALL_TYPES
from settings.loader import ConfigError

CHART = "kubernetes:helm.sh/v4:Chart"
TELEMETRY = "kubernetes:telemetry.istio.io/v1:Telemetry"
SECRET = "kubernetes:core/v1:Secret"
CLUSTER_SUFFIX = ".svc.cluster.local"
ADDON_CHARTS = {
    "prometheus": "https://prometheus-community.github.io/helm-charts",
    "grafana": "https://grafana-community.github.io/helm-charts",
    "kiali-server": "https://kiali.org/helm-charts",
    "jaeger": "https://jaegertracing.github.io/helm-charts",
}
JAEGER_CHART_PORTS = {"otlp-grpc": 4317, "otlp-http": 4318, "http-query": 16686, "grpc-query": 16685}


def chart(run, name):
    matches = [resource for resource in run.of_type(CHART) if resource.inputs["chart"] == name]
    return matches[0] if matches else None


def values(run, name):
    return chart(run, name).inputs["values"]


def services(run) -> dict[str, set[int]]:
    """The add-on Services the stack creates, `name.namespace` → ports, read from what each chart is
    given (its release name or name override, and its service port) the way the chart names them."""
    created: dict[str, set[int]] = {}
    if prometheus := chart(run, "prometheus"):
        server = prometheus.inputs["values"]["server"]
        created[f"{server['fullnameOverride']}.{prometheus.inputs['namespace']}"] = {server["service"]["servicePort"]}
    if grafana := chart(run, "grafana"):
        created[f"{grafana.inputs['name']}.{grafana.inputs['namespace']}"] = {
            grafana.inputs["values"]["service"]["port"]
        }
    if kiali := chart(run, "kiali-server"):
        kiali_values = kiali.inputs["values"]
        created[f"{kiali_values['deployment']['instance_name']}.{kiali.inputs['namespace']}"] = {
            kiali_values["server"]["port"]
        }
    if jaeger := chart(run, "jaeger"):
        created[f"{jaeger.inputs['values']['fullnameOverride']}.{jaeger.inputs['namespace']}"] = set(
            JAEGER_CHART_PORTS.values()
        )
    return created


def resolves(run, url: str) -> bool:
    """Whether an in-cluster `http://name.namespace.svc.cluster.local:port` URL names a created Service."""
    host, port = url.removeprefix("http://").split(":")
    return int(port) in services(run).get(host.removesuffix(CLUSTER_SUFFIX), set())


# Charts


def test_every_add_on_chart_is_pinned_and_names_its_repository(any_stack):
    for name, repository in ADDON_CHARTS.items():
        installed = chart(any_stack, name)
        assert installed.inputs["repositoryOpts"] == {"repo": repository}
        assert installed.inputs["version"].count(".") == 2
        assert installed.inputs["namespace"] == "istio-system"


def test_add_on_pods_stay_out_of_the_mesh(any_stack):
    not_injected = {"sidecar.istio.io/inject": "false"}

    assert values(any_stack, "prometheus")["server"]["podLabels"] == not_injected
    assert values(any_stack, "grafana")["podLabels"] == not_injected
    assert values(any_stack, "kiali-server")["deployment"]["pod_labels"] == not_injected
    assert values(any_stack, "jaeger")["jaeger"]["podLabels"] == not_injected


def test_prometheus_keeps_the_pod_annotation_scrape_job_that_metrics_merging_relies_on(any_stack):
    prometheus = values(any_stack, "prometheus")

    assert "scrapeConfigs" not in prometheus, "the chart's default jobs include kubernetes-pods"
    assert values(any_stack, "istiod")["meshConfig"]["enablePrometheusMerge"] is True
    for component in ("alertmanager", "kube-state-metrics", "prometheus-node-exporter", "prometheus-pushgateway"):
        assert prometheus[component] == {"enabled": False}


# Wiring by names the stack creates


def test_kiali_reaches_prometheus_grafana_and_jaegers_grpc_query_port(any_stack):
    external = values(any_stack, "kiali-server")["external_services"]

    assert resolves(any_stack, external["prometheus"]["url"])
    assert resolves(any_stack, external["grafana"]["internal_url"])
    assert resolves(any_stack, external["tracing"]["internal_url"])
    assert external["tracing"]["internal_url"].endswith(f":{JAEGER_CHART_PORTS['grpc-query']}")
    assert external["tracing"]["use_grpc"] is True
    assert external["istio"]["root_namespace"] == "istio-system"


@pytest.mark.parametrize("stack", ["dev", "dev-linkerd"])
def test_by_default_the_add_ons_get_a_namespace_of_their_own_whatever_the_mesh(stack):
    run = run_stack(stack, {"servicemesh:observability.namespace": DELETE})

    installed = [chart(run, name) for name in ADDON_CHARTS if chart(run, name)]
    assert len(installed) >= 2
    assert {addon.inputs["namespace"] for addon in installed} == {"observability"}
    assert resolves(run, values(run, "grafana")["datasources"]["datasources.yaml"]["datasources"][0]["url"])


def test_grafana_reads_prometheus_and_provisions_istios_dashboards(any_stack):
    grafana = values(any_stack, "grafana")

    (datasource,) = grafana["datasources"]["datasources.yaml"]["datasources"]
    assert datasource["type"] == "prometheus"
    assert datasource["isDefault"] is True
    assert resolves(any_stack, datasource["url"])
    (provider,) = grafana["dashboardProviders"]["dashboardproviders.yaml"]["providers"]
    dashboards = grafana["dashboards"][provider["name"]]
    assert {"istio-mesh", "istio-service", "istio-workload", "istio-control-plane"} <= set(dashboards)
    assert all("/istio/istio/1.30.3/" in dashboard["url"] for dashboard in dashboards.values())


# Grafana's dashboards

ISTIO_DASHBOARDS_FOLDER = "https://raw.githubusercontent.com/istio/istio/1.30.3/manifests/addons/dashboards"
DASHBOARDS = "servicemesh:observability.grafana.dashboards"


def dashboard_provider(grafana):
    (provider,) = grafana["dashboardProviders"]["dashboardproviders.yaml"]["providers"]
    return provider


def dashboard_urls(grafana) -> dict[str, str]:
    dashboards = grafana["dashboards"][dashboard_provider(grafana)["name"]]
    return {name: dashboard["url"] for name, dashboard in dashboards.items()}


def curl_flags(options: str) -> set[str]:
    """Each curl option, short flags one by one (`-sSf` is `-s`, `-S`, `-f`)."""
    flags = set()
    for word in options.split():
        if word.startswith("--"):
            flags.add(word)
        elif word.startswith("-"):
            flags |= {f"-{letter}" for letter in word[1:]}
    return flags


def test_by_default_grafana_downloads_istios_dashboards_from_its_release_with_tls_verified(dev):
    grafana = values(dev, "grafana")

    urls = dashboard_urls(grafana)
    assert urls["istio-mesh"] == f"{ISTIO_DASHBOARDS_FOLDER}/istio-mesh-dashboard.gen.json"
    assert all(url.startswith(f"{ISTIO_DASHBOARDS_FOLDER}/") for url in urls.values())
    # The chart's default is `-skf`: -k skips TLS verification.
    flags = curl_flags(grafana["defaultCurlOptions"])
    assert not {"-k", "--insecure"} & flags
    assert {"-f", "-L", "--proto-redir"} <= flags
    assert "=https" in grafana["defaultCurlOptions"].split(), "redirects may lead to https only"
    assert "dashboardsConfigMaps" not in grafana


def test_ambient_adds_the_ztunnel_dashboard(dev_ambient):
    urls = dashboard_urls(values(dev_ambient, "grafana"))

    assert urls["istio-ztunnel"] == f"{ISTIO_DASHBOARDS_FOLDER}/ztunnel-dashboard.gen.json"
    assert "istio-ztunnel" not in dashboard_urls(values(stack_run("dev"), "grafana"))


def test_a_mirror_serves_the_same_files_from_base_url(dev):
    mirror = "https://mirror.example.com:8443/istio/1.30.3/dashboards"
    run = run_stack("dev", {f"{DASHBOARDS}.baseUrl": f"{mirror}/"})

    published = dashboard_urls(values(dev, "grafana"))
    grafana = values(run, "grafana")
    assert dashboard_urls(grafana) == {
        name: url.replace(ISTIO_DASHBOARDS_FOLDER, mirror) for name, url in published.items()
    }
    assert grafana["defaultCurlOptions"] == values(dev, "grafana")["defaultCurlOptions"]


def test_from_a_config_map_grafana_downloads_nothing():
    run = run_stack("dev", {f"{DASHBOARDS}.configMap": "istio-dashboards"})

    grafana = values(run, "grafana")
    provider = dashboard_provider(grafana)
    assert grafana["dashboardsConfigMaps"] == {provider["name"]: "istio-dashboards"}
    # The chart mounts a provider's ConfigMap at this folder, and renders its download container
    # only for `dashboards`.
    assert provider["options"]["path"] == f"/var/lib/grafana/dashboards/{provider['name']}"
    assert provider["folder"] == "Istio"
    assert not {"dashboards", "defaultCurlOptions", "downloadDashboards"} & set(grafana)


def test_dashboards_switched_off_leave_grafana_without_any():
    run = run_stack("dev", {f"{DASHBOARDS}.enabled": False})

    grafana = values(run, "grafana")
    assert not {"dashboardProviders", "dashboards", "dashboardsConfigMaps", "downloadDashboards"} & set(grafana)
    assert grafana["datasources"] == values(stack_run("dev"), "grafana")["datasources"]


def test_istiod_sends_spans_to_jaegers_otlp_collector(any_stack):
    (provider,) = values(any_stack, "istiod")["meshConfig"]["extensionProviders"]

    collector = provider["opentelemetry"]
    assert resolves(any_stack, f"http://{collector['service']}:{int(collector['port'])}")
    assert collector["port"] == JAEGER_CHART_PORTS["otlp-grpc"]


def test_one_mesh_wide_telemetry_traces_through_that_provider(any_stack):
    (telemetry,) = any_stack.of_type(TELEMETRY)
    (provider,) = values(any_stack, "istiod")["meshConfig"]["extensionProviders"]

    assert telemetry.inputs["apiVersion"] == "telemetry.istio.io/v1"
    assert telemetry.inputs["metadata"]["namespace"] == "istio-system"
    assert "selector" not in telemetry.inputs["spec"]
    (tracing,) = telemetry.inputs["spec"]["tracing"]
    assert tracing["providers"] == [{"name": provider["name"]}]


@pytest.mark.parametrize(("stack", "percentage", "access_logs"), [("dev", 100, True), ("prod", 1, False)])
def test_sampling_and_access_logging_follow_the_stack(stack, percentage, access_logs):
    (telemetry,) = run_stack(stack).of_type(TELEMETRY)

    (tracing,) = telemetry.inputs["spec"]["tracing"]
    assert tracing["randomSamplingPercentage"] == percentage
    (access_logging,) = telemetry.inputs["spec"]["accessLogging"]
    assert access_logging == {"providers": [{"name": "envoy"}], "disabled": not access_logs}


def test_the_telemetry_waits_for_istiod(any_stack):
    (telemetry,) = any_stack.of_type(TELEMETRY)

    assert any_stack.depends_on(telemetry, chart(any_stack, "istiod"))


def test_no_add_on_waits_for_another(any_stack):
    # Grafana and Kiali call the others by URL once they run; waiting for them would only chain
    # one add-on's readiness wait after another's on a real cluster.
    addons = [installed for name in ADDON_CHARTS if (installed := chart(any_stack, name))]

    assert [(a.name, b.name) for a in addons for b in addons if a is not b and any_stack.depends_on(a, b)] == []


# Switching add-ons off


def test_without_jaeger_nothing_points_at_it():
    run = run_stack("dev", {"servicemesh:observability.jaeger.enabled": False})

    assert chart(run, "jaeger") is None
    assert "extensionProviders" not in values(run, "istiod")["meshConfig"]
    (telemetry,) = run.of_type(TELEMETRY)
    assert "tracing" not in telemetry.inputs["spec"]
    assert values(run, "kiali-server")["external_services"]["tracing"]["enabled"] is False
    assert "jaeger" not in run.outputs["addons"]


def test_without_grafana_kiali_does_not_link_to_it():
    run = run_stack("dev", {"servicemesh:observability.grafana.enabled": False})

    assert chart(run, "grafana") is None
    assert values(run, "kiali-server")["external_services"]["grafana"]["enabled"] is False
    assert run.outputs["grafanaAdmin"] is None


@pytest.mark.parametrize("addon", ["kiali", "grafana"])
def test_kiali_or_grafana_without_prometheus_is_a_config_error(addon):
    run = run_program(stack_config("dev", {"servicemesh:observability.prometheus.enabled": False}), stack="dev")

    assert isinstance(run.error, ConfigError)
    assert run.resources == []
    assert any(
        problem.key == f"servicemesh:observability.{addon}.enabled" and "needs observability.prometheus" in str(problem)
        for problem in run.error.problems
    )


def test_all_add_ons_off_leaves_only_the_access_log_telemetry():
    run = run_stack(
        "dev",
        {f"servicemesh:observability.{addon}.enabled": False for addon in ("prometheus", "grafana", "kiali", "jaeger")},
    )

    assert not [chart for chart in run.of_type(CHART) if chart.inputs["chart"] in ADDON_CHARTS]
    assert run.outputs["addons"] == {}


# Secrets and access


def test_generated_credentials_are_secret_and_absent_from_chart_values(any_stack):
    assert "grafanaAdmin" in any_stack.secret_outputs
    admin = any_stack.named("observability-grafana-admin")
    assert admin.redacted_inputs["stringData"] == "[secret]"
    grafana = values(any_stack, "grafana")
    assert grafana["admin"]["existingSecret"] == admin.inputs["metadata"]["name"]
    assert "adminPassword" not in grafana
    signing_key = any_stack.named("observability-kiali-signing-key")
    assert signing_key.redacted_inputs["stringData"] == "[secret]"
    secret_name = signing_key.inputs["metadata"]["name"]
    assert values(any_stack, "kiali-server")["login_token"]["signing_key"].startswith(f"secret:{secret_name}:")


def test_credentials_come_from_generated_values_kept_in_state(any_stack):
    for name, length in (("observability-grafana-admin-value", 24), ("observability-kiali-signing-key-value", 32)):
        generator = any_stack.named(name)
        assert generator.type == "random:index/randomPassword:RandomPassword"
        assert generator.inputs["length"] == length
        assert generator.redacted_inputs["result"] == "[secret]"


@pytest.mark.parametrize(("stack", "strategy"), [("dev", "anonymous"), ("staging", "token"), ("prod", "token")])
def test_kiali_login_follows_the_environment(stack, strategy):
    assert values(run_stack(stack), "kiali-server")["auth"] == {"strategy": strategy}


def test_anonymous_kiali_outside_dev_is_refused():
    with pytest.raises(ConfigError, match=r"kiali.authStrategy = \"anonymous\": anonymous access is allowed in dev"):
        run_stack("prod", {"servicemesh:observability.kiali.authStrategy": "anonymous"})


def test_openid_login_needs_its_provider():
    run = run_stack(
        "prod",
        {
            "servicemesh:observability.kiali.authStrategy": "openid",
            "servicemesh:observability.kiali.openid": {"issuerUri": "https://sso.example.com", "clientId": "kiali"},
        },
    )

    assert values(run, "kiali-server")["auth"]["openid"] == {
        "issuer_uri": "https://sso.example.com",
        "client_id": "kiali",
    }
    with pytest.raises(ConfigError, match=r"kiali.openid: is required"):
        run_stack("prod", {"servicemesh:observability.kiali.authStrategy": "openid"})


def test_nothing_is_exposed_outside_the_cluster(any_stack):
    assert values(any_stack, "prometheus")["server"]["service"]["type"] == "ClusterIP"
    assert values(any_stack, "grafana")["service"]["type"] == "ClusterIP"
    assert values(any_stack, "kiali-server")["deployment"]["service_type"] == "ClusterIP"


def test_outputs_give_each_add_ons_port_forward_and_local_url(dev):
    addons = dev.outputs["addons"]

    assert addons["grafana"] == {
        "command": "kubectl -n istio-system port-forward svc/grafana 3000:3000",
        "url": "http://localhost:3000/",
    }
    assert addons["kiali"]["url"] == "http://localhost:20001/kiali"
    assert addons["jaeger"]["command"].endswith("svc/jaeger 16686:16686")
    assert addons["prometheus"]["command"].endswith("svc/prometheus 9090:9090")
    assert dev.outputs["grafanaAdmin"]["user"] == "admin"


# Sizing


def test_dev_keeps_everything_in_memory_for_a_short_while(dev):
    assert values(dev, "prometheus")["server"]["retention"] == "6h"
    assert values(dev, "prometheus")["server"]["persistentVolume"] == {"enabled": False}
    backend = values(dev, "jaeger")["userconfig"]["extensions"]["jaeger_storage"]["backends"]["primary_store"]
    assert backend == {"memory": {"max_traces": 20000}}


def test_prod_keeps_metrics_and_traces_on_volumes(prod):
    assert values(prod, "prometheus")["server"]["retention"] == "15d"
    assert values(prod, "prometheus")["server"]["persistentVolume"] == {"enabled": True, "size": "100Gi"}
    jaeger = values(prod, "jaeger")
    backend = jaeger["userconfig"]["extensions"]["jaeger_storage"]["backends"]["primary_store"]
    assert backend["badger"]["ttl"] == {"spans": "168h"}
    claim = prod.named("observability-jaeger-data")
    assert claim.inputs["spec"]["resources"] == {"requests": {"storage": "50Gi"}}
    (volume,) = jaeger["jaeger"]["extraVolumes"]
    assert volume["persistentVolumeClaim"]["claimName"] == claim.inputs["metadata"]["name"]
    assert prod.depends_on(chart(prod, "jaeger"), claim)


def test_prod_refuses_add_ons_that_lose_data_on_restart():
    run = run_program(
        stack_config(
            "prod",
            {
                "servicemesh:observability.prometheus.persistence": None,
                "servicemesh:observability.jaeger.storage": "memory",
            },
        ),
        stack="prod",
    )

    assert {problem.key for problem in run.error.problems} == {
        "servicemesh:observability.prometheus.persistence",
        "servicemesh:observability.jaeger.storage",
    }


def read_write_once_volumes(run) -> dict[str, tuple[bool, object]]:
    """Per add-on chart: whether its Deployment mounts a ReadWriteOnce volume (each chart's claims
    are), and the update strategy given where that chart's Deployment template reads it."""
    grafana, prometheus, jaeger = (
        installed.inputs["values"]
        for name in ("grafana", "prometheus", "jaeger")
        for installed in run.resources
        if installed.type in HELM_INSTALL_TYPES and installed.inputs["chart"] == name
    )
    return {
        "grafana": (grafana["persistence"]["enabled"], grafana.get("deploymentStrategy")),
        "prometheus": (prometheus["server"]["persistentVolume"]["enabled"], prometheus["server"].get("strategy")),
        "jaeger": ("extraVolumes" in jaeger["jaeger"], jaeger["jaeger"].get("strategy")),
    }


def test_prods_add_ons_on_read_write_once_volumes_are_recreated_not_rolled(prod):
    volumes = read_write_once_volumes(prod)

    # A rolling update's new pod, on another node, would wait forever for the old pod's volume.
    assert volumes == {addon: (True, {"type": "Recreate"}) for addon in ("grafana", "prometheus", "jaeger")}
    assert prod.named("observability-jaeger-data").inputs["spec"]["accessModes"] == ["ReadWriteOnce"]


def test_in_every_stack_an_add_on_with_a_volume_is_recreated(every_stack):
    for addon, (volume, strategy) in read_write_once_volumes(every_stack).items():
        if volume:
            assert strategy == {"type": "Recreate"}, addon


def test_without_a_volume_grafana_keeps_the_charts_rolling_update(dev):
    assert "deploymentStrategy" not in values(dev, "grafana")


def test_the_charts_helper_containers_have_requests_and_both_limits(prod):
    grafana = values(prod, "grafana")
    helpers = {
        "prometheus config reloader": values(prod, "prometheus")["configmapReload"]["prometheus"]["resources"],
        "grafana download-dashboards": grafana["downloadDashboards"]["resources"],
    }

    for helper, block in helpers.items():
        assert set(block["requests"]) == {"cpu", "memory"}, helper
        assert set(block["limits"]) == {"cpu", "memory"}, helper


def test_every_add_on_has_requests_and_a_memory_limit(any_stack):
    resources = [
        values(any_stack, "prometheus")["server"]["resources"],
        values(any_stack, "prometheus")["configmapReload"]["prometheus"]["resources"],
        values(any_stack, "grafana")["resources"],
        values(any_stack, "kiali-server")["deployment"]["resources"],
        values(any_stack, "jaeger")["jaeger"]["resources"],
    ]

    for block in resources:
        assert set(block["requests"]) == {"cpu", "memory"}
        assert "memory" in block["limits"]


# Footprint


def test_the_dev_stack_fits_a_laptop_cluster(dev):
    total = footprint_parts(dev)["total"]

    assert Decimal(total["cpu"]) <= 1
    assert Decimal(total["memoryMiB"]) <= 2048
