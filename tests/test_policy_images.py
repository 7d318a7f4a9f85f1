"""Images: no container of any pod template pulls a moving tag, in prod each names an exact version
or a digest, and with `servicemesh:cluster.allowedRegistries` each comes from one of those registries."""

from __future__ import annotations

import pytest
from policy_fixtures import (
    DEV,
    DIGEST,
    PROD,
    WORKLOAD_KINDS,
    container,
    deployment,
    hardened_container,
    messages,
    workload,
)
from stack_harness import stack_config

from settings.loader import load_settings
from settings.problems import ConfigError

PINNED = "container-image-pinned"
ALLOWED = "container-image-registry-allowed"


def with_image(image, *, field="containers", type_="kubernetes:apps/v1:Deployment"):
    spec = {"containers": [hardened_container()]}
    spec.setdefault(field, []).append(hardened_container(name="other", image=image))
    return workload(type_, "web", spec=spec)


@pytest.mark.parametrize(
    "image",
    [
        "docker.io/org/app:1.2.3",
        "docker.io/org/app:v2.18.3",
        "docker.io/istio/pilot:1.30.3-distroless",
        "cr.l5d.io/linkerd/proxy:edge-26.8.3",
        f"docker.io/org/app@{DIGEST}",
        f"org/app:latest@{DIGEST}",
        "registry:5000/app:1.0.0",
    ],
)
def test_an_exact_version_or_a_digest_passes_everywhere(image):
    assert messages(PINNED, with_image(image), stack_config=PROD) == []


@pytest.mark.parametrize("tag", ["latest", "LATEST", "Latest", "stable", "STABLE", "main", "master", "edge", "Edge"])
def test_a_moving_tag_is_refused_whatever_its_case(tag):
    (message,) = messages(PINNED, with_image(f"nginx:{tag}"))

    assert message.startswith("Deployment team/web container 'other'")
    assert f"has the tag '{tag}', which moves with every push" in message


@pytest.mark.parametrize("image", ["nginx", "docker.io/org/app", "registry:5000/app"])
def test_an_untagged_image_is_refused(image):
    (message,) = messages(PINNED, with_image(image))

    assert "is untagged, which pulls whatever 'latest' is" in message


@pytest.mark.parametrize(("image", "problem"), [("", "is missing"), ("Docker.io/Org/App:1.0.0", "cannot be pulled")])
def test_a_missing_or_malformed_image_is_refused(image, problem):
    (message,) = messages(PINNED, with_image(image))

    assert problem in message


@pytest.mark.parametrize("tag", ["1.30", "1", "v2", "3.20250101", "nightly"])
def test_a_tag_without_an_exact_version_is_refused_in_prod_only(tag):
    (message,) = messages(PINNED, with_image(f"nginx:{tag}"), stack_config=PROD)

    assert f"has the tag '{tag}', which names no exact version: in prod pin an exact version" in message
    assert messages(PINNED, with_image(f"nginx:{tag}"), stack_config=DEV) == []


def test_which_environments_are_prod_is_configurable():
    staging = {"servicemesh:environment": "staging"}
    config = {"prodEnvironments": ["staging", "prod"]}

    assert len(messages(PINNED, with_image("nginx:1.30"), stack_config=staging, config=config)) == 1


@pytest.mark.parametrize("field", ["containers", "initContainers", "ephemeralContainers"])
@pytest.mark.parametrize("type_", WORKLOAD_KINDS)
def test_every_container_of_every_kind_of_pod_template_is_checked(type_, field):
    (message,) = messages(PINNED, with_image("nginx:latest", field=field, type_=type_))

    assert "container 'other'" in message


def test_a_patch_that_leaves_a_containers_image_to_the_object_passes():
    patch = workload("kubernetes:apps/v1:DeploymentPatch", "web", spec={"containers": [{"name": "web", "env": []}]})

    assert messages(PINNED, patch) == []


def test_the_gateway_image_that_the_injector_fills_in_passes_only_on_injected_pods():
    injected = {"inject.istio.io/templates": "gateway"}

    assert messages(PINNED, deployment("gw", "ingress", container(image="auto"), annotations=injected)) == []
    assert len(messages(PINNED, deployment("gw", "ingress", container(image="auto")))) == 1


# container-image-registry-allowed


def allowing(*registries, environment="prod"):
    """The stack config the engine passes to the pack, with `servicemesh:cluster.allowedRegistries`."""
    return stack_config(environment, {"servicemesh:cluster.allowedRegistries": list(registries)})


def test_without_an_allow_list_any_registry_is_allowed():
    assert messages(ALLOWED, with_image("ghcr.io/org/app:1.2.3"), stack_config=PROD) == []


@pytest.mark.parametrize(
    "image",
    [
        "docker.io/org/app:1.2.3",
        "nginx:1.27.0",  # docker.io/library/nginx
        "index.docker.io/org/app:1.2.3",
        "quay.io/prometheus/prometheus:v3.14.0",
        f"quay.io/prometheus/prometheus@{DIGEST}",
    ],
)
def test_an_image_from_an_allowed_registry_or_registry_path_passes(image):
    assert messages(ALLOWED, with_image(image), stack_config=allowing("docker.io", "quay.io/prometheus")) == []


@pytest.mark.parametrize(
    ("image", "location"),
    [
        ("ghcr.io/org/app:1.2.3", "ghcr.io/org/app"),
        ("quay.io/prometheus-operator/prometheus-config-reloader:v0.93.1", "quay.io/prometheus-operator/"),
        ("docker.io.evil.example/org/app:1.2.3", "docker.io.evil.example/org/app"),
    ],
    ids=["other-registry", "sibling-path", "look-alike-host"],
)
def test_an_image_from_elsewhere_is_refused(image, location):
    (message,) = messages(ALLOWED, with_image(image), stack_config=allowing("docker.io", "quay.io/prometheus"))

    assert message.startswith("Deployment team/web container 'other'")
    assert location in message
    assert "outside the allowed registries (docker.io, quay.io/prometheus)" in message


def test_the_allow_list_covers_init_and_ephemeral_containers_of_patches_too():
    patch = with_image("ghcr.io/org/debug:1.0.0", field="ephemeralContainers", type_="kubernetes:core/v1:PodPatch")

    assert len(messages(ALLOWED, patch, stack_config=allowing("docker.io"))) == 1


def test_the_program_accepts_registry_paths_and_refuses_anything_else_as_an_allowed_registry():
    accepted = load_settings(allowing("docker.io", "mirror.example.com:5000/istio"))
    with pytest.raises(ConfigError) as refused:
        load_settings(allowing("https://mirror.example.com"))

    assert accepted.cluster.allowed_registries == ("docker.io", "mirror.example.com:5000/istio")
    (problem,) = refused.value.problems
    assert problem.key == "servicemesh:cluster.allowedRegistries[0]"
