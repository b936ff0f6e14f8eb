"""The gallery's pytest options and ini values: each a usage error naming the option, before any job runs."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

#: (id, command-line arguments or an ini line, what the error must name)
OPTION_CASES: list[tuple[str, list[str] | str, str]] = [
    ("timeout-word", ["--modelarts-timeout=soon"], "--modelarts-timeout"),
    ("timeout-negative", ["--modelarts-timeout=-1"], "--modelarts-timeout"),
    ("timeout-nan", ["--modelarts-timeout=nan"], "--modelarts-timeout"),
    ("timeout-inf", ["--modelarts-timeout=inf"], "--modelarts-timeout"),
    ("timeout-empty", ["--modelarts-timeout="], "--modelarts-timeout"),
    ("lock-mode-bad", ["--modelarts-lock-mode=always"], "--modelarts-lock-mode"),
    ("lock-mode-case", ["--modelarts-lock-mode=CHECK"], "--modelarts-lock-mode"),
    ("python-source-bad", ["--modelarts-python-source=system"], "--modelarts-python-source"),
    ("contract-bad", ["--modelarts-contract=v3"], "--modelarts-contract"),
    ("log-lines-negative", ["--modelarts-log-lines=-1"], "--modelarts-log-lines"),
    ("log-lines-word", ["--modelarts-log-lines=many"], "--modelarts-log-lines"),
    ("log-lines-float", ["--modelarts-log-lines=2.5"], "--modelarts-log-lines"),
    ("root-is-file", ["--modelarts-root={file}"], "--modelarts-root"),
    ("cache-dir-is-file", ["--modelarts-cache-dir={file}"], "--modelarts-cache-dir"),
    ("obs-root-is-file", ["--modelarts-obs-root={file}"], "--modelarts-obs-root"),
    ("ledger-is-dir", ["--modelarts-promote-ledger={dir}"], "--modelarts-promote-ledger"),
    ("promote-without-modelarts", ["--modelarts-promote"], "--modelarts-promote"),
    ("promote-wait-alone", ["--modelarts", "--modelarts-promote-wait"], "--modelarts-promote-wait"),
    ("promote-force-alone", ["--modelarts", "--modelarts-promote-force"], "--modelarts-promote-force"),
    ("ini-timeout-word", "modelarts_timeout = soon", "modelarts_timeout"),
    ("ini-timeout-inf", "modelarts_timeout = inf", "modelarts_timeout"),
    ("ini-timeout-nan", "modelarts_timeout = nan", "modelarts_timeout"),
    ("ini-lock-mode", "modelarts_lock_mode = always", "modelarts_lock_mode"),
    ("ini-contract", "modelarts_contract = v0", "modelarts_contract"),
    ("ini-log-lines", "modelarts_log_lines = -3", "modelarts_log_lines"),
    ("ini-modelarts-bool", "modelarts = perhaps", "modelarts"),
    ("ini-root-is-file", "modelarts_root = a-file", "--modelarts-root"),
]


@pytest.mark.parametrize(("args", "needle"), [pytest.param(a, n, id=i) for i, a, n in OPTION_CASES])
def test_a_bad_option_is_a_usage_error_naming_it(pytester: pytest.Pytester, args: list[str] | str, needle: str) -> None:
    ini = "[pytest]\naddopts = -p no:cacheprovider\n" + (args + "\n" if isinstance(args, str) else "")
    pytester.makeini(ini)
    pytester.makepyfile("import pytest\n\n@pytest.mark.modelarts(code_dir='code', boot_file='train.py')\n"
                        "def test_smoke(modelarts_job):\n    pass\n")
    (pytester.path / "a-file").write_text("")
    (pytester.path / "a-dir").mkdir()
    argv = [a.format(file=pytester.path / "a-file", dir=pytester.path / "a-dir") for a in args] if isinstance(args, list) else []
    result = pytester.runpytest(*argv)
    output = result.stderr.str() + result.stdout.str()
    assert result.ret == pytest.ExitCode.USAGE_ERROR, output
    assert needle in output and "Traceback" not in output
    assert not (pytester.path / ".modelarts").exists()
