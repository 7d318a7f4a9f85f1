"""Certificate authorities made with pulumi-tls, and their lifecycle, for any mesh and for the
trust project (`trust/`): private keys, self-signed roots, intermediates that renew early, and a
warning when anything a stack manages expires soon.

Each CA's certificate and key live in the stack's state and are replaced only by an `up`: an
intermediate passed its `early_renewal_hours` is replaced by the next `up` (its signer stays, so
what it issued stays valid); a root is never renewed on its own, since a new root is a rotation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import pulumi
import pulumi_tls as tls
from pydantic import AfterValidator

HOURS_PER_YEAR = 8760
# Far inside what the tls provider can compute (Go's time.Duration overflows past
# `settings.models.GO_DURATION_MAX_HOURS`, about 292 years), and no longer than a CA should outlive the knowledge of
# how to rotate it: 20 years for a root, 10 for what it signs.
LONGEST_ROOT_HOURS = 20 * HOURS_PER_YEAR
LONGEST_CERTIFICATE_HOURS = 10 * HOURS_PER_YEAR
CA_USES = ["cert_signing", "crl_signing"]
# Intermediates and issuers are replaced by any `up` in the last third of their lifetime (the tls
# provider's `early_renewal_hours`), so a stack updated at least that often never lets one lapse.
RENEWAL_FRACTION = 3

# What the trust project (`trust/`) exports, and a cluster stack reads through a StackReference.
ROOT_CERTIFICATE_OUTPUT = "rootCertificatePem"
ROOT_PRIVATE_KEY_OUTPUT = "rootPrivateKeyPem"
ROOT_EXPIRY_OUTPUT = "rootExpiry"
DEFAULT_ROOT_VALIDITY_HOURS = 10 * HOURS_PER_YEAR

KeyAlgorithm = Literal["ECDSA-P256", "ECDSA-P384", "RSA-2048", "RSA-3072", "RSA-4096"]
_KEY_ARGUMENTS: dict[str, dict[str, Any]] = {
    "ECDSA-P256": {"algorithm": "ECDSA", "ecdsa_curve": "P256"},
    "ECDSA-P384": {"algorithm": "ECDSA", "ecdsa_curve": "P384"},
    "RSA-2048": {"algorithm": "RSA", "rsa_bits": 2048},
    "RSA-3072": {"algorithm": "RSA", "rsa_bits": 3072},
    "RSA-4096": {"algorithm": "RSA", "rsa_bits": 4096},
}


# X.509's PrintableString: what every client reads the same way in a subject's name.
_PRINTABLE_STRING = re.compile(r"[A-Za-z0-9 '()+,./:=?-]{1,64}")


def _subject_text(value: str) -> str:
    if not _PRINTABLE_STRING.fullmatch(value):
        raise ValueError(
            "must be 1 to 64 characters of X.509's PrintableString: ASCII letters, digits, space and "
            "' ( ) + , - . / : = ?"
        )
    return value


SubjectText = Annotated[str, AfterValidator(_subject_text)]
"""A common name or organization in a certificate's subject."""


def renewal_hours(validity_hours: int) -> int:
    """How long before its expiry an `up` replaces a certificate valid for `validity_hours`."""
    return validity_hours // RENEWAL_FRACTION


def pem_bundle(pems: Sequence[pulumi.Input[str]]) -> pulumi.Output[str]:
    """Certificates as one PEM bundle, in order, each on its own lines."""
    if len(pems) == 1:
        return pulumi.Output.from_input(pems[0])
    return pulumi.Output.all(*pems).apply(
        lambda texts: "".join(text if text.endswith("\n") else f"{text}\n" for text in texts)
    )


def private_key(name: str, *, algorithm: KeyAlgorithm, opts: pulumi.ResourceOptions) -> tls.PrivateKey:
    """A private key, kept (secret) in the stack's state."""
    return tls.PrivateKey(name, **_KEY_ARGUMENTS[algorithm], opts=opts)


