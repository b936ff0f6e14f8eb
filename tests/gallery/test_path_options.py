"""Path options in the space-separated form move pytest's rootdir: warned, with the '=' form;
paths of the wrong kind and non-finite timeouts are usage errors (item 10)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

TEST = "def test_nothing():\n    pass\n"


def _project(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\nmodelarts_timeout = 77\n")
    pytester.makepyfile(TEST)


def test_the_space_separated_form_of_a_path_option_is_warned_with_the_equals_form(pytester: pytest.Pytester, tmp_path_factory) -> None:
    _project(pytester)
    cache = tmp_path_factory.mktemp("elsewhere") / "cache"
    cache.mkdir()
    result = pytester.runpytest_subprocess("--modelarts-cache-dir", str(cache), str(pytester.path))
    result.stdout.fnmatch_lines(["*--modelarts-cache-dir *: pytest read * as a test path*write --modelarts-cache-dir=*"])


def test_the_equals_form_is_not_warned(pytester: pytest.Pytester, tmp_path_factory) -> None:
    _project(pytester)
    cache = tmp_path_factory.mktemp("elsewhere") / "cache"
    cache.mkdir()
    result = pytester.runpytest_subprocess(f"--modelarts-cache-dir={cache}")
    assert "as a test path" not in result.stdout.str()
    result.assert_outcomes(passed=1)


def test_help_shows_the_equals_form(pytester: pytest.Pytester) -> None:
    text = " ".join(pytester.runpytest("--help").stdout.str().split())
    for flag, meta in [("--modelarts-root", "DIR"), ("--modelarts-cache-dir", "DIR"), ("--modelarts-promote-ledger", "FILE")]:
        assert f"Give it as {flag}={meta}" in text


@pytest.mark.parametrize("args", [
    ["--modelarts-timeout=inf"], ["--modelarts-timeout=nan"], ["--modelarts-timeout=-inf"],
    ["--modelarts-root={file}"], ["--modelarts-cache-dir={file}"], ["--modelarts-obs-root={file}"],
    ["--modelarts-promote-ledger={dir}"],
])
def test_bad_option_values_are_usage_errors(pytester: pytest.Pytester, args: list[str]) -> None:
    _project(pytester)
    (pytester.path / "a-file").write_text("")
    (pytester.path / "a-dir").mkdir()
    args = [a.format(file=pytester.path / "a-file", dir=pytester.path / "a-dir") for a in args]
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    flag = args[0].split("=")[0]
    assert flag in result.stderr.str() and "Traceback" not in result.stderr.str() + result.stdout.str()


def test_the_docs_show_the_equals_form() -> None:
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    for doc in [root / "README.md", *sorted((root / "docs").glob("*.md"))]:
        spaced = re.findall(r"--modelarts-[a-z-]+ (?:DIR|FILE|[./~][^\s`]*)", doc.read_text())
        assert not spaced, f"{doc.name} shows the space-separated form: {spaced}"
