"""The policy pack on the real engine: every stack passes it, a derived stack that weakens mTLS
is refused by it."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("base_stack", ["dev", "staging", "prod"])
def test_every_stack_passes_the_policy_pack(new_stack, base_stack):
    stack = new_stack(f"policy-{base_stack}", base_stack)

    # A mandatory violation would fail the preview (and `pulumi()` with it).
    result = stack.pulumi("preview", "--policy-pack", "policy")

    assert "servicemesh-guardrails" in result.stdout


def test_a_permissive_staging_is_refused_by_the_pack(new_stack):
    # Config validation allows PERMISSIVE outside prod (for migrations); the pack does not,
    # unless the namespace is on its allowlist.
    stack = new_stack("policy-permissive", "staging", {"servicemesh:mesh.mtlsMode": "PERMISSIVE"})

    result = stack.pulumi("preview", "--policy-pack", "policy", check=False)

    assert result.returncode != 0
    assert "peer-authentication-no-plaintext" in result.stdout + result.stderr
