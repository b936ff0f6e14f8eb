"""The label check reads a boot file's argparse declarations to catch a hyperparameter typo; it refuses only where
it can be sure. Legal boot files (labels declared in a helper module, or read from the leftover arguments) are never
refused: the check follows local imports, and where the script reads its leftover arguments it warns instead."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from pytest_modelarts import Session
from pytest_modelarts.core.bootfile import doubtful, undeclared
from pytest_modelarts.errors import ParameterError
from pytest_modelarts.pytest_plugin.marker import configure, spec_from_marker

HELPER = "import argparse\n\ndef parser():\n    p = argparse.ArgumentParser()\n    p.add_argument('--epochs')\n    return p\n"


def boot(tmp_path: Path, source: str, **helpers: str) -> Path:
    code = tmp_path / "code"
    code.mkdir(exist_ok=True)
    for name, text in helpers.items():
        target = code / f"{name.replace('__', '/')}.py"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    script = code / "train.py"
    script.write_text(source)
    return script


LEGAL = {
    "helper-module": ("from helpers import parser\np = parser()\np.add_argument('--lr')\na, _ = p.parse_known_args()\n",
                      {"helpers": HELPER}),
    "helper-package": ("from pkg.args import parser\np = parser()\np.add_argument('--lr')\na, _ = p.parse_known_args()\n",
                       {"pkg____init__": "", "pkg__args": HELPER}),
    "helper-relative-import": ("import helpers\np = helpers.parser()\np.add_argument('--lr')\np.parse_known_args()\n",
                               {"helpers": HELPER}),
}


@pytest.mark.parametrize("name", sorted(LEGAL))
def test_labels_declared_in_a_local_module_are_read_there(tmp_path: Path, name: str) -> None:
    source, helpers = LEGAL[name]
    script = boot(tmp_path, source, **helpers)
    assert undeclared(script, ["epochs", "lr"]) == [] and doubtful(script, ["epochs", "lr"]) == []
    assert undeclared(script, ["epcohs"])[0].startswith("label 'epcohs' is not declared")  # a typo is still caught


LEFTOVER = {
    "rest-of-parse-known-args": "import argparse\np = argparse.ArgumentParser()\np.add_argument('--lr')\n"
                                "a, rest = p.parse_known_args()\nextra = dict(x.lstrip('-').split('=') for x in rest)\n",
    "parse-known-args-subscript": "import argparse\np = argparse.ArgumentParser()\np.add_argument('--lr')\n"
                                  "extra = p.parse_known_args()[1]\n",
    "sys-argv": "import argparse, sys\np = argparse.ArgumentParser()\np.add_argument('--lr')\na, _ = p.parse_known_args()\n"
                "epochs = [x for x in sys.argv if x.startswith('--epochs=')]\n",
    "unreadable-helper": "import argparse\nimport broken\np = argparse.ArgumentParser()\np.add_argument('--lr')\n"
                         "p.parse_known_args()\n",
}


@pytest.mark.parametrize("name", sorted(LEFTOVER))
def test_labels_read_from_the_leftover_arguments_are_warned_not_refused(tmp_path: Path, name: str) -> None:
    script = boot(tmp_path, LEFTOVER[name], broken="def (:\n")
    assert undeclared(script, ["epochs"]) == []
    assert doubtful(script, ["epochs", "lr"]) and "'epochs'" in doubtful(script, ["epochs", "lr"])[0]
    assert len(doubtful(script, ["epochs", "lr"])) == 1  # --lr is declared


def test_sys_argv_given_to_the_parser_is_no_leftover_read(tmp_path: Path) -> None:
    script = boot(tmp_path, "import argparse, sys\np = argparse.ArgumentParser()\np.add_argument('--lr')\n"
                            "a, _ = p.parse_known_args(sys.argv[1:])\n")
    assert undeclared(script, ["epcohs"])[0].startswith("label 'epcohs' is not declared")


def test_a_marker_warns_for_a_doubtful_label_and_refuses_a_certain_typo(tmp_path: Path) -> None:
    boot(tmp_path, LEFTOVER["rest-of-parse-known-args"])
    session = Session(local_root=tmp_path / "root", stream_logs=False)
    spec = spec_from_marker((), {"code_dir": "code", "boot_file": "train.py", "hyperparameters": {"epochs": 2}}, tmp_path)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        configured = configure(spec, session, name="doubt", promote=False)
    assert configured.local is not None
    assert any("'epochs'" in str(w.message) and "leftover" in str(w.message) for w in seen), [str(w.message) for w in seen]
    (tmp_path / "code" / "train.py").write_text("import argparse\np = argparse.ArgumentParser()\np.add_argument('--epochs')\n"
                                                "p.parse_known_args()\n")
    spec = spec_from_marker((), {"code_dir": "code", "boot_file": "train.py", "hyperparameters": {"epcohs": 2}}, tmp_path)
    with pytest.raises(ParameterError, match="epcohs"):
        configure(spec, session, name="typo", promote=False)
