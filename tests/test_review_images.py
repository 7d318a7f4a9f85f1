"""`python -m review images`: every image a stack pulls, for mirroring into an air-gapped registry."""

from __future__ import annotations

import functools
import json

import pytest
from reference_data import HELM_CHARTS, MISSING_REASON
from stack_harness import run_stack, stack_config, stack_run
from typer.testing import CliRunner

from mesh.consul.images import injected_images as consul_injected_images
from mesh.implementations import INJECTED_IMAGES
from mesh.istio.images import injected_images as istio_injected_images
from mesh.linkerd.images import injected_images as linkerd_injected_images
from review.cli import app
from review.images import (
    ChartInstall,
    ImageReference,
    ImagesError,
    chart_directory,
    chart_installs,
    find_helm,
    injected_by,
    locate_helm,
    manifest_images,
    merge_images,
    parse_image,
    pod_images,
    stack_images,
)
from review.stacks import stack_names
from settings.loader import load_settings

ISTIO_STACKS = ["dev", "staging", "prod", "dev-ambient", "prod-ambient"]
DIGEST = "sha256:" + "0123456789abcdef" * 4


def review(*args):
    return CliRunner().invoke(app, [str(arg) for arg in args])


# References


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest"),
    [
        ("nginx", "docker.io", "library/nginx", "latest", None),
        ("busybox:1.36", "docker.io", "library/busybox", "1.36", None),
        ("istio/proxyv2:1.30.3", "docker.io", "istio/proxyv2", "1.30.3", None),
        ("index.docker.io/istio/pilot:1.30.3", "docker.io", "istio/pilot", "1.30.3", None),
        ("docker.io/nginx:1.27", "docker.io", "library/nginx", "1.27", None),
        ("registry.istio.io/release/pilot:1.30.3", "registry.istio.io", "release/pilot", "1.30.3", None),
        ("cr.l5d.io/linkerd/proxy:edge-26.8.3", "cr.l5d.io", "linkerd/proxy", "edge-26.8.3", None),
        ("localhost/app", "localhost", "app", "latest", None),
        ("localhost:5000/team/app:v1", "localhost:5000", "team/app", "v1", None),
        ("mirror.internal:8443/istio/proxyv2", "mirror.internal:8443", "istio/proxyv2", "latest", None),
        (f"quay.io/kiali/kiali@{DIGEST}", "quay.io", "kiali/kiali", None, DIGEST),
        (f"quay.io/kiali/kiali:v2.29.0@{DIGEST}", "quay.io", "kiali/kiali", "v2.29.0", DIGEST),
        (f"mirror.internal:8443/a/b/c:1.0@{DIGEST}", "mirror.internal:8443", "a/b/c", "1.0", DIGEST),
    ],
)
def test_a_reference_is_read_as_a_container_runtime_pulls_it(text, registry, repository, tag, digest):
    assert parse_image(text) == ImageReference(registry, repository, tag, digest)


def test_a_reference_prints_in_full():
    assert str(parse_image("nginx")) == "docker.io/library/nginx:latest"
    assert str(parse_image(f"quay.io/kiali/kiali:v2.29.0@{DIGEST}")) == f"quay.io/kiali/kiali:v2.29.0@{DIGEST}"
    assert str(parse_image(f"quay.io/kiali/kiali@{DIGEST}")) == f"quay.io/kiali/kiali@{DIGEST}"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "invalid repository ''"),
        ("Istio/proxyv2:1.30.3", "invalid repository 'Istio/proxyv2'"),
        ("istio/proxyv2:", "invalid tag ''"),
        ("istio/proxyv2@", "invalid digest ''"),
        ("istio/proxyv2:1.30 3", "invalid tag '1.30 3'"),
        ("istio/proxyv2@sha256:abc", "invalid digest 'sha256:abc'"),
        ("mirror..internal/istio/proxyv2", "invalid registry 'mirror..internal'"),
    ],
)
def test_a_malformed_reference_is_refused_naming_it(text, problem):
    with pytest.raises(ImagesError, match="is not an image reference") as error:
        parse_image(text)
    assert repr(text) in str(error.value)
    assert problem in str(error.value)


# Pod templates


def _pod_spec(*names, field="containers"):
    return {field: [{"name": name, "image": f"example.org/{name}:1"} for name in names]}


def _template(spec):
    return {"template": {"metadata": {"labels": {"app": "x"}}, "spec": spec}}


