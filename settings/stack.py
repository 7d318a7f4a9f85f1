"""The root of the settings: `StackSettings`, every key of a stack file.

Its `mesh` is the union of the meshes' own settings models (`mesh/<provider>/settings.py`), taken
from the registry that lists them, `mesh.implementations`.
"""

from __future__ import annotations

from pydantic import Field

from mesh.implementations import DEFAULT, MeshSettings
from settings.models import (
    AppSettings,
    AuthorizationSettings,
    ClusterSettings,
    Environment,
    HelmSettings,
    ObservabilitySettings,
    Settings,
)


class StackSettings(Settings):
    environment: Environment = Field(
        description="Which environment this stack is; prod turns on extra safety checks. A stack whose name says an "
        "environment (`prod`, `prod-eu`, `dev-2`) must declare that one."
    )
    cluster: ClusterSettings = Field(default_factory=ClusterSettings, description="The target cluster.")
    helm: HelmSettings = Field(default_factory=HelmSettings, description="How every chart is installed.")
    mesh: MeshSettings = Field(default_factory=DEFAULT.settings, description="The service mesh.")
    apps: tuple[AppSettings, ...] = Field(default=(), description="Workloads deployed into the mesh.")
    observability: ObservabilitySettings = Field(
        default_factory=ObservabilitySettings, description="Metrics, dashboards, tracing and the mesh console."
    )
    authorization: AuthorizationSettings = Field(
        default_factory=AuthorizationSettings, description="Authorization defaults for enrolled namespaces."
    )

    @property
    def enrolled_namespaces(self) -> tuple[str, ...]:
        """Every namespace enrolled in the mesh, each once, in declaration order."""
        return tuple(dict.fromkeys([*self.mesh.injected_namespaces, *(app.namespace for app in self.apps)]))

    @property
    def layer7_namespaces(self) -> frozenset[str]:
        """Namespaces holding an app with L7 authorization rules."""
        return frozenset(app.namespace for app in self.apps if app.allowed_methods)
