"""Stack configuration: typed settings objects and the one loader that reads them."""

from settings.loader import NAMESPACE, ConfigError, ConfigProblem, load_settings, read_pulumi_config
from settings.models import (
    GatewaySettings,
    IstiodSettings,
    MeshSettings,
    ResourceSettings,
    StackSettings,
)

__all__ = [
    "NAMESPACE",
    "ConfigError",
    "ConfigProblem",
    "GatewaySettings",
    "IstiodSettings",
    "MeshSettings",
    "ResourceSettings",
    "StackSettings",
    "load_settings",
    "read_pulumi_config",
]