@pytest.mark.parametrize(
    ("api_version", "kind", "spec"),
    [
        ("apps/v1", "Deployment", _template(_pod_spec("app"))),
        ("apps/v1", "StatefulSet", _template(_pod_spec("app"))),
        ("apps/v1", "DaemonSet", _template(_pod_spec("app"))),
        ("apps/v1", "ReplicaSet", _template(_pod_spec("app"))),
        ("batch/v1", "Job", _template(_pod_spec("app"))),
        ("batch/v1", "CronJob", {"schedule": "@daily", "jobTemplate": {"spec": _template(_pod_spec("app"))}}),
        ("v1", "Pod", _pod_spec("app")),
    ],
)
def test_every_workload_kind_pulls_the_images_of_its_pod_template(api_version, kind, spec):
    manifest = {"apiVersion": api_version, "kind": kind, "metadata": {"name": "w"}, "spec": spec}

    assert manifest_images([manifest]) == ["example.org/app:1"]


def test_init_and_ephemeral_containers_pull_images_too():
    spec = {
        **_pod_spec("init", field="initContainers"),
        **_pod_spec("main", "sidecar"),
        **_pod_spec("debug", field="ephemeralContainers"),
    }

    images = pod_images("kubernetes:core/v1:Pod", {"spec": spec})

    assert sorted(images) == [
        "example.org/debug:1",
        "example.org/init:1",
        "example.org/main:1",
        "example.org/sidecar:1",
    ]


def test_a_container_whose_image_the_mesh_injects_is_not_an_image():
    gateway = {"template": {"spec": {"containers": [{"name": "istio-proxy", "image": "auto"}]}}}

    assert pod_images("kubernetes:apps/v1:Deployment", {"spec": gateway}) == []


def test_objects_that_run_no_pods_pull_nothing():
    manifests = [
        {"apiVersion": "v1", "kind": "Service", "spec": {"ports": [{"port": 80}]}},
        {"apiVersion": "v1", "kind": "ConfigMap", "data": {"image": "example.org/not-pulled:1"}},
    ]

    assert manifest_images(manifests) == []


def test_a_container_without_an_image_is_an_error_naming_the_workload():
    deployment = {
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": _template({"containers": [{"name": "app"}]}),
    }

    with pytest.raises(ImagesError, match="Deployment shop/web: container 'app' has no image"):
        pod_images("kubernetes:apps/v1:Deployment", deployment)


def test_the_list_has_each_image_once_sorted_with_everything_that_uses_it():
    found = merge_images(
        [
            ("quay.io/kiali/kiali:v2.29.0", "kiali"),
            ("nginx", "web"),
            ("docker.io/library/nginx:latest", "proxy"),
            ("busybox:1.36", "web"),
        ]
    )

    assert [str(image.image) for image in found] == [
        "docker.io/library/busybox:1.36",
        "docker.io/library/nginx:latest",
        "quay.io/kiali/kiali:v2.29.0",
    ]
    assert found[1].used_by == ("proxy", "web")


def test_a_malformed_image_is_reported_with_what_uses_it():
    with pytest.raises(ImagesError, match=r"^istio-gateway: 'Bad/Image' is not an image reference"):
        merge_images([("Bad/Image", "istio-gateway")])


# What each mesh injects


def _config_map(name, data):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "mesh"}, "data": data}


def _istio_injector(global_values, revision=""):
    name = f"istio-sidecar-injector-{revision}" if revision else "istio-sidecar-injector"
    return _config_map(name, {"values": json.dumps({"global": global_values}), "config": "policy: enabled"})


def test_istio_injects_its_proxy_image_built_from_the_injector_values():
    injector = _istio_injector({"hub": "docker.io/istio", "tag": "1.30.3", "proxy": {"image": "proxyv2"}})

    assert istio_injected_images([injector]) == ["docker.io/istio/proxyv2:1.30.3"]


def test_istio_injects_the_variant_of_its_proxy_image_for_every_revision():
    old = _istio_injector({"hub": "docker.io/istio", "tag": "1.29.2", "variant": "distroless"}, revision="1-29-2")
    new = _istio_injector({"hub": "mirror.internal/istio", "tag": "1.30.3-debug", "variant": "distroless"}, "1-30-3")

    assert istio_injected_images([old, new]) == [
        "docker.io/istio/proxyv2:1.29.2-distroless",
        "mirror.internal/istio/proxyv2:1.30.3-distroless",
    ]


def test_istio_injects_full_image_references_of_the_proxy_and_its_init_container_as_they_are():
    values = {
        "hub": "docker.io/istio",
        "tag": "1.30.3",
        "proxy": {"image": "mirror.internal/envoy/proxy:7"},
        "proxy_init": {"image": "mirror.internal/envoy/init:7"},
    }

    assert istio_injected_images([_istio_injector(values)]) == [
        "mirror.internal/envoy/init:7",
        "mirror.internal/envoy/proxy:7",
    ]


