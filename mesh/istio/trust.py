"""`IstioTrust`: what a stack makes for Istio's trust when `mesh.istio.trust` asks for more than
istiod's self-signed CA: the roots proxies trust besides the signing one, and, with `ca: plugin`,
this cluster's intermediate CA and the `cacerts` Secret istiod starts with.

istiod reads `cacerts` (mounted, optional, at `/etc/cacerts`) when it starts: `ca-cert.pem` and
`ca-key.pem` sign workload certificates, `cert-chain.pem` is the chain up to the root that each
workload certificate carries, and `root-cert.pem` is the trust bundle it hands out (every root the
mesh trusts, the signing one first). Once started on plug-in certificates, istiod reloads the
Secret when it changes (a renewed intermediate, a bundle that gains or loses a root).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from mesh.certificates import (
    ROOT_CERTIFICATE_OUTPUT,
    ROOT_EXPIRY_OUTPUT,
    ROOT_PRIVATE_KEY_OUTPUT,
    intermediate_ca,
    pem_bundle,
    renewal_hours,
)
from mesh.istio.settings import IstioTrustSettings, TrustedRootSettings, TrustRootSettings

CACERTS_SECRET = "cacerts"
"""The Secret istiod's chart mounts for a plug-in CA."""
# The intermediate's subject, as Istio's own certificate tooling names it (istiod checks the chain, not the name).
INTERMEDIATE_ORGANIZATION = "Istio"
INTERMEDIATE_COMMON_NAME = "Intermediate CA"


@dataclass(frozen=True, kw_only=True)
class IstioTrustArgs:
    """`trust`: the validated `mesh.istio.trust`; `namespace`: the system namespace (its name and
    resource) where `cacerts` goes; `protect`: whether the intermediate's key and the Secret are
    protected (prod), so no update replaces and no destroy deletes them."""

    trust: IstioTrustSettings
    namespace: tuple[str, pulumi.Resource]
    protect: bool = False


@dataclass(frozen=True)
class _Root:
    certificate_pem: pulumi.Output[str]
    private_key_pem: pulumi.Output[str] | None
    expiry: pulumi.Output[str] | None


class IstioTrust(pulumi.ComponentResource):
    """Owns a StackReference for each root read from a trust stack and, with `ca: plugin`, the
    intermediate's key, request and certificate signed by the root, and the `cacerts` Secret.

    `additional_root_pems`: the roots trusted besides the signing one; `cacerts`: the Secret istiod
    must wait for (None with `ca: selfSigned`); `expiry`: when each certificate it knows expires."""

    def __init__(self, name: str, args: IstioTrustArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("servicemesh:mesh:IstioTrust", name, None, opts)
        trust = args.trust
        self._name = name
        self.additional_root_pems = [
            self._trusted_root(index, trusted) for index, trusted in enumerate(trust.additional_roots)
        ]
        self.cacerts: k8s.core.v1.Secret | None = None
        self.expiry: dict[str, pulumi.Output[str]] = {}
        if trust.ca == "plugin":
            assert trust.root is not None, "the rules require a root with ca: plugin"
            self._plug_in(trust, self._signing_root(trust.root), args)
        self.register_outputs({"expiry": self.expiry})

    def _plug_in(self, trust: IstioTrustSettings, root: _Root, args: IstioTrustArgs) -> None:
        child = pulumi.ResourceOptions(parent=self)
        kept = pulumi.ResourceOptions(parent=self, protect=args.protect)
        intermediate = trust.intermediate
        assert root.private_key_pem is not None
        key, certificate = intermediate_ca(
            f"{self._name}-intermediate",
            common_name=INTERMEDIATE_COMMON_NAME,
            organization=INTERMEDIATE_ORGANIZATION,
            algorithm=intermediate.key_algorithm,
            signer_key_pem=root.private_key_pem,
            signer_cert_pem=root.certificate_pem,
            validity_hours=intermediate.validity_hours,
            renewal_hours=intermediate.early_renewal_hours or renewal_hours(intermediate.validity_hours),
            key_opts=kept,
            opts=child,
        )
        namespace, namespace_resource = args.namespace
        # The whole data is secret in the state and in every preview, not just the key.
        self.cacerts = k8s.core.v1.Secret(
            f"{self._name}-cacerts",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=CACERTS_SECRET, namespace=namespace),
            type="Opaque",
            string_data=pulumi.Output.secret(
                {
                    "ca-cert.pem": certificate.cert_pem,
                    "ca-key.pem": key.private_key_pem,
                    "root-cert.pem": pem_bundle([root.certificate_pem, *self.additional_root_pems]),
                    "cert-chain.pem": pem_bundle([certificate.cert_pem, root.certificate_pem]),
                }
            ),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, depends_on=[namespace_resource]),
        )
        self.expiry["intermediate"] = certificate.validity_end_time
        if root.expiry is not None:
            self.expiry["root"] = root.expiry

    def _signing_root(self, root: TrustRootSettings) -> _Root:
        if root.stack is not None:
            reference = pulumi.StackReference(
                f"{self._name}-root", stack_name=root.stack, opts=pulumi.ResourceOptions(parent=self)
            )
            return _Root(
                certificate_pem=reference.require_output(ROOT_CERTIFICATE_OUTPUT),
                private_key_pem=pulumi.Output.secret(reference.require_output(ROOT_PRIVATE_KEY_OUTPUT)),
                expiry=reference.get_output(ROOT_EXPIRY_OUTPUT),
            )
        assert root.certificate_pem is not None, "the rules require a whole root"
        assert root.private_key_pem is not None, "the rules require a whole root"
        return _Root(
            certificate_pem=pulumi.Output.from_input(root.certificate_pem),
            private_key_pem=pulumi.Output.secret(root.private_key_pem.get_secret_value()),
            expiry=None,
        )

    def _trusted_root(self, index: int, trusted: TrustedRootSettings) -> pulumi.Output[str]:
        if trusted.stack is not None:
            reference = pulumi.StackReference(
                f"{self._name}-additional-root-{index}",
                stack_name=trusted.stack,
                opts=pulumi.ResourceOptions(parent=self),
            )
            return reference.require_output(ROOT_CERTIFICATE_OUTPUT)
        assert trusted.certificate_pem is not None
        return pulumi.Output.from_input(trusted.certificate_pem)
