"""Consul: the `consul` chart (servers, connect-injector, UI) and Consul's config entries as CRDs:
intentions, service and proxy defaults, and the mesh-wide `Mesh` entry."""
