"""The project's hooks: documented, and implemented from a conftest.py like any pytest hook."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from pytest_modelarts.core import hooks as hookspecs

DOCS = Path(__file__).resolve().parents[2] / "docs" / "hooks.md"
HOOKS = [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("pytest_modelarts_")]


def test_every_hook_has_a_docstring_and_a_section_in_docs_hooks_md() -> None:
    assert len(HOOKS) >= 7
    text = DOCS.read_text()
    for name in HOOKS:
        assert (getattr(hookspecs, name).__doc__ or "").strip(), f"{name} has no docstring"
        assert f"## `{name}`" in text, f"{name} is not documented in docs/hooks.md"


def test_conftest_hooks_adjust_jobs_see_results_and_register_backends(project: pytest.Pytester) -> None:
    project.makeconftest("""
        import json
        from pytest_modelarts.backends.local.backend import LocalBackend

        SEEN = []

        class TracingBackend(LocalBackend):
            name = "tracing"

        def pytest_modelarts_register_backends(registry):
            registry.register(TracingBackend)

        def pytest_modelarts_select_backend(job_config, modelarts_session):
            return "tracing" if job_config.job_name.startswith("test_traced") else None

        def pytest_modelarts_modify_job(job_config, modelarts_session):
            return {"hyperparameters": job_config.hyperparameters + (("epochs", "5"),)}

        def pytest_modelarts_job_started(job):
            SEEN.append(("started", job.job_name, job.backend))

        def pytest_modelarts_job_finished(job):
            SEEN.append(("finished", job.job_name, job.phase.value))

        def pytest_sessionfinish(session):
            print("SEEN=" + json.dumps(SEEN))
    """)
    project.makepyfile("""
        import pytest

        @pytest.mark.modelarts(code_dir="code", boot_file="train.py")
        def test_traced(modelarts_job):
            assert modelarts_job.job.backend == "tracing"
            assert modelarts_job.metric("epoch") == [1, 2, 3, 4, 5]  # modify_job added --epochs=5

        @pytest.mark.modelarts(code_dir="code", boot_file="train.py")
        def test_default(modelarts_job):
            assert modelarts_job.job.backend == "local"
    """)
    result = project.runpytest("--modelarts", "-s")
    result.assert_outcomes(passed=2)
    assert ('SEEN=[["started", "test_traced", "tracing"], ["finished", "test_traced", "Completed"], '
            '["started", "test_default", "local"], ["finished", "test_default", "Completed"]]') in result.stdout.str()
