"""Trust as code (docs/trust.md): with `mesh.istio.trust.ca: plugin` each cluster issues itself an
intermediate CA from a shared root and writes istiod's `cacerts` Secret before istiod starts; the
move from istiod's self-signed CA and every root rotation are sequences of stack changes in which
the trust bundle holds both roots before the signer changes; every CA the stacks make reports its
expiry, renews early, and is warned of before it lapses."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pulumi
import pytest
from stack_harness import PROJECT_ROOT, run_program, run_stack, stack_config, stack_run

from mesh import certificates
from mesh.certificates import expiry_warnings
from review.program import MOCK_CERTIFICATES_ISSUED, SECRET
from review.stacks import EngineConfig

CHART = "kubernetes:helm.sh/v4:Chart"
SECRET_TYPE = "kubernetes:core/v1:Secret"
PRIVATE_KEY = "tls:index/privateKey:PrivateKey"
SIGNED = "tls:index/locallySignedCert:LocallySignedCert"
SELF_SIGNED = "tls:index/selfSignedCert:SelfSignedCert"
TRUST = "servicemesh:mesh.istio.trust"
PROD_ROOT = "organization/servicemesh-trust/prod"
NEXT_ROOT = "organization/servicemesh-trust/prod-2027"
CACERTS_KEYS = {"ca-cert.pem", "ca-key.pem", "root-cert.pem", "cert-chain.pem"}
# What an operator pastes: istiod's self-signed root (`istio-ca-secret`), and an organisation's own root and key.
SELF_SIGNED_ROOT = "-----BEGIN CERTIFICATE-----\nMIIC/DCCAeSgAwIBAgIQselfsigned=\n-----END CERTIFICATE-----\n"
OWN_ROOT = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIRAowned=\n-----END CERTIFICATE-----\n"
OWN_KEY = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIOwnedKey=\n-----END EC PRIVATE KEY-----\n"


def plugin(root=None, **more):
    return {"ca": "plugin", "root": {"stack": PROD_ROOT} if root is None else root, **more}


def istiods(run):
    return [resource for resource in run.of_type(CHART) if resource.inputs["chart"] == "istiod"]


def istiod_values(run):
    (istiod, *_) = istiods(run)
    return istiod.inputs["values"]


def cacerts(run):
    (secret,) = [resource for resource in run.of_type(SECRET_TYPE) if resource.inputs["metadata"]["name"] == "cacerts"]
    return secret


def has_cacerts(run):
    return any(resource.inputs["metadata"]["name"] == "cacerts" for resource in run.of_type(SECRET_TYPE))


def roots_in(bundle):
    return [f"-----BEGIN CERTIFICATE-----{block}" for block in bundle.split("-----BEGIN CERTIFICATE-----")[1:]]


def trust_stack_root(run, stack):
    """The root certificate a trust stack exports, as the run read it (the mocks name it after the stack)."""
    return f"-----BEGIN CERTIFICATE-----\nmock-{stack}\n-----END CERTIFICATE-----\n"


def intermediate(run):
    (certificate,) = [resource for resource in run.of_type(SIGNED) if resource.name == "istio-trust-intermediate"]
    return certificate


def problems(stack, overrides, *, secret_keys=()):
    config = stack_config(stack, overrides)
    run = run_program(EngineConfig(config, config.secret_keys | frozenset(secret_keys)), stack=stack)
    assert run.error is not None, "the configuration was accepted"
    assert run.resources == [], "no resource may be registered from a bad configuration"
    return [str(problem) for problem in run.error.problems]


# The plug-in CA.


@pytest.fixture(scope="module")
def plugin_prod():
    return stack_run("prod-plugin-ca")


def test_cacerts_holds_the_four_files_istiod_reads_in_its_namespace(plugin_prod):
    secret = cacerts(plugin_prod)
    assert secret.inputs["metadata"]["namespace"] == "istio-system"
    assert set(secret.inputs["stringData"]) == CACERTS_KEYS


def test_cacerts_is_written_before_any_istiod_starts(plugin_prod):
    assert istiods(plugin_prod)
    for istiod in istiods(plugin_prod):
        assert plugin_prod.depends_on(istiod, cacerts(plugin_prod))


def test_cacerts_data_is_secret_in_the_state(plugin_prod):
    assert cacerts(plugin_prod).redacted_inputs["stringData"] == SECRET


def test_the_intermediate_chains_to_the_trust_stack_root(plugin_prod):
    root = trust_stack_root(plugin_prod, PROD_ROOT)
    certificate = intermediate(plugin_prod)
    data = cacerts(plugin_prod).inputs["stringData"]
    assert certificate.inputs["caCertPem"] == root
    assert data["ca-cert.pem"] == certificate.inputs["certPem"]
    assert data["root-cert.pem"] == root
    assert roots_in(data["cert-chain.pem"]) == [certificate.inputs["certPem"], root]
    (key,) = [
        resource for resource in plugin_prod.of_type(PRIVATE_KEY) if resource.name == "istio-trust-intermediate-key"
    ]
    assert data["ca-key.pem"] == key.inputs["privateKeyPem"]


def test_the_intermediate_signs_workload_certificates_only_and_renews_in_its_last_third(plugin_prod):
    inputs = intermediate(plugin_prod).inputs
    assert inputs["isCaCertificate"] is True
    assert inputs["maxPathLength"] == 0
    assert "cert_signing" in inputs["allowedUses"]
    assert inputs["earlyRenewalHours"] == inputs["validityPeriodHours"] // 3


def test_early_renewal_is_configurable():
    run = run_stack("dev", {TRUST: plugin(intermediate={"validityHours": 2000, "earlyRenewalHours": 500})})
    assert intermediate(run).inputs["earlyRenewalHours"] == 500


def test_prod_protects_the_intermediate_key_and_cacerts_but_lets_the_certificate_renew(plugin_prod):
    assert cacerts(plugin_prod).protect
    assert plugin_prod.named("istio-trust-intermediate-key").protect
    # Renewal replaces the certificate, which protection would forbid.
    assert not intermediate(plugin_prod).protect


def test_dev_protects_nothing():
    run = run_stack("dev", {TRUST: plugin()})
    assert not cacerts(run).protect
    assert not run.named("istio-trust-intermediate-key").protect


def test_istiod_restarts_onto_the_plugin_ca_and_trusts_several_roots(plugin_prod):
    values = istiod_values(plugin_prod)
    assert values["podAnnotations"] == {"servicemesh/istio-ca": "plugin"}
    assert values["env"] == {"ISTIO_MULTIROOT_MESH": "true"}
    assert values["meshConfig"]["defaultConfig"]["proxyMetadata"] == {"PROXY_CONFIG_XDS_AGENT": "true"}


def test_ambient_gets_cacerts_before_istiod_too():
    run = run_stack("dev-ambient", {TRUST: plugin()})
    for istiod in istiods(run):
        assert run.depends_on(istiod, cacerts(run))


def test_the_organisations_own_root_given_as_secret_config_signs_the_intermediate():
    overrides = {TRUST: plugin({"certificatePem": OWN_ROOT, "privateKeyPem": OWN_KEY})}
    config = stack_config("dev", overrides)
    run = run_program(EngineConfig(config, frozenset({"servicemesh:mesh"})), stack="dev")
    assert run.error is None, run.error
    certificate = intermediate(run)
    assert certificate.inputs["caCertPem"] == OWN_ROOT
    assert certificate.inputs["caPrivateKeyPem"] == OWN_KEY
    assert certificate.redacted_inputs["caPrivateKeyPem"] == SECRET
    assert cacerts(run).inputs["stringData"]["root-cert.pem"] == OWN_ROOT


def test_a_stack_without_trust_settings_makes_nothing_for_trust():
    run = stack_run("prod")
    assert not has_cacerts(run)
    assert not run.of_type("servicemesh:mesh:IstioTrust")
    assert "env" not in istiod_values(run)
    assert "istioCertificateExpiry" not in run.outputs


# Moving a self-signed stack to the plug-in CA: each step is a stack change and one `up`.

SELF_SIGNED_TO_PLUGIN = [
    ("1: proxies trust the plug-in root too", {"ca": "selfSigned", "additionalRoots": [{"stack": PROD_ROOT}]}),
    ("2: istiod signs with the plug-in CA", plugin(additionalRoots=[{"certificatePem": SELF_SIGNED_ROOT}])),
    ("3: the self-signed root is dropped", plugin()),
]


@pytest.fixture(scope="module")
def migration():
    return {step: run_stack("prod", {TRUST: trust}) for step, trust in SELF_SIGNED_TO_PLUGIN}


def test_migration_step_1_adds_the_plugin_root_beside_istiods_own_without_switching(migration):
    run = migration[SELF_SIGNED_TO_PLUGIN[0][0]]
    assert not has_cacerts(run)
    values = istiod_values(run)
    assert values["meshConfig"]["caCertificates"] == [{"pem": trust_stack_root(run, PROD_ROOT)}]
    assert values["env"] == {"ISTIO_MULTIROOT_MESH": "true"}
    assert "podAnnotations" not in values


def test_migration_step_2_switches_the_signer_while_the_bundle_keeps_the_self_signed_root(migration):
    run = migration[SELF_SIGNED_TO_PLUGIN[1][0]]
    bundle = cacerts(run).inputs["stringData"]["root-cert.pem"]
    assert roots_in(bundle) == [trust_stack_root(run, PROD_ROOT), SELF_SIGNED_ROOT]
    assert istiod_values(run)["podAnnotations"] == {"servicemesh/istio-ca": "plugin"}
    assert "caCertificates" not in istiod_values(run)["meshConfig"]


def test_migration_step_3_trusts_the_plugin_root_alone(migration):
    run = migration[SELF_SIGNED_TO_PLUGIN[2][0]]
    assert roots_in(cacerts(run).inputs["stringData"]["root-cert.pem"]) == [trust_stack_root(run, PROD_ROOT)]


def test_migration_keeps_istiod_multi_root_throughout_so_no_step_restarts_it_twice(migration):
    assert {json.dumps(istiod_values(run)["env"]) for run in migration.values()} == {'{"ISTIO_MULTIROOT_MESH": "true"}'}


# Rotating Istio's plug-in root: the new root joins the bundle, signs, then the old one leaves.

ISTIO_ROOT_ROTATION = [
    ("0: the current root", plugin()),
    ("1: the next root is trusted", plugin(additionalRoots=[{"stack": NEXT_ROOT}])),
    ("2: the next root signs", plugin({"stack": NEXT_ROOT}, additionalRoots=[{"stack": PROD_ROOT}])),
    ("3: the old root is dropped", plugin({"stack": NEXT_ROOT})),
]


@pytest.fixture(scope="module")
def istio_rotation():
    return [run_stack("prod-plugin-ca", {TRUST: trust}) for _, trust in ISTIO_ROOT_ROTATION]


def test_istio_root_rotation_trusts_both_roots_before_and_after_the_signer_changes(istio_rotation):
    old, new = (trust_stack_root(None, stack) for stack in (PROD_ROOT, NEXT_ROOT))
    bundles = [roots_in(cacerts(run).inputs["stringData"]["root-cert.pem"]) for run in istio_rotation]
    signers = [intermediate(run).inputs["caCertPem"] for run in istio_rotation]
    assert bundles == [[old], [old, new], [new, old], [new]]
    assert signers == [old, old, new, new]


def test_a_root_is_not_listed_as_its_own_additional_root():
    found = problems("prod-plugin-ca", {TRUST: plugin(additionalRoots=[{"stack": PROD_ROOT}])})
    assert any(
        "mesh.istio.trust.additionalRoots[0].stack" in problem and "signing root's stack" in problem
        for problem in found
    )


# Rotating Linkerd's trust anchor: generation 2 joins the bundle, signs the issuer, then 1 leaves.

CERTIFICATES = "servicemesh:mesh.linkerd.certificates"
LINKERD_ROTATION = [
    ("0: anchor 1", {}),
    ("1: anchor 2 is trusted", {"additionalTrustAnchorGenerations": [2]}),
    ("2: anchor 2 signs the issuer", {"trustAnchorGeneration": 2, "additionalTrustAnchorGenerations": [1]}),
    ("3: anchor 1 is dropped", {"trustAnchorGeneration": 2}),
]


@pytest.fixture(scope="module")
def linkerd_rotation():
    return [run_stack("dev-linkerd", {CERTIFICATES: certificates}) for _, certificates in LINKERD_ROTATION]


def anchor_pems(run):
    return {
        resource.name: resource.inputs["certPem"]
        for resource in run.of_type(SELF_SIGNED)
        if "trust-anchor" in resource.name
    }


def linkerd_values(run):
    (chart,) = [resource for resource in run.of_type(CHART) if resource.inputs["chart"] == "linkerd-control-plane"]
    return chart.inputs["values"]


def test_linkerd_rotation_bundles_both_anchors_before_and_after_the_issuer_changes_signer(linkerd_rotation):
    first, second = "linkerd-identity-trust-anchor", "linkerd-identity-trust-anchor-2"
    anchors = [anchor_pems(run) for run in linkerd_rotation]
    assert [sorted(names) for names in anchors] == [[first], [first, second], [first, second], [second]]
    pem = {**anchors[1]}
    bundles = [roots_in(linkerd_values(run)["identityTrustAnchorsPEM"]) for run in linkerd_rotation]
    assert bundles == [[pem[first]], [pem[first], pem[second]], [pem[second], pem[first]], [pem[second]]]
    signers = [run.named("linkerd-identity-issuer").inputs["caCertPem"] for run in linkerd_rotation]
    assert signers == [pem[first], pem[first], pem[second], pem[second]]


def test_linkerd_rotation_reports_the_expiry_of_every_anchor_it_keeps(linkerd_rotation):
    expiries = [run.outputs["linkerdCertificateExpiry"] for run in linkerd_rotation]
    assert "trustAnchorGeneration2" in expiries[1]
    assert "trustAnchorGeneration1" in expiries[2]
    assert not any(key.startswith("trustAnchorGeneration") for key in expiries[3])


def test_the_first_anchor_keeps_its_resource_name_so_existing_stacks_replace_nothing(linkerd_rotation):
    assert set(anchor_pems(linkerd_rotation[0])) == set(anchor_pems(stack_run("dev-linkerd")))


def test_linkerd_refuses_the_current_anchor_among_the_additional_ones():
    found = problems(
        "dev-linkerd", {CERTIFICATES: {"trustAnchorGeneration": 2, "additionalTrustAnchorGenerations": [2]}}
    )
    assert any("certificates.additionalTrustAnchorGenerations = [2]" in problem for problem in found)


def test_prod_protects_every_linkerd_anchor_it_keeps():
    run = run_stack("prod-linkerd", {CERTIFICATES: {"additionalTrustAnchorGenerations": [2]}})
    anchors = [resource for resource in run.resources if "trust-anchor" in resource.name]
    assert len(anchors) == 4
    assert all(resource.protect for resource in anchors)


# Refused configurations: each names the key, the value where it is not a secret, and what is allowed.

REFUSED = [
    ("plugin-without-root", {TRUST: {"ca": "plugin"}}, "mesh.istio.trust.root: is required", "with ca: plugin"),
    (
        "root-with-self-signed",
        {TRUST: {"ca": "selfSigned", "root": {"stack": PROD_ROOT}}},
        "mesh.istio.trust.root = ",
        "list it in additionalRoots",
    ),
    (
        "root-key-without-certificate",
        {TRUST: plugin({"privateKeyPem": OWN_KEY})},
        "root.certificatePem",
        "is required with privateKeyPem",
    ),
    (
        "root-certificate-without-key",
        {TRUST: plugin({"certificatePem": OWN_ROOT})},
        "root.privateKeyPem",
        "is required with certificatePem",
    ),
    (
        "two-roots",
        {TRUST: plugin({"stack": PROD_ROOT, "certificatePem": OWN_ROOT})},
        "mesh.istio.trust.root:",
        "must be one root, not both",
    ),
    ("empty-root", {TRUST: plugin({})}, "mesh.istio.trust.root:", "names no root"),
    (
        "empty-additional-root",
        {TRUST: plugin(additionalRoots=[{}])},
        "additionalRoots[0]:",
        "exactly one of stack or certificatePem",
    ),
    ("bad-stack-name", {TRUST: plugin({"stack": "a/b/c/d"})}, '"a/b/c/d"', "<organization>/<project>/<stack>"),
    # A bare stack name would be read from this project (servicemesh), never the trust project.
    ("short-stack-name", {TRUST: plugin({"stack": "prod"})}, '"prod"', "<organization>/<project>/<stack>"),
    (
        "not-a-certificate",
        {TRUST: plugin(additionalRoots=[{"certificatePem": "hello"}])},
        '"hello"',
        "must be PEM certificate text",
    ),
    ("unknown-ca", {TRUST: {"ca": "vault"}}, '"vault"', "'selfSigned' or 'plugin'"),
    (
        "renewal-not-before-expiry",
        {TRUST: plugin(intermediate={"validityHours": 100, "earlyRenewalHours": 100})},
        "earlyRenewalHours = 100",
        "must be less than validityHours (100)",
    ),
]


@pytest.mark.parametrize(
    ("overrides", "names", "says"), [case[1:] for case in REFUSED], ids=[case[0] for case in REFUSED]
)
def test_bad_trust_settings_stop_the_program_before_any_resource(overrides, names, says):
    found = problems("dev", overrides)
    assert any(names in problem and says in problem for problem in found), found


def test_a_plain_text_root_key_is_refused_and_never_printed():
    found = problems("dev", {TRUST: plugin({"certificatePem": OWN_ROOT, "privateKeyPem": OWN_KEY})})
    assert any("root.privateKeyPem: is plain text" in problem and "--secret" in problem for problem in found)
    assert not any("OwnedKey" in problem for problem in found)


def test_a_malformed_secret_root_key_is_refused_without_printing_it():
    bad = "-----BEGIN CERTIFICATE-----\nMIIOwnedKey=\n-----END CERTIFICATE-----\n"
    found = problems(
        "dev",
        {TRUST: plugin({"certificatePem": OWN_ROOT, "privateKeyPem": bad})},
        secret_keys={"servicemesh:mesh"},
    )
    assert any("must be an unencrypted PEM private key" in problem for problem in found)
    assert not any("OwnedKey" in problem for problem in found)


@pytest.mark.parametrize("stack", ["dev-linkerd", "dev-consul"])
def test_other_meshes_refuse_istio_trust_settings(stack):
    found = problems(stack, {TRUST: plugin()})
    assert any("mesh.istio" in problem and "applies to mesh.provider istio only" in problem for problem in found)


# Expiry: in the outputs, and warned of within the window.


def test_the_plugin_stack_reports_when_its_intermediate_and_the_root_expire(plugin_prod):
    expiry = plugin_prod.outputs["istioCertificateExpiry"]
    assert expiry == {
        "intermediate": intermediate(plugin_prod).inputs["validityEndTime"],
        "root": (MOCK_CERTIFICATES_ISSUED + timedelta(days=3650)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


NOW = datetime(2026, 6, 1, tzinfo=UTC)


def test_a_certificate_inside_the_window_is_warned_of_with_its_name_expiry_and_days_left():
    (message,) = expiry_warnings({"intermediate": "2026-06-11T00:00:00Z"}, now=NOW, window_days=30)
    assert "'intermediate'" in message
    assert "2026-06-11T00:00:00Z" in message
    assert "in 10 day(s)" in message


def test_a_certificate_outside_the_window_is_not_warned_of():
    assert expiry_warnings({"intermediate": "2026-08-01T00:00:00Z"}, now=NOW, window_days=30) == []


def test_an_expired_certificate_is_warned_of_even_with_no_window():
    (message,) = expiry_warnings({"issuer": "2026-05-30T00:00:00Z"}, now=NOW, window_days=0)
    assert "2 day(s) ago" in message


@pytest.fixture
def warnings(monkeypatch):
    logged = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *args, **kwargs: logged.append(message))
    return logged


class ClockOfTheMockIssue(datetime):
    """The program's clock set 300 days after the mock engine issued every certificate."""

    @classmethod
    def now(cls, tz=None):
        return MOCK_CERTIFICATES_ISSUED + timedelta(days=300)


