"""Linkerd's certificates, issued once by pulumi-tls and kept in the stack's state.

`LinkerdIdentity`: the trust anchor and identity issuer Linkerd's Helm install needs. Linkerd's
charts do not generate them (only its CLI does). Both are ECDSA P-256 CAs, as Linkerd requires;
the issuer is signed by the anchor and, like Linkerd's own generator, carries no extended key
usages, so it may sign the workload certificates' server and client usages. The issuer is renewed
by any `up` in the last third of its lifetime (the identity controller reloads it from its Secret;
the certificates it issued stay valid, since the anchor does not change); the anchor is not: a new
anchor re-issues every identity, which is a planned rotation.

`LinkerdWebhookCertificates`: a CA and a serving certificate for each of Linkerd's webhooks. The
charts would otherwise generate new ones on every render, so every `up` would replace them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_tls as tls

from mesh.linkerd.settings import CertificateSettings

# The common names Linkerd's documentation gives both CAs (Linkerd checks the chain, not the names).
TRUST_ANCHOR_COMMON_NAME = "root.linkerd.cluster.local"
ISSUER_COMMON_NAME = "identity.linkerd.cluster.local"
# The webhooks' CA is named after them; the API server checks the chain and each serving
# certificate's DNS name, not this name.
WEBHOOK_CA_COMMON_NAME = "webhook.linkerd.cluster.local"
CA_USES = ["cert_signing", "crl_signing"]
# A serving certificate's usages, as cert-manager issues them: the API server, as a TLS client,
# requires `server_auth`; the handshake is signed with the key (`digital_signature`).
SERVING_USES = ["digital_signature", "key_encipherment", "server_auth"]
# The identity issuer and the webhook certificates are replaced by any `up` in the last third of
# their lifetime (the tls provider's `early_renewal_hours`), so a stack updated at least that often
# never lets one lapse: an expired issuer stops every new workload identity, an expired webhook
# certificate (the webhooks fail closed) every pod creation in the cluster.
RENEWAL_FRACTION = 3


def ecdsa_p256_key(name: str, *, opts: pulumi.ResourceOptions) -> tls.PrivateKey:
    """A private key of the kind Linkerd requires of its CAs: ECDSA on P-256."""
    return tls.PrivateKey(name, algorithm="ECDSA", ecdsa_curve="P256", opts=opts)


def self_signed_ca(
    name: str,
    *,
    common_name: str,
    validity_hours: int,
    renewal_hours: int | None = None,
    opts: pulumi.ResourceOptions,
) -> tuple[tls.PrivateKey, tls.SelfSignedCert]:
    """A root CA: an ECDSA P-256 key and its self-signed certificate, replaced by an `up` within
    `renewal_hours` of its expiry if that is set."""
    key = ecdsa_p256_key(f"{name}-key", opts=opts)
    certificate = tls.SelfSignedCert(
        name,
        private_key_pem=key.private_key_pem,
        subject=tls.SelfSignedCertSubjectArgs(common_name=common_name),
        is_ca_certificate=True,
        allowed_uses=CA_USES,
        validity_period_hours=validity_hours,
        early_renewal_hours=renewal_hours,
        opts=opts,
    )
    return key, certificate


@dataclass(frozen=True, kw_only=True)
class LinkerdIdentityArgs:
    """`certificates`: how long the anchor and the issuer are valid; `protect`: whether the anchor
    (key and certificate) and the issuer's key are protected, so that no update replaces and no
    destroy deletes them."""

    certificates: CertificateSettings
    protect: bool = False


class LinkerdIdentity(pulumi.ComponentResource):
    """Owns the trust anchor's key and self-signed certificate, and the issuer's key, request and
    certificate signed by the anchor. Private keys are secret outputs; the anchor's key never
    leaves the stack's state."""

    def __init__(self, name: str, args: LinkerdIdentityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("servicemesh:mesh:LinkerdIdentity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        kept = pulumi.ResourceOptions(parent=self, protect=args.protect)
        certificates = args.certificates

        anchor_key, anchor = self_signed_ca(
            f"{name}-trust-anchor",
            common_name=TRUST_ANCHOR_COMMON_NAME,
            validity_hours=certificates.trust_anchor_validity_hours,
            opts=kept,
        )
        issuer_key = ecdsa_p256_key(f"{name}-issuer-key", opts=kept)
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
            early_renewal_hours=certificates.issuer_validity_hours // RENEWAL_FRACTION,
            opts=child,
        )
        self.trust_anchor_pem = anchor.cert_pem
        self.issuer_cert_pem = issuer.cert_pem
        self.issuer_key_pem = pulumi.Output.secret(issuer_key.private_key_pem)
        self.expiry = {"trustAnchor": anchor.validity_end_time, "issuer": issuer.validity_end_time}
        self.register_outputs({"trustAnchorPem": self.trust_anchor_pem, "issuerCertPem": self.issuer_cert_pem})


@dataclass(frozen=True, kw_only=True)
class ServingCertificate:
    """A webhook's certificate and its private key (a secret output), and when it expires."""

    cert_pem: pulumi.Output[str]
    key_pem: pulumi.Output[str]
    expiry: pulumi.Output[str]


@dataclass(frozen=True, kw_only=True)
class LinkerdWebhookCertificatesArgs:
    """`hosts`: the DNS name the API server calls each webhook by, keyed by the webhook's Service
    (which names its resources); `validity_hours`: how long the CA and each certificate are valid."""

    hosts: Mapping[str, str]
    validity_hours: int


class LinkerdWebhookCertificates(pulumi.ComponentResource):
    """Owns the webhooks' CA (an ECDSA P-256 key and self-signed certificate, which the API server
    trusts through each webhook's CA bundle) and, for each webhook, a key, a request for its host
    name and the certificate the CA signs. Issued once, and replaced only when a host name changes
    or by an `up` in the last third of their lifetime."""

    def __init__(
        self, name: str, args: LinkerdWebhookCertificatesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("servicemesh:mesh:LinkerdWebhookCertificates", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        renewal_hours = args.validity_hours // RENEWAL_FRACTION

        ca_key, ca = self_signed_ca(
            f"{name}-ca",
            common_name=WEBHOOK_CA_COMMON_NAME,
            validity_hours=args.validity_hours,
            renewal_hours=renewal_hours,
            opts=child,
        )
        self.ca_pem = ca.cert_pem
        self.ca_expiry = ca.validity_end_time
        self.serving: dict[str, ServingCertificate] = {}
        for webhook, host in args.hosts.items():
            key = ecdsa_p256_key(f"{name}-{webhook}-key", opts=child)
            request = tls.CertRequest(
                f"{name}-{webhook}-request",
                private_key_pem=key.private_key_pem,
                subject=tls.CertRequestSubjectArgs(common_name=host),
                dns_names=[host],
                opts=child,
            )
            certificate = tls.LocallySignedCert(
                f"{name}-{webhook}",
                cert_request_pem=request.cert_request_pem,
                ca_private_key_pem=ca_key.private_key_pem,
                ca_cert_pem=ca.cert_pem,
                allowed_uses=SERVING_USES,
                validity_period_hours=args.validity_hours,
                early_renewal_hours=renewal_hours,
                opts=child,
            )
            self.serving[webhook] = ServingCertificate(
                cert_pem=certificate.cert_pem,
                key_pem=pulumi.Output.secret(key.private_key_pem),
                expiry=certificate.validity_end_time,
            )
        self.register_outputs({"caPem": self.ca_pem})
