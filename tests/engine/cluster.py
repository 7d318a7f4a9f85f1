"""The local control plane of the smoke test and the e2e suite: `scripts/local_cluster.py`, the one
`make up` runs in the background when there is no other cluster, imported here under the names the
tests use::

    from engine.cluster import local_cluster

    with local_cluster(bin_dir, workdir) as cluster:
        cluster.kubectl("get", "--raw", "/readyz")
        # cluster.kubeconfig is a kubeconfig file for an admin (system:masters) user
"""

from __future__ import annotations

from scripts.local_cluster import (
    LOOPBACK,
    Cluster,
    ClusterError,
    free_port,
    generate_pki,
    local_cluster,
    stop_process,
    write_kubeconfig,
)

__all__ = [
    "LOOPBACK",
    "Cluster",
    "ClusterError",
    "free_port",
    "generate_pki",
    "local_cluster",
    "stop_process",
    "write_kubeconfig",
]