def test_linkerd_injects_its_proxy_image_at_the_linkerd_version_unless_one_is_set():
    default = _config_map(
        "linkerd-config",
        {"values": "linkerdVersion: edge-26.8.3\nproxy:\n  image:\n    name: cr.l5d.io/linkerd/proxy\n"},
    )
    pinned = _config_map(
        "linkerd-config",
        {"values": "linkerdVersion: edge-26.8.3\nproxy:\n  image: {name: m.internal/proxy, version: v9}\n"},
    )

    assert linkerd_injected_images([default, _config_map("other", {"values": "proxy: {}"})]) == [
        "cr.l5d.io/linkerd/proxy:edge-26.8.3"
    ]
    assert linkerd_injected_images([pinned]) == ["m.internal/proxy:v9"]


def test_consul_injects_the_dataplane_and_its_init_image_named_on_the_injector_command_line():
    script = (
        "exec consul-k8s-control-plane inject-connect \\\n"
        '  -consul-image="hashicorp/consul:2.0.3" \\\n'
        '  -consul-dataplane-image="hashicorp/consul-dataplane:2.0.3" \\\n'
        '  -consul-k8s-image="hashicorp/consul-k8s-control-plane:2.0.3" \\\n'
    )
    injector = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "spec": _template({"containers": [{"name": "sidecar-injector", "command": ["/bin/sh", "-ec", script]}]}),
    }

    assert consul_injected_images([injector]) == [
        "hashicorp/consul-dataplane:2.0.3",
        "hashicorp/consul-k8s-control-plane:2.0.3",
    ]


def test_every_stack_installs_a_control_plane_chart_whose_injected_images_are_known(every_stack):
    assert any(install.name in INJECTED_IMAGES for install in chart_installs(every_stack.resources))


# Where charts are rendered from