def self_signed_ca(
    name: str,
    *,
    common_name: str,
    algorithm: KeyAlgorithm,
    validity_hours: int,
    organization: str | None = None,
    renewal_hours: int | None = None,
    opts: pulumi.ResourceOptions,
) -> tuple[tls.PrivateKey, tls.SelfSignedCert]:
    """A root CA: a key and its self-signed certificate, replaced by an `up` within `renewal_hours`
    of its expiry if that is set."""
    key = private_key(f"{name}-key", algorithm=algorithm, opts=opts)
    certificate = tls.SelfSignedCert(
        name,
        private_key_pem=key.private_key_pem,
        subject=tls.SelfSignedCertSubjectArgs(common_name=common_name, organization=organization),
        is_ca_certificate=True,
        allowed_uses=CA_USES,
        validity_period_hours=validity_hours,
        early_renewal_hours=renewal_hours,
        opts=opts,
    )
    return key, certificate


def intermediate_ca(
    name: str,
    *,
    common_name: str,
    algorithm: KeyAlgorithm,
    signer_key_pem: pulumi.Input[str],
    signer_cert_pem: pulumi.Input[str],
    validity_hours: int,
    renewal_hours: int,
    organization: str | None = None,
    key_opts: pulumi.ResourceOptions,
    opts: pulumi.ResourceOptions,
) -> tuple[tls.PrivateKey, tls.LocallySignedCert]:
    """An intermediate CA signed by a root: a key (with `key_opts`, so a stack can protect it), a
    request and the certificate. It may sign workload certificates only (path length 0), carries
    no extended key usages (so it may sign any the workloads ask for) and is replaced by an `up`
    within `renewal_hours` of its expiry, or whenever its signer changes."""
    key = private_key(f"{name}-key", algorithm=algorithm, opts=key_opts)
    request = tls.CertRequest(
        f"{name}-request",
        private_key_pem=key.private_key_pem,
        subject=tls.CertRequestSubjectArgs(common_name=common_name, organization=organization),
        opts=opts,
    )
    certificate = tls.LocallySignedCert(
        name,
        cert_request_pem=request.cert_request_pem,
        ca_private_key_pem=signer_key_pem,
        ca_cert_pem=signer_cert_pem,
        is_ca_certificate=True,
        max_path_length=0,
        allowed_uses=CA_USES,
        validity_period_hours=validity_hours,
        early_renewal_hours=renewal_hours,
        opts=opts,
    )
    return key, certificate


def expiry_warnings(expiries: Mapping[str, str], *, now: datetime, window_days: int) -> list[str]:
    """A message for each certificate (by name) whose RFC 3339 expiry is within `window_days` of
    `now`, or past, soonest first."""
    ends = {name: datetime.fromisoformat(expiry) for name, expiry in expiries.items()}
    soon = sorted((end, name) for name, end in ends.items() if (end - now).total_seconds() < window_days * 86400)
    messages = []
    for end, name in soon:
        when = f"in {(end - now).days} day(s)" if end > now else f"{(now - end).days} day(s) ago"
        messages.append(
            f"certificate {name!r} expires {end.strftime('%Y-%m-%dT%H:%M:%SZ')} ({when}; warning window "
            f"{window_days} days): see docs/trust.md for how it is renewed or rotated"
        )
    return messages


def warn_when_expiring(expiries: Mapping[str, pulumi.Input[str]], *, window_days: int) -> None:
    """Log a warning during preview and up for each certificate of `expiries` (by name) that expires
    within `window_days`. Each is checked once its expiry is known: a certificate this run is about
    to create has none yet, and one already in the state has its own."""
    for name, expiry in expiries.items():
        pulumi.Output.from_input(expiry).apply(lambda end, name=name: _warn(name, end, window_days=window_days))


def _warn(name: str, expiry: str | None, *, window_days: int) -> None:
    if expiry:
        for message in expiry_warnings({name: expiry}, now=datetime.now(UTC), window_days=window_days):
            pulumi.log.warn(message)
