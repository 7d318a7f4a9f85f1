"""How the program's cost grows with the number of apps, as far as a test can hold it without a
clock (`benchmarks/apps_scaling.py` prints the times): each app adds the same resources, the mocks
runner keeps CPython's cyclic garbage collector, whose full passes rescan every live object of a
run and made big stacks slower per app, off while the program runs, and a 500-app stack is a
valid stack (the engine's own cost for one is in docs/testing-and-performance.md)."""

from __future__ import annotations

import gc

from stack_harness import run_program, stack_config

from settings.loader import load_settings

PROGRAM_READING_THE_COLLECTOR = "import gc\nimport pulumi\n\npulumi.export('collecting', gc.isenabled())\n"


def apps(count: int) -> list[dict]:
    return [
        {"name": f"app-{index}", "namespace": f"team-{index}", "trafficClient": {"enabled": True}}
        for index in range(count)
    ]


def resources_with(count: int) -> int:
    run = run_program(stack_config("dev", {"servicemesh:apps": apps(count)}), stack="dev")
    assert run.error is None
    return len(run.resources)


def test_each_app_in_its_own_namespace_adds_the_same_number_of_resources():
    one, two, four = resources_with(1), resources_with(2), resources_with(4)

    assert four - two == 2 * (two - one)


def test_the_collector_is_off_while_the_program_runs_and_on_again_after(tmp_path):
    program = tmp_path / "__main__.py"
    program.write_text(PROGRAM_READING_THE_COLLECTOR)

    run = run_program({}, program=program)

    assert run.outputs == {"collecting": False}
    assert gc.isenabled()


def test_a_collector_switched_off_before_the_run_stays_off(tmp_path):
    program = tmp_path / "__main__.py"
    program.write_text(PROGRAM_READING_THE_COLLECTOR)
    gc.disable()
    try:
        run_program({}, program=program)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_stack_of_500_apps_in_500_namespaces_is_valid():
    settings = load_settings(stack_config("dev", {"servicemesh:apps": apps(500)}))

    assert len(settings.apps) == 500
    assert len(settings.enrolled_namespaces) >= 500
