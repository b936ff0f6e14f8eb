"""Options: one group, each with an ini twin; the command line wins; bad values list the valid ones."""

from __future__ import annotations

import pytest

MARKED = """
import pytest

@pytest.mark.modelarts(code_dir="code", boot_file="train.py")
def test_smoke(modelarts_job):
    assert modelarts_job.succeeded
"""


def test_help_lists_the_modelarts_group_with_ini_names(project: pytest.Pytester) -> None:
    result = project.runpytest("--help")
    result.stdout.fnmatch_lines(["ModelArts smoke tests:", "  --modelarts *run ModelArts smoke tests*"])
    text = " ".join(result.stdout.str().split())  # help text wraps
    assert "(ini: modelarts)" in text
    for flag, ini in [("--modelarts-cache-dir", "modelarts_cache_dir"), ("--modelarts-lock-mode", "modelarts_lock_mode"),
                      ("--modelarts-timeout", "modelarts_timeout"), ("--modelarts-keep-sandboxes", "modelarts_keep_sandboxes"),
                      ("--modelarts-keep-failed", "modelarts_keep_failed"),
                      ("--modelarts-promote", "modelarts_promote"), ("--modelarts-promote-wait", "modelarts_promote_wait"),
                      ("--modelarts-promote-force", "modelarts_promote_force"),
                      ("--modelarts-instance-type", "modelarts_instance_type"),
                      ("--modelarts-promote-ledger", "modelarts_promote_ledger"),
                      ("--modelarts-python-source", "modelarts_python_source")]:
        assert flag in text and ini in text


def test_the_ini_file_can_enable_modelarts(project: pytest.Pytester) -> None:
    project.makeini("[pytest]\naddopts = -p no:cacheprovider\nmodelarts = true\n")
    project.makepyfile(MARKED)
    project.runpytest().assert_outcomes(passed=1)


def test_the_command_line_wins_over_the_ini_file(project: pytest.Pytester) -> None:
    project.makeini("[pytest]\nmodelarts = yes\nmodelarts_lock_mode = check\nmodelarts_timeout = 120\nmodelarts_root = ini-root\n")
    project.makepyfile(MARKED)
    from_ini = project.runpytest()
    from_ini.stdout.fnmatch_lines([f"modelarts: sandboxes under {project.path / 'ini-root'}, lock mode check, timeout 120 s"])
    from_ini.assert_outcomes(passed=1)
    from_cli = project.runpytest("--modelarts-lock-mode=update", "--modelarts-timeout=none", "--modelarts-root=cli-root")
    from_cli.stdout.fnmatch_lines([f"modelarts: sandboxes under {project.path / 'cli-root'}, lock mode update, timeout none"])
    assert (project.path / "cli-root" / "pytest" / "main" / "runs").is_dir()


@pytest.mark.parametrize(("args", "ini", "message"), [
    (["--modelarts-lock-mode=sometimes"], "", "*argument --modelarts-lock-mode: invalid choice: 'sometimes' (choose from*create*check*update*)"),
    ([], "modelarts_lock_mode = nope", "ERROR: *config option 'modelarts_lock_mode' expects one of 'create' | 'check' | 'update', got 'nope'"),
    (["--modelarts-timeout=-3"], "", "ERROR: --modelarts-timeout=-3: must be a number of seconds > 0, or 'none' for no timeout"),
    ([], "modelarts = maybe", "ERROR: ini modelarts: invalid truth value 'maybe'"),
    (["--modelarts-log-lines=many"], "", "ERROR: --modelarts-log-lines=many: must be an int >= 0"),
    ([], "modelarts_python_source = system", "ERROR: *config option 'modelarts_python_source' expects one of 'conda' | 'local' | '', got 'system'"),
    (["--modelarts-promote"], "", "ERROR: --modelarts-promote promotes passing smoke tests: add --modelarts to run them"),
    (["--modelarts", "--modelarts-promote-wait"], "", "ERROR: --modelarts-promote-wait and --modelarts-promote-force modify promotion: add --modelarts-promote"),
])
def test_bad_values_are_usage_errors_that_list_the_valid_ones(project: pytest.Pytester, args: list[str], ini: str, message: str) -> None:
    project.makeini(f"[pytest]\n{ini}\n")
    project.makepyfile(MARKED)
    result = project.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_python_source_local_runs_the_job_in_a_locked_uv_venv(project: pytest.Pytester, tmp_path) -> None:
    """``modelarts_python_source = local``: an environment that pins only python is locked and built over a
    local interpreter, and the job runs with that environment's interpreter, not the caller's."""
    cache = tmp_path / "env-cache"
    project.makeini(f"[pytest]\nmodelarts = yes\nmodelarts_python_source = local\nmodelarts_cache_dir = {cache}\n")
    (project.path / "env.toml").write_text('name = "only-python"\nconda_packages = ["python=3.11"]\n')
    (project.path / "code" / "where.py").write_text(
        "import sys, os\nprint('prefix', sys.prefix)\nprint('venv', os.environ.get('VIRTUAL_ENV'))\n")
    project.makepyfile(
        """
        import pytest

        @pytest.mark.modelarts(code_dir="code", boot_file="where.py", environment="env.toml")
        def test_where(modelarts_job):
            (prefix,) = [l.split()[1] for l in modelarts_job.log_lines if l.startswith("prefix ")]
            (venv,) = [l.split()[1] for l in modelarts_job.log_lines if l.startswith("venv ")]
            assert prefix == venv
            print("PREFIX", prefix)
        """
    )
    result = project.runpytest("-s")
    result.assert_outcomes(passed=1)
    prefix = next(line.split()[1] for line in result.outlines if line.startswith("PREFIX "))
    assert prefix.startswith(str(cache))
    assert (project.path / "only-python.conda-lock.yml").is_file()


def test_the_run_root_tells_git_to_ignore_it(project: pytest.Pytester) -> None:
    project.makepyfile(MARKED)
    project.runpytest("--modelarts").assert_outcomes(passed=1)
    assert (project.path / ".modelarts" / ".gitignore").read_text().splitlines()[-2:] == ["*", "!promotions.json"]
