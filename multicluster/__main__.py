"""Entry point of the link project: write each cluster's remote secret into every other cluster."""

import sys
from pathlib import Path

import pulumi

# The link shares the cluster stacks' builders (the remote secret's shape) and config reporting.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from multicluster.link import NAMESPACE, link_clusters, load_link_settings

settings = load_link_settings(pulumi.Config(NAMESPACE).get_object("clusters"))
pulumi.export("remoteSecrets", link_clusters(settings))
