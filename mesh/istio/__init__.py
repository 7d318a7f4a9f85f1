"""Istio, with sidecars or ambient: the `base`, `istiod`, `gateway`, `cni` and `ztunnel` charts, the
mesh-wide `PeerAuthentication`, and Istio's authorization, ingress, waypoint and telemetry objects."""
