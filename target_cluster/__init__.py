"""Behaviour that depends on the kind of cluster the stack targets, not on what it deploys."""

from target_cluster.api_server_only import skip_readiness_waits

__all__ = ["skip_readiness_waits"]
