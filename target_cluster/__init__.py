"""How the stack treats the cluster it targets, whatever it deploys: it owns every field it
declares (`own_declared_fields`), and on a bare API server it waits for nothing
(`skip_readiness_waits`)."""

from target_cluster.api_server_only import skip_readiness_waits
from target_cluster.ownership import own_declared_fields

__all__ = ["own_declared_fields", "skip_readiness_waits"]
