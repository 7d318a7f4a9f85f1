"""Every image a stack pulls, for users who mirror them into an air-gapped registry.

The program runs under mocks (as for `render`); each Helm chart it installs is rendered offline
with `helm template` from a local chart directory, with the values the program gives it. The
images come from every pod template, the rendered objects' and the program's own, and from each
mesh's injector: the proxies a mesh adds at admission appear in no pod template, so the mesh
reads them from the render of its control-plane chart (`mesh.implementations.INJECTED_IMAGES`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mesh.charts import HELM_INSTALL_TYPES
from mesh.image_references import ImageReference, ImageReferenceError, image_reference
from mesh.implementations import INJECTED_IMAGES
from mesh.objects import chart_name, containers_of, name_of, namespace_of, pod_spec_of, type_token_of
from review.program import RegisteredResource, StackRun
from review.stacks import PROJECT_ROOT

# What Istio's gateway chart puts in its pod template; the injector replaces it with the proxy image.
INJECTED_PLACEHOLDER = "auto"
ENGINE_BUILD = PROJECT_ROOT / "tools" / "engine" / "build"
ENGINE_VERSIONS = PROJECT_ROOT / "tools" / "engine" / "versions.env"
HELM = "helm"


class ImagesError(Exception):
    """The stack's images cannot be listed: an invalid reference, a chart that cannot be rendered
    offline, or no helm; the message says which."""


def parse_image(text: str) -> ImageReference:
    """`text` as a runtime reads it (`mesh.image_references.image_reference`); ImagesError if it is none."""
    try:
        return image_reference(text)
    except ImageReferenceError as error:
        raise ImagesError(str(error)) from None


@dataclass(frozen=True)
class StackImage:
    """One image the stack pulls and what pulls it: registered resources (a chart, by the name of its
    resource) and, for an image a mesh injects, the chart of that mesh's control plane."""

    image: ImageReference
    used_by: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "image": str(self.image),
            "registry": self.image.registry,
            "repository": self.image.repository,
            "tag": self.image.tag,
            "digest": self.image.digest,
            "usedBy": list(self.used_by),
        }


def merge_images(uses: Iterable[tuple[str, str]]) -> list[StackImage]:
    """`(image, user)` pairs as one entry per image, sorted by registry, repository, tag and digest."""
    users: dict[ImageReference, set[str]] = {}
    for image, user in uses:
        try:
            reference = parse_image(image)
        except ImagesError as error:
            raise ImagesError(f"{user}: {error}") from None
        users.setdefault(reference, set()).add(user)
    return [StackImage(image, tuple(sorted(users[image]))) for image in sorted(users, key=_sort_key)]


def _sort_key(image: ImageReference) -> tuple[str, str, str, str]:
    return image.registry, image.repository, image.tag or "", image.digest or ""


