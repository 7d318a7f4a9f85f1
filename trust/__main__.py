"""The trust project: one root CA, made with pulumi-tls and kept in this stack's state, that the
mesh stacks' plug-in CAs (`mesh.istio.trust.root.stack`) each sign their cluster's intermediate
with. Exports the certificate, the key (a secret output) and when the root expires."""

import sys
from pathlib import Path

# The repository root, for what this program shares with the mesh program (the engine runs it from trust/).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pulumi
from pydantic import Field, ValidationError

from mesh.certificates import (
    DEFAULT_ROOT_VALIDITY_HOURS,
    HOURS_PER_YEAR,
    LONGEST_ROOT_HOURS,
    ROOT_CERTIFICATE_OUTPUT,
    ROOT_EXPIRY_OUTPUT,
    ROOT_PRIVATE_KEY_OUTPUT,
    KeyAlgorithm,
    SubjectText,
    self_signed_ca,
)
from settings.loader import environment_named_by, read_pulumi_config, validation_problems
from settings.models import Settings
from settings.problems import ConfigError, ConfigProblem

NAMESPACE = "servicemesh-trust"


class RootSettings(Settings):
    common_name: SubjectText = Field(default="servicemesh root CA", description="Subject CN.")
    organization: SubjectText | None = Field(default=None, description="Subject O.")
    key_algorithm: KeyAlgorithm = Field(default="ECDSA-P384", description="The root's key.")
    validity_hours: int = Field(
        default=DEFAULT_ROOT_VALIDITY_HOURS,
        ge=24 * 30,
        le=LONGEST_ROOT_HOURS,
        description=f"Lifetime of the root, at most {LONGEST_ROOT_HOURS // HOURS_PER_YEAR} years.",
    )
    protect: bool = Field(default=False, description="Protect the key and certificate; a prod stack must.")


class TrustSettings(Settings):
    root: RootSettings = Field(default_factory=RootSettings, description="The root CA.")


def load_trust_settings() -> TrustSettings:
    """`servicemesh-trust:*` config, validated; every problem at once, each naming key, value and what is allowed."""
    config = pulumi.Config(NAMESPACE)
    names = [key.partition(":")[2] for key in read_pulumi_config() if key.startswith(f"{NAMESPACE}:")]
    document = {name: config.get_object(name) if name == "root" else config.get(name) for name in names}
    try:
        settings = TrustSettings.model_validate(document)
    except ValidationError as error:
        raise ConfigError(validation_problems(error, model=TrustSettings, namespace=NAMESPACE)) from None
    if environment_named_by(pulumi.get_stack()) == "prod" and not settings.root.protect:
        problem = ConfigProblem(f"{NAMESPACE}:root.protect", "must be true in a prod stack (the mesh's root)", False)
        raise ConfigError([problem])
    return settings


root = load_trust_settings().root
key, certificate = self_signed_ca(
    "root",
    common_name=root.common_name,
    organization=root.organization,
    algorithm=root.key_algorithm,
    validity_hours=root.validity_hours,
    opts=pulumi.ResourceOptions(protect=root.protect),
)
pulumi.export(ROOT_CERTIFICATE_OUTPUT, certificate.cert_pem)
pulumi.export(ROOT_PRIVATE_KEY_OUTPUT, pulumi.Output.secret(key.private_key_pem))
pulumi.export(ROOT_EXPIRY_OUTPUT, certificate.validity_end_time)
