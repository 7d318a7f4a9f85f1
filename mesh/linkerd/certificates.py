"""Linkerd's certificates, issued once by pulumi-tls and kept in the stack's state.

`LinkerdIdentity`: the trust anchors and identity issuer Linkerd's Helm install needs. Linkerd's
charts do not generate them (only its CLI does). All are ECDSA P-256 CAs, as Linkerd requires; the
issuer is signed by the current anchor and, like Linkerd's own generator, carries no extended key
usages, so it may sign the workload certificates' server and client usages. The issuer is renewed
by any `up` in the last third of its lifetime (the identity controller reloads it from its Secret;
the certificates it issued stay valid, since the anchor does not change); an anchor is not: a new
anchor is a rotation, made of stack changes (docs/trust.md): a next anchor generation is added to
the bundle every proxy trusts, then signs the issuer, then the old one leaves the bundle.

`LinkerdWebhookCertificates`: a CA and a serving certificate for each of Linkerd's webhooks. The
charts would otherwise generate new ones on every render, so every `up` would replace them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_tls as tls

from mesh.certificates import KeyAlgorithm, intermediate_ca, pem_bundle, private_key, renewal_hours, self_signed_ca
from mesh.linkerd.settings import CertificateSettings

# The common names Linkerd's documentation gives both CAs (Linkerd checks the chain, not the names).
TRUST_ANCHOR_COMMON_NAME = "root.linkerd.cluster.local"
ISSUER_COMMON_NAME = "identity.linkerd.cluster.local"
# The webhooks' CA is named after them; the API server checks the chain and each serving
# certificate's DNS name, not this name.
WEBHOOK_CA_COMMON_NAME = "webhook.linkerd.cluster.local"
# Linkerd requires ECDSA P-256 of every CA.
KEY_ALGORITHM: KeyAlgorithm = "ECDSA-P256"
# A serving certificate's usages, as cert-manager issues them: the API server, as a TLS client,
# requires `server_auth`; the handshake is signed with the key (`digital_signature`).
SERVING_USES = ["digital_signature", "key_encipherment", "server_auth"]


def trust_anchor_resource_name(name: str, generation: int) -> str:
    """The resource name of one trust anchor generation: the first keeps the name it always had."""
    return f"{name}-trust-anchor" if generation == 1 else f"{name}-trust-anchor-{generation}"


@dataclass(frozen=True, kw_only=True)
class LinkerdIdentityArgs:
    """`certificates`: how long the anchors and the issuer are valid, and which anchor generations
    exist; `protect`: whether the anchors (keys and certificates) and the issuer's key are
    protected, so that no update replaces and no destroy deletes them."""

    certificates: CertificateSettings
    protect: bool = False


class LinkerdIdentity(pulumi.ComponentResource):
    """Owns each trust anchor generation's key and self-signed certificate, and the issuer's key,
    request and certificate signed by the current generation. Private keys are secret outputs; the
    anchors' keys never leave the stack's state. `trust_anchors_pem` is the bundle every proxy
    trusts: the current anchor, then the other generations."""

    def __init__(self, name: str, args: LinkerdIdentityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("servicemesh:mesh:LinkerdIdentity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        kept = pulumi.ResourceOptions(parent=self, protect=args.protect)
        certificates = args.certificates
        current = certificates.trust_anchor_generation

        anchors = {
            generation: self_signed_ca(
                trust_anchor_resource_name(name, generation),
                common_name=TRUST_ANCHOR_COMMON_NAME,
                algorithm=KEY_ALGORITHM,
                validity_hours=certificates.trust_anchor_validity_hours,
                opts=kept,
            )
            for generation in (current, *certificates.additional_trust_anchor_generations)
        }
        anchor_key, anchor = anchors[current]
        issuer_key, issuer = intermediate_ca(
            f"{name}-issuer",
            common_name=ISSUER_COMMON_NAME,
            algorithm=KEY_ALGORITHM,
            signer_key_pem=anchor_key.private_key_pem,
            signer_cert_pem=anchor.cert_pem,
            validity_hours=certificates.issuer_validity_hours,
            renewal_hours=renewal_hours(certificates.issuer_validity_hours),
            key_opts=kept,
            opts=child,
        )
        self.trust_anchor_pem = anchor.cert_pem
        self.trust_anchors_pem = pem_bundle([certificate.cert_pem for _, certificate in anchors.values()])
        self.issuer_cert_pem = issuer.cert_pem
        self.issuer_key_pem = pulumi.Output.secret(issuer_key.private_key_pem)
        self.expiry = {
            "trustAnchor": anchor.validity_end_time,
            **{
                f"trustAnchorGeneration{generation}": certificate.validity_end_time
                for generation, (_, certificate) in anchors.items()
                if generation != current
            },
            "issuer": issuer.validity_end_time,
        }
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
        renewal = renewal_hours(args.validity_hours)

        ca_key, ca = self_signed_ca(
            f"{name}-ca",
            common_name=WEBHOOK_CA_COMMON_NAME,
            algorithm=KEY_ALGORITHM,
            validity_hours=args.validity_hours,
            renewal_hours=renewal,
            opts=child,
        )
        self.ca_pem = ca.cert_pem
        self.ca_expiry = ca.validity_end_time
        self.serving: dict[str, ServingCertificate] = {}
        for webhook, host in args.hosts.items():
            key = private_key(f"{name}-{webhook}-key", algorithm=KEY_ALGORITHM, opts=child)
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
                early_renewal_hours=renewal,
                opts=child,
            )
            self.serving[webhook] = ServingCertificate(
                cert_pem=certificate.cert_pem,
                key_pem=pulumi.Output.secret(key.private_key_pem),
                expiry=certificate.validity_end_time,
            )
        self.register_outputs({"caPem": self.ca_pem})
