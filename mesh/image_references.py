"""Image references as a container runtime reads them: the grammar of
github.com/distribution/reference, and the defaults a runtime fills in (Docker Hub, its `library/`
namespace, the `latest` tag). The review lists the images a stack pulls with it, and the policy
pack judges where they come from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_REGISTRY = "docker.io"
# Docker Hub's other names, which the container runtimes normalise to `docker.io`.
DEFAULT_REGISTRY_ALIASES = frozenset({"index.docker.io", "registry-1.docker.io"})
# Docker Hub's namespace of its official images, which are referred to by their name alone (`nginx`).
OFFICIAL_IMAGES_NAMESPACE = "library"
DEFAULT_TAG = "latest"

# The grammar of github.com/distribution/reference, which container runtimes parse references with.
_REGISTRY = re.compile(r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?\.?)+(?::[0-9]+)?|\[[0-9a-fA-F:]+\](?::[0-9]+)?")
_PATH_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_DIGEST = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}")


class ImageReferenceError(ValueError):
    """Text that is not an image reference; the message says why."""


@dataclass(frozen=True)
class ImageReference:
    """An image reference with its defaults filled in, as a container runtime pulls it."""

    registry: str
    repository: str
    tag: str | None
    digest: str | None

    def __str__(self) -> str:
        tag = f":{self.tag}" if self.tag else ""
        digest = f"@{self.digest}" if self.digest else ""
        return f"{self.registry}/{self.repository}{tag}{digest}"


def image_reference(text: str) -> ImageReference:
    """`text` as a runtime reads it: `docker.io` when the first part names no registry (it has no
    `.` or port and is not `localhost`), `library/` before a single-name Docker Hub image, and tag
    `latest` when there is neither a tag nor a digest."""
    name, at, digest = text.partition("@")
    # A tag follows the last `:` after the last `/`; a `:` before that is a registry's port.
    name, colon, tag = name.rpartition(":") if ":" in name.rsplit("/", 1)[-1] else (name, "", "")
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first.startswith("[") or first == "localhost"):
        registry, repository = first, rest
    else:
        registry, repository = DEFAULT_REGISTRY, name
    problem = _problem(
        registry=registry, repository=repository, tag=tag if colon else None, digest=digest if at else None
    )
    if problem:
        raise ImageReferenceError(f"{text!r} is not an image reference: {problem}")
    if registry in DEFAULT_REGISTRY_ALIASES:
        registry = DEFAULT_REGISTRY
    if registry == DEFAULT_REGISTRY and "/" not in repository:
        repository = f"{OFFICIAL_IMAGES_NAMESPACE}/{repository}"
    return ImageReference(registry, repository, tag if colon else (None if at else DEFAULT_TAG), digest if at else None)


def _problem(*, registry: str, repository: str, tag: str | None, digest: str | None) -> str | None:
    if not _REGISTRY.fullmatch(registry):
        return f"invalid registry {registry!r}"
    if not all(_PATH_COMPONENT.fullmatch(part) for part in repository.split("/")):
        return f"invalid repository {repository!r} (lower-case letters, digits and separators . _ - between /)"
    if tag is not None and not _TAG.fullmatch(tag):
        return f"invalid tag {tag!r}"
    if digest is not None and not _DIGEST.fullmatch(digest):
        return f"invalid digest {digest!r} (<algorithm>:<hex>)"
    return None
