"""Linkerd: its CRDs, control plane and viz extension, identity certificates, and policy objects."""
