"""`LinkerdIdentity`: the trust anchor and identity issuer certificates Linkerd's Helm install needs.

Linkerd's charts do not generate them (only its CLI does). Both are ECDSA P-256 CAs, as Linkerd
requires; the issuer is signed by the anchor and, like Linkerd's own generator, carries no
extended key usages, so it may sign the workload certificates' server and client usages.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_tls as tls

from settings.models import CertificateSettings

# The common names Linkerd's documentation gives both CAs (Linkerd checks the chain, not the names).
TRUST_ANCHOR_COMMON_NAME = "root.linkerd.cluster.local"
ISSUER_COMMON_NAME = "identity.linkerd.cluster.local"
CA_USES = ["cert_signing", "crl_signing"]


@dataclass(frozen=True, kw_only=True)
class LinkerdIdentityArgs:
    """`certificates`: how long the anchor and the issuer are valid."""

    certificates: CertificateSettings


class LinkerdIdentity(pulumi.ComponentResource):
    """Owns the trust anchor's key and self-signed certificate, and the issuer's key, request and
    certificate signed by the anchor. Private keys are secret outputs; the anchor's key never
    leaves the stack's state."""

    def __init__(self, name: str, args: LinkerdIdentityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("servicemesh:mesh:LinkerdIdentity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        certificates = args.certificates

        anchor_key = tls.PrivateKey(f"{name}-trust-anchor-key", algorithm="ECDSA", ecdsa_curve="P256", opts=child)
        anchor = tls.SelfSignedCert(
            f"{name}-trust-anchor",
            private_key_pem=anchor_key.private_key_pem,
            subject=tls.SelfSignedCertSubjectArgs(common_name=TRUST_ANCHOR_COMMON_NAME),
            is_ca_certificate=True,
            allowed_uses=CA_USES,
            validity_period_hours=certificates.trust_anchor_validity_hours,
            opts=child,
        )
        issuer_key = tls.PrivateKey(f"{name}-issuer-key", algorithm="ECDSA", ecdsa_curve="P256", opts=child)
        issuer_request = tls.CertRequest(
            f"{name}-issuer-request",
            private_key_pem=issuer_key.private_key_pem,
            subject=tls.CertRequestSubjectArgs(common_name=ISSUER_COMMON_NAME),
            opts=child,
        )
        issuer = tls.LocallySignedCert(
            f"{name}-issuer",
            cert_request_pem=issuer_request.cert_request_pem,
            ca_private_key_pem=anchor_key.private_key_pem,
            ca_cert_pem=anchor.cert_pem,
            is_ca_certificate=True,
            max_path_length=0,
            allowed_uses=CA_USES,
            validity_period_hours=certificates.issuer_validity_hours,
            opts=child,
        )
        self.trust_anchor_pem = anchor.cert_pem
        self.issuer_cert_pem = issuer.cert_pem
        self.issuer_key_pem = pulumi.Output.secret(issuer_key.private_key_pem)
        self.register_outputs({"trustAnchorPem": self.trust_anchor_pem, "issuerCertPem": self.issuer_cert_pem})