def _chart(directory, name, version):
    (directory / name).mkdir(parents=True)
    (directory / name / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: {version}\n")
    return directory / name


def _install(chart, *, repository=None, version="1.30.3"):
    return ChartInstall(
        resource="istio-istiod",
        release="istiod",
        chart=chart,
        repository=repository,
        version=version,
        namespace="istio-system",
        values={},
    )


def test_the_stack_registers_each_chart_with_its_release_source_version_namespace_and_values(dev):
    istiod = next(install for install in chart_installs(dev.resources) if install.resource == "istio-istiod-1-30-3")

    assert (istiod.release, istiod.name, istiod.version, istiod.namespace) == (
        "istiod-1-30-3",
        "istiod",
        "1.30.3",
        "istio-system",
    )
    assert istiod.repository is not None
    assert istiod.values["revision"] == "1-30-3"


def test_charts_dir_replaces_every_chart_source(tmp_path):
    chart = _chart(tmp_path, "istiod", "1.30.3")

    assert chart_directory(_install("istiod", repository="https://charts.example"), charts=tmp_path) == chart
    assert chart_directory(_install("oci://ghcr.io/istio/release/charts/istiod"), charts=tmp_path) == chart


def test_a_local_chart_source_is_rendered_where_the_stack_installs_it_from(tmp_path):
    chart = _chart(tmp_path / "charts", "istiod", "1.30.3")
    run = run_stack("dev", {"servicemesh:mesh.istio.chartRepository": str(tmp_path / "charts")})
    istiod = next(install for install in chart_installs(run.resources) if install.name == "istiod")

    assert chart_directory(istiod, charts=None) == chart


@pytest.mark.parametrize(
    ("install", "source"),
    [
        (_install("istiod", repository="https://istio-release.example/charts"), "https://istio-release.example/charts"),
        (_install("oci://ghcr.io/istio/release/charts/istiod"), "oci://ghcr.io/istio/release/charts/istiod"),
    ],
)
def test_a_remote_chart_source_is_refused_saying_to_pass_charts(install, source):
    with pytest.raises(ImagesError) as error:
        chart_directory(install, charts=None)

    assert str(error.value) == (
        f"chart istiod (istio-istiod) comes from {source}, not a local directory: "
        "pass --charts DIR, a directory with one folder per chart"
    )


def test_a_missing_chart_is_refused_naming_the_path(tmp_path):
    with pytest.raises(ImagesError, match=f"{tmp_path / 'istiod' / 'Chart.yaml'} does not exist"):
        chart_directory(_install("istiod"), charts=tmp_path)


def test_a_chart_of_another_version_than_the_stack_installs_is_refused(tmp_path):
    _chart(tmp_path, "istiod", "1.29.2")

    with pytest.raises(ImagesError, match=r"holds version 1\.29\.2, the stack installs 1\.30\.3"):
        chart_directory(_install("istiod"), charts=tmp_path)


# Helm


def _executable(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return str(path)


def test_helm_is_taken_from_path_first_then_from_the_engine_bin_dir(tmp_path):
    on_path = _executable(tmp_path / "path" / "helm")
    in_engine = _executable(tmp_path / "engine" / "helm")

    assert locate_helm(search_path=str(tmp_path / "path"), engine_bin_dir=tmp_path / "engine") == on_path
    assert locate_helm(search_path=str(tmp_path / "empty"), engine_bin_dir=tmp_path / "engine") == in_engine


def test_without_helm_the_error_names_both_places_it_was_looked_for(tmp_path):
    with pytest.raises(ImagesError) as error:
        locate_helm(search_path=str(tmp_path / "path"), engine_bin_dir=tmp_path / "engine")

    assert str(error.value).startswith(
        f"helm not found: neither on PATH nor in the engine's bin dir {tmp_path / 'engine'}"
    )


# The real charts, rendered


@pytest.fixture(scope="module")
def charts():
    if not HELM_CHARTS.is_dir():
        pytest.skip(MISSING_REASON)
    try:
        find_helm()
    except ImagesError as error:
        pytest.skip(f"{error}: the charts cannot be rendered")
    return HELM_CHARTS


@functools.cache
def rendered_images(stack):
    """The images of a real stack, its charts rendered from the reference charts; computed once per session."""
    return stack_images(stack_run(stack), charts=HELM_CHARTS)


@pytest.mark.charts
@pytest.mark.parametrize("stack", ISTIO_STACKS)
def test_every_istio_image_comes_from_the_configured_hub(charts, stack):
    run = stack_run(stack)
    hub = load_settings(stack_config(stack)).mesh.istio.image_hub
    mesh = run.of_type("servicemesh:mesh:IstioMesh")[0]
    istio_charts = {resource.name for resource in run.resources if resource.parent == mesh.urn}
    istio_users = istio_charts | {injected_by(name) for name in istio_charts}

    istio_images = [found.image for found in rendered_images(stack) if set(found.used_by) & istio_users]

    expected = {"pilot", "proxyv2", *(("install-cni", "ztunnel") if "ambient" in stack else ())}
    assert {image.repository.rsplit("/", 1)[-1] for image in istio_images} == expected
    assert [
        str(image) for image in istio_images if f"{image.registry}/{image.repository}".rsplit("/", 1)[0] != hub
    ] == []


@pytest.mark.charts
@pytest.mark.parametrize(
    ("stack", "image", "user"),
    [
        ("dev", "docker.io/mccutchen/go-httpbin:v2.18.3", "app-httpbin-deployment"),
        ("dev", "quay.io/kiali/kiali:v2.29.0", "observability-kiali-chart"),
        ("dev-linkerd", "cr.l5d.io/linkerd/proxy:edge-26.8.3", injected_by("linkerd-control-plane")),
        ("dev-consul", "docker.io/hashicorp/consul-dataplane:2.0.3", injected_by("consul-control-plane")),
    ],
)
def test_a_stack_pulls_its_own_its_charts_and_its_meshs_injected_images(charts, stack, image, user):
    found = {str(found.image): found.used_by for found in rendered_images(stack)}

    assert user in found[image]


@pytest.mark.charts
@pytest.mark.parametrize("stack", stack_names())
def test_every_stack_renders_offline_from_the_reference_charts_without_placeholders(charts, stack):
    found = rendered_images(stack)

    assert found
    assert not [image for image in found if image.image.repository.endswith("/auto")]


@pytest.mark.charts
def test_the_table_lists_every_image_of_the_stack_once(charts):
    result = review("images", "dev", "--charts", charts)

    assert result.exit_code == 0, result.output
    assert "Images of stack dev" in result.stdout
    rows = [
        [cell.strip() for cell in line.split("│")[1:-1]] for line in result.stdout.splitlines() if line.startswith("│")
    ]
    assert rows == [
        [image.registry, image.repository, image.tag or "", image.digest or "", ", ".join(found.used_by)]
        for found in rendered_images("dev")
        for image in [found.image]
    ]


@pytest.mark.charts
def test_json_lists_each_image_sorted_with_its_parts_and_what_uses_it(charts):
    result = review("images", "dev", "--charts", charts, "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [found.as_json() for found in rendered_images("dev")]
    kiali = next(entry for entry in json.loads(result.stdout) if entry["repository"] == "kiali/kiali")
    assert kiali == {
        "image": "quay.io/kiali/kiali:v2.29.0",
        "registry": "quay.io",
        "repository": "kiali/kiali",
        "tag": "v2.29.0",
        "digest": None,
        "usedBy": ["observability-kiali-chart"],
    }
    keys = [
        (entry["registry"], entry["repository"], entry["tag"] or "", entry["digest"] or "")
        for entry in json.loads(result.stdout)
    ]
    assert keys == sorted(set(keys))


def test_without_charts_dir_a_stack_with_remote_chart_sources_is_one_message_and_exit_code_2():
    result = review("images", "dev")

    assert result.exit_code == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "not a local directory: pass --charts DIR" in result.stderr
    assert "Traceback" not in result.output
