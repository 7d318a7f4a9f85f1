"""Workloads in the mesh: the sample app, its traffic client, routing and authorization."""

from apps.mesh_app import MeshApp, MeshAppArgs

__all__ = ["MeshApp", "MeshAppArgs"]
