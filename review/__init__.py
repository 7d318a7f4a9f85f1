"""Reviewable infrastructure changes without a cluster: the program run under Pulumi mocks, its
render as a sorted YAML document, diffs between renders, committed snapshots and the resource
footprint. `python -m review --help` lists the commands."""