def test_a_render_warns_of_nothing_since_no_mock_certificate_is_about_to_expire(warnings):
    run_stack("dev-linkerd", {"servicemesh:mesh.certificateWarningDays": 3650})
    assert warnings == []


@pytest.mark.parametrize(("window", "warned"), [(70, True), (60, False)])
def test_the_program_warns_of_the_anchor_only_inside_the_configured_window(monkeypatch, warnings, window, warned):
    # dev-linkerd's anchor lasts 365 days: 65 are left on the program's clock.
    monkeypatch.setattr(certificates, "datetime", ClockOfTheMockIssue)
    run_stack("dev-linkerd", {"servicemesh:mesh.certificateWarningDays": window})
    assert any("'trustAnchor'" in message for message in warnings) is warned


# The trust project: a root CA of its own.

TRUST_PROGRAM = PROJECT_ROOT / "trust" / "__main__.py"


def run_trust(stack, root=None):
    config = {"servicemesh-trust:root": json.dumps(root)} if root is not None else {}
    return run_program(EngineConfig(config), stack=stack, program=TRUST_PROGRAM)


def trust_stack_file(stack):
    import yaml

    return yaml.safe_load(Path(PROJECT_ROOT / "trust" / f"Pulumi.{stack}.yaml").read_text())["config"]


