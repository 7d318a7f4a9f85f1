"""Both install modes produce the same charts, versions, values and ordering for every stack."""

from __future__ import annotations

import pytest
from stack_harness import run_stack, stack_names, stack_run

from settings.loader import ConfigError, load_settings

CHART = "kubernetes:helm.sh/v4:Chart"
RELEASE = "kubernetes:helm.sh/v3:Release"
RELEASE_MODE = {"servicemesh:helm.installMode": "release", "servicemesh:helm.releaseTimeoutSeconds": 900}


def installs(run, type_):
    return {resource.name: resource for resource in run.of_type(type_)}


def what_is_installed(resource):
    inputs = resource.inputs
    return (
        inputs["chart"],
        inputs["version"],
        inputs.get("repositoryOpts"),
        inputs["namespace"],
        inputs["name"],
        inputs["values"],
    )


def dependencies_by_name(run, resource):
    return sorted(run.by_urn(urn).name for urn in resource.dependencies)


@pytest.mark.parametrize("stack", stack_names())
def test_release_mode_installs_the_same_charts_versions_values_in_the_same_order(stack):
    per_object, helm_native = stack_run(stack), run_stack(stack, RELEASE_MODE)
    if per_object.outputs["mesh"] == "consul":
        pytest.skip("a Consul stack installs as Helm releases only: its chart's hooks create Consul's CA")
    charts, releases = installs(per_object, CHART), installs(helm_native, RELEASE)

    assert installs(helm_native, CHART) == {}
    assert sorted(charts) == sorted(releases)
    for name, chart in charts.items():
        assert what_is_installed(chart) == what_is_installed(releases[name])
        assert dependencies_by_name(per_object, chart) == dependencies_by_name(helm_native, releases[name])


def test_releases_are_atomic_clean_up_on_failure_and_wait_as_configured():
    for release in installs(run_stack("dev", RELEASE_MODE), RELEASE).values():
        assert release.inputs["atomic"] is True
        assert release.inputs["cleanupOnFail"] is True
        assert release.inputs["timeout"] == 900
        assert not release.inputs.get("skipAwait")


def test_prod_keeps_the_base_release_and_its_crds():
    releases = installs(run_stack("prod", RELEASE_MODE), RELEASE)

    assert releases["istio-base"].protect is True
    assert releases["istio-base"].retain_on_delete is True
    assert releases["istio-gateway"].protect is False


def test_the_install_mode_is_validated():
    with pytest.raises(
        ConfigError, match=r"servicemesh:helm.installMode = \"helm\": must be one of 'chart' or 'release'"
    ):
        load_settings({"servicemesh:environment": "dev", "servicemesh:helm": '{"installMode": "helm"}'})
