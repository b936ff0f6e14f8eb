"""The flavor catalog and the checks made from it before anything runs: locally and in the plugin."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_modelarts import ContainerOptions, Estimator, ParameterError, Session
from pytest_modelarts.core import flavors as fl

from .conftest import CODE


def local(session: Session, count: int = 1, **options: object) -> Estimator:
    return Estimator(modelarts_session=session, code_dir=str(CODE), boot_file="hog.py", train_instance_type="local",
                     train_instance_count=count, container_options=ContainerOptions(**options))  # type: ignore[arg-type]


def test_the_catalog_holds_the_documented_flavors_each_with_its_source() -> None:
    cpu2 = fl.find("modelarts.vm.cpu.2u")
    assert cpu2 is not None
    assert (cpu2.arch, cpu2.cores, cpu2.memory_gib, cpu2.max_num, cpu2.disk_gib, cpu2.gpus) == ("x86", 2, 8, 1, 50, 0)
    cpu8 = fl.find("modelarts.vm.cpu.8u")
    assert cpu8 is not None and (cpu8.cores, cpu8.memory_gib, cpu8.max_num) == (8, 32, 16)
    gpu = fl.find("modelarts.vm.gpu.pnt1.eco")
    assert gpu is not None and (gpu.gpus, gpu.gpu_product, gpu.cores, gpu.memory_gib) == (1, "GP-Pnt1", 8, 64)
    for flavor in fl.CATALOG:
        assert flavor.source.startswith(("api-ref/source/", "umn/source/")), flavor


def test_the_listing_has_the_apis_shape_and_filters_by_type() -> None:
    everything = fl.listing()
    assert everything["total_count"] == len(fl.CATALOG) == len(everything["flavors"])
    [first] = [f for f in everything["flavors"] if f["flavor_id"] == "modelarts.vm.cpu.2u"]
    assert first["flavor_info"] == {"max_num": 1, "cpu": {"arch": "x86", "core_num": 2},
                                    "memory": {"size": 8, "unit": "GB"}, "disk": {"size": 50, "unit": "GB"}}
    assert {f["flavor_type"] for f in fl.listing("GPU")["flavors"]} == {"GPU"}
    assert {f["flavor_type"] for f in fl.listing("CPU")["flavors"]} == {"CPU"}


def test_two_nodes_of_cpu_2u_are_refused_before_anything_runs(session: Session) -> None:
    with pytest.raises(ParameterError) as info:
        local(session, 2, flavor="modelarts.vm.cpu.2u").fit(wait=True)
    assert info.value.parameter == "train_instance_count"
    assert "max_num is 1" in str(info.value) and "modelarts.vm.cpu.8u" in str(info.value)
    assert not (session.local_root / "runs").exists()  # no sandbox, no worker


def test_an_unknown_flavor_is_refused_with_the_known_ones(session: Session) -> None:
    with pytest.raises(ParameterError) as info:
        local(session, flavor="modelarts.vm.cpu.64u").fit(wait=True)
    assert info.value.parameter == "flavor"
    assert "modelarts.vm.cpu.2u" in str(info.value) and "modelarts.vm.cpu.64u" in str(info.value)
    assert not (session.local_root / "runs").exists()


def test_an_online_job_of_a_known_flavor_over_its_max_num_is_refused_before_it_is_sent(session: Session) -> None:
    with pytest.raises(ParameterError, match="max_num is 1"):
        Estimator(modelarts_session=session, code_dir="obs://b/code/", boot_file="hog.py",
                  train_instance_type="modelarts.vm.cpu.2u", train_instance_count=2, output_path="obs://b/out/")


@pytest.mark.parametrize(("options", "parameter"), [
    ({"smoke_memory": "1g"}, "smoke_memory"),  # scales a flavor: without one it means nothing
    ({"flavor": "modelarts.vm.cpu.2u", "memory": "1g"}, "memory"),  # the flavor sets it
    ({"flavor": "modelarts.vm.cpu.2u", "smoke_memory": "lots"}, "smoke_memory"),
    ({"flavor": "modelarts.vm.cpu.2u", "smoke_cpus": 0}, "smoke_cpus"),
    ({"flavor": "modelarts.vm.cpu.2u", "gpus": 1}, "gpus"),  # a CPU flavor has none to give
    ({"flavor": "modelarts.vm.gpu.pnt1.eco", "gpus": 2}, "gpus"),  # more than the flavor has
])
def test_limits_that_contradict_the_flavor_are_refused(session: Session, options: dict[str, object], parameter: str) -> None:
    with pytest.raises(ParameterError) as info:
        local(session, **options)
    assert info.value.parameter == parameter


def test_a_flavor_with_more_cores_than_this_machine_is_capped_and_says_so() -> None:
    limits = fl.resolve("modelarts.vm.cpu.8u", memory=None, cpus=None, smoke_memory=None, smoke_cpus=None,
                        memory_of=int, cores=2, ram=24 * fl.GIB)
    assert (limits.cpus, limits.whole_cpus, limits.memory_bytes) == (2.0, 2, 32 * fl.GIB)
    assert any("this machine has 2: the job gets 2 (nproc shows 2)" in note for note in limits.notes)
    assert any("this machine has 24 GiB" in note for note in limits.notes)  # 32 GiB cannot be reached here
    assert "modelarts.vm.cpu.8u" in (limits.header() or "")


def test_an_oom_is_named_as_the_flavor_would_name_it() -> None:
    flavor = fl.find("modelarts.vm.cpu.2u")
    limits = fl.Limits(flavor=flavor, memory_bytes=8 * fl.GIB, cpus=2.0)
    assert limits.oom_text(int(8.1 * fl.GIB)) == "out of memory: exceeded the 8 GiB of modelarts.vm.cpu.2u (peak 8.1 GiB)"
    scaled = fl.resolve("modelarts.vm.cpu.2u", memory=None, cpus=None, smoke_memory="256m", smoke_cpus=None,
                        memory_of=lambda s: 256 * fl.MIB, cores=2, ram=None)
    assert scaled.oom_text(256 * fl.MIB) == ("out of memory: exceeded the 256 MiB of modelarts.vm.cpu.2u scaled down by "
                                             "smoke_memory='256m' (8 GiB online) (peak 256 MiB)")


def test_the_marker_refuses_two_nodes_of_cpu_2u_and_an_unknown_flavor_at_collection(pytester: pytest.Pytester) -> None:
    pytester.mkdir("code")
    (pytester.path / "code" / "hog.py").write_text((CODE / "hog.py").read_text())
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n")
    pytester.makepyfile(test_two="""
        import pytest

        @pytest.mark.modelarts(code_dir="code", boot_file="hog.py", train_instance_type="modelarts.vm.cpu.2u",
                               train_instance_count=2)
        def test_two(modelarts_job):
            pass
    """, test_unknown="""
        import pytest

        @pytest.mark.modelarts(code_dir="code", boot_file="hog.py", train_instance_type="modelarts.vm.cpu.99u")
        def test_unknown(modelarts_job):
            pass
    """)
    result = pytester.runpytest("--modelarts", f"--modelarts-root={pytester.path / 'root'}")
    assert result.ret != 0
    result.stdout.fnmatch_lines_random([
        "*::test_two: @pytest.mark.modelarts: Estimator(train_instance_count=2): 2 nodes of modelarts.vm.cpu.2u, whose max_num is 1*",
        "*::test_unknown: @pytest.mark.modelarts(train_instance_type='modelarts.vm.cpu.99u'): is not a published ModelArts flavor*"])
    assert not (Path(pytester.path) / "root" / "runs").exists()