def pod_images(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """The image of every container (init and ephemeral too) of a workload's pod template, except the
    placeholder of a container whose image the mesh injects; none for any other resource."""
    pod_spec = pod_spec_of(resource_type, props)
    if pod_spec is None:
        return []
    images = []
    for container in containers_of(pod_spec, ephemeral=True):
        image = container.get("image")
        if not image:
            kind = resource_type.rsplit(":", 1)[-1]
            raise ImagesError(
                f"{kind} {namespace_of(props)}/{name_of(props)}: container {container.get('name')!r} has no image"
            )
        if image != INJECTED_PLACEHOLDER:
            images.append(str(image))
    return images


def manifest_images(manifests: Iterable[Mapping[str, Any]]) -> list[str]:
    """The images of every pod template among rendered Kubernetes manifests."""
    return [image for manifest in manifests for image in pod_images(type_token_of(manifest), manifest)]


@dataclass(frozen=True, kw_only=True)
class ChartInstall:
    """One chart the stack installs, as registered: `chart` is a chart name (with `repository`), an
    `oci://` reference, or a local path (relative to the project)."""

    resource: str
    release: str
    chart: str
    repository: str | None
    version: str
    namespace: str
    values: Mapping[str, Any]

    @property
    def name(self) -> str:
        return chart_name(self.chart)

    @property
    def local_path(self) -> Path | None:
        """Where the chart is, if the stack installs it from a local directory."""
        if self.repository or self.chart.startswith("oci://"):
            return None
        return PROJECT_ROOT / self.chart


def chart_installs(resources: Iterable[RegisteredResource]) -> list[ChartInstall]:
    """Every Helm chart the program installs (in either install mode); `inputs` has the values in the
    clear, mock ones for secrets and generated keys, and under the mocks every value is known."""
    return [
        ChartInstall(
            resource=resource.name,
            release=resource.inputs["name"],
            chart=resource.inputs["chart"],
            repository=(resource.inputs.get("repositoryOpts") or {}).get("repo"),
            version=resource.inputs["version"],
            namespace=resource.inputs["namespace"],
            values=resource.inputs.get("values") or {},
        )
        for resource in resources
        if resource.type in HELM_INSTALL_TYPES
    ]


def chart_directory(install: ChartInstall, *, charts: Path | None) -> Path:
    """The local directory to render `install` from: `charts/<chart>` when `charts` is given, else
    the stack's own source if that is a local directory. It must hold the version the stack installs."""
    directory = charts / install.name if charts is not None else install.local_path
    if directory is None:
        raise ImagesError(
            f"chart {install.name} ({install.resource}) comes from {install.repository or install.chart}, not a local "
            "directory: pass --charts DIR, a directory with one folder per chart"
        )
    chart_file = directory / "Chart.yaml"
    if not chart_file.is_file():
        raise ImagesError(f"chart {install.name} ({install.resource}): {chart_file} does not exist")
    version = str((yaml.safe_load(chart_file.read_text()) or {}).get("version"))
    if version != install.version:
        raise ImagesError(
            f"chart {install.name} ({install.resource}): {directory} holds version {version}, "
            f"the stack installs {install.version}"
        )
    return directory


def find_helm() -> str:
    """`helm` from PATH, or else from the engine's bin dir (`tools/engine/build --print-bin-dir`)."""
    printed = subprocess.run([str(ENGINE_BUILD), "--print-bin-dir"], capture_output=True, text=True, check=True)
    return locate_helm(search_path=os.environ.get("PATH"), engine_bin_dir=Path(printed.stdout.strip()))


def locate_helm(*, search_path: str | None, engine_bin_dir: Path) -> str:
    """`helm` on `search_path`, or else in `engine_bin_dir`."""
    found = shutil.which(HELM, path=search_path) or shutil.which(HELM, path=str(engine_bin_dir))
    if found is None:
        raise ImagesError(
            f"helm not found: neither on PATH nor in the engine's bin dir {engine_bin_dir} "
            "(install helm, or build the engine: make engine)"
        )
    return found


def pinned_kubernetes_version() -> str:
    """The Kubernetes version the project's test cluster runs (`KUBERNETES_VERSION` of the engine's
    pins). Charts are rendered for it: helm's own default depends on how the binary was built (v1.20
    without the release build's flags, which Linkerd's and Jaeger's charts refuse)."""
    for line in ENGINE_VERSIONS.read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "KUBERNETES_VERSION":
            return value.strip()
    raise ImagesError(f"{ENGINE_VERSIONS} pins no KUBERNETES_VERSION")


def render_chart(install: ChartInstall, *, directory: Path, helm: str, kube_version: str) -> list[dict[str, Any]]:
    """The Kubernetes objects `helm template` renders for `install` from `directory` for Kubernetes
    `kube_version`, tests left out (they run only on `helm test`)."""
    command = [helm, "template", install.release, str(directory), "--namespace", install.namespace]
    options = ["--kube-version", kube_version, "--skip-tests", "--values", "-"]
    result = subprocess.run([*command, *options], input=json.dumps(install.values), capture_output=True, text=True)
    if result.returncode != 0:
        raise ImagesError(f"helm template of chart {install.name} ({install.resource}) failed: {result.stderr.strip()}")
    # libyaml's loader: a chart's render runs to megabytes (dashboards, CRDs), slow in pure Python.
    return [
        document for document in yaml.load_all(result.stdout, Loader=yaml.CSafeLoader) if isinstance(document, dict)
    ]


def injected_by(chart_resource: str) -> str:
    """How the list names the mesh whose control-plane chart `chart_resource` injects an image."""
    return f"{chart_resource} (injected)"


def stack_images(run: StackRun, *, charts: Path | None) -> list[StackImage]:
    """Every image the stack pulls: its own workloads', each chart's (rendered from `charts` or the
    stack's local chart sources) and what each mesh injects."""
    installs = chart_installs(run.resources)
    # Every chart must be found before helm is looked for or any chart rendered: one message, not a partial list.
    directories = [chart_directory(install, charts=charts) for install in installs]
    helm, kube_version = find_helm(), pinned_kubernetes_version()
    uses = [
        (image, resource.name) for resource in run.resources for image in pod_images(resource.type, resource.inputs)
    ]
    for install, directory in zip(installs, directories, strict=True):
        rendered = render_chart(install, directory=directory, helm=helm, kube_version=kube_version)
        uses += [(image, install.resource) for image in manifest_images(rendered)]
        injected = INJECTED_IMAGES.get(install.name)
        if injected is not None:
            uses += [(image, injected_by(install.resource)) for image in injected(rendered)]
    return merge_images(uses)