def test_the_trust_project_exports_the_root_its_key_as_a_secret_and_its_expiry():
    root = trust_stack_file("prod")["servicemesh-trust:root"]
    run = run_trust("prod", root)
    assert run.error is None, run.error
    certificate = run.named("root")
    assert run.outputs["rootCertificatePem"] == certificate.inputs["certPem"]
    assert run.outputs["rootExpiry"] == certificate.inputs["validityEndTime"]
    assert run.secret_outputs == {"rootPrivateKeyPem"}
    assert certificate.inputs["subject"]["commonName"] == root["commonName"]
    assert run.named("root-key").inputs["ecdsaCurve"] == "P384"


def test_the_prod_trust_stack_protects_its_root():
    run = run_trust("prod", trust_stack_file("prod")["servicemesh-trust:root"])
    assert run.named("root").protect
    assert run.named("root-key").protect


def test_a_prod_trust_stack_must_protect_its_root():
    run = run_trust("prod", {})
    assert run.resources == []
    assert [str(problem) for problem in run.error.problems] == [
        "servicemesh-trust:root.protect = false: must be true in a prod stack (the mesh's root)"
    ]


def test_bad_trust_project_config_is_reported_all_at_once():
    run = run_trust(
        "dev",
        {"keyAlgorithm": "DSA", "validityHours": 1_000_000, "protec": True, "commonName": "root\nCN=evil"},
    )
    found = [str(problem) for problem in run.error.problems]
    assert run.resources == []
    assert any('root.commonName = "root\\nCN=evil": must be 1 to 64 characters of' in problem for problem in found)
    assert any("root.keyAlgorithm = \"DSA\": must be one of 'ECDSA-P256'" in problem for problem in found)
    assert any("root.validityHours = 1000000: must be an integer <= 175200" in problem for problem in found)
    assert any("root.protec = true: unknown key; did you mean 'protect'?" in problem for problem in found)
