"""Each worker's peak memory, against its flavor's limit, in the pytest summary and the junit properties."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from .conftest import CODE


def test_the_summary_and_junit_show_each_workers_peak_and_an_oom_names_the_flavor(
        pytester: pytest.Pytester, cgroups: None) -> None:
    pytester.mkdir("code")
    (pytester.path / "code" / "hog.py").write_text((CODE / "hog.py").read_text())
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n")
    pytester.makepyfile("""
        import pytest

        @pytest.mark.modelarts(code_dir="code", boot_file="hog.py", train_instance_type="modelarts.vm.cpu.8u",
                               smoke_memory="1g", hyperparameters={"mib": "100"}, train_instance_count=2)
        def test_fits(modelarts_job):
            assert "allocated 100 MiB" in modelarts_job.log

        @pytest.mark.modelarts(code_dir="code", boot_file="hog.py", train_instance_type="modelarts.vm.cpu.2u",
                               smoke_memory="128m", hyperparameters={"mib": "300"})
        def test_too_big(modelarts_job):
            pass
    """)
    junit = pytester.path / "junit.xml"
    result = pytester.runpytest("--modelarts", f"--modelarts-root={pytester.path / 'root'}", f"--junitxml={junit}")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines_random([
        "*Completed*test_fits  (peak * MiB, * MiB of 1 GiB of modelarts.vm.cpu.8u scaled down by smoke_memory='1g' (32 GiB online))",
        "*Failed*test_too_big  (peak 128 MiB of 128 MiB of modelarts.vm.cpu.2u scaled down by smoke_memory='128m' (8 GiB online))",
        "*out of memory: exceeded the 128 MiB of modelarts.vm.cpu.2u scaled down by smoke_memory='128m' (8 GiB online) (peak 128 MiB)*",
        "modelarts: flavors: memory and CPUs through cgroup v* (local nodes) and Docker's own limits; not enforced: the size of /cache*",
    ])
    cases = {case.get("name"): case for case in ET.parse(junit).getroot().iter("testcase")}
    fits = {p.get("name"): p.get("value") for p in cases["test_fits"].iter("property")}
    for worker in (0, 1):
        assert 100 * 1024**2 < int(fits[f"modelarts_peak_memory_worker_{worker}"]) < 1024**3
    assert fits["modelarts_memory"].endswith("of 1 GiB of modelarts.vm.cpu.8u scaled down by smoke_memory='1g' (32 GiB online)")
