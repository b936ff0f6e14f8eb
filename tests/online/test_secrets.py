"""The secret key appears nowhere: output, logs, junitxml, exception texts, reprs, the ledger."""

from __future__ import annotations

import logging
import textwrap

import pytest

from pytest_modelarts import Estimator, ModelArtsError
from pytest_modelarts.promotion import Ledger, promote

from .conftest import FLAVOR, TRAIN


def test_the_secret_key_is_never_shown(modelarts_emulator, online_code, online_data, tmp_path, capfd, caplog):
    caplog.set_level(logging.DEBUG)
    secret = modelarts_emulator.secret_key
    wrong = "Wr0ng-" + secret[::-1]
    seen: list[str] = []
    session = modelarts_emulator.session()
    est = Estimator(modelarts_session=session, code_dir=str(online_code), boot_file="train.py", train_instance_type=FLAVOR,
                    framework_type="PyTorch",
                    train_instance_count=1, output_path="obs://emulator-bucket/out/")
    config = est.config.fit(inputs=str(online_data), job_name="s")
    ledger = Ledger(tmp_path / "ledger.json")
    modelarts_emulator.inject(0.3, ("500", "429", "drop"))
    rec = promote(config, session, ledger=ledger, lock_hash=None, wait=True)
    modelarts_emulator.clear_faults()
    job = est.fit(inputs=str(online_data), job_name="s2", wait=True)
    seen += [repr(x) for x in (session, session.credentials, est, job, rec, ledger, modelarts_emulator, modelarts_emulator.emulator)]
    seen += [str(session), str(job.get_job_info()), job.logs(), (tmp_path / "ledger.json").read_text()]
    for bad in (dict(secret_key=wrong), dict(project_id="nope")):
        for code_dir in (str(online_code), "obs://emulator-bucket/code/"):
            try:
                Estimator(modelarts_session=modelarts_emulator.session(**bad), code_dir=code_dir, boot_file="train.py",
                          train_instance_type=FLAVOR, framework_type="PyTorch", train_instance_count=1,
                          output_path="obs://emulator-bucket/out/").fit(inputs="obs://emulator-bucket/data/")
            except ModelArtsError as exc:
                seen += [str(exc), repr(exc), str(exc.args)]
            else:
                pytest.fail("a wrong key must not work")
    out, err = capfd.readouterr()
    seen += [out, err, caplog.text]
    seen += [p.read_text(errors="replace") for p in tmp_path.rglob("*") if p.is_file() and p.stat().st_size < 1 << 20]
    for text in seen:
        assert secret not in text
        assert wrong not in text


def test_the_secret_key_is_not_in_junitxml_of_a_failing_online_test(pytester, monkeypatch):
    pytester.makeconftest('pytest_plugins = ["pytest_modelarts.emulator.fixtures"]\n')
    (pytester.path / "code").mkdir()
    (pytester.path / "code" / "train.py").write_text(TRAIN)
    (pytester.path / "data").mkdir()
    (pytester.path / "data" / "d.csv").write_text("1\n")
    pytester.makepyfile(test_inner=textwrap.dedent(f"""
        import logging, pathlib
        from pytest_modelarts import Estimator

        def test_fails_online(modelarts_emulator):
            logging.getLogger("x").warning("session %r", modelarts_emulator.session())
            print("handle", modelarts_emulator, modelarts_emulator.session())
            pathlib.Path("secret.txt").write_text(modelarts_emulator.secret_key)
            est = Estimator(modelarts_session=modelarts_emulator.session(), code_dir="code", boot_file="train.py",
                            train_instance_type="{FLAVOR}", framework_type="PyTorch", train_instance_count=1,
                            output_path="obs://emulator-bucket/out/", hyperparameters=[{{"label": "epochs", "value": "fail"}}])
            est.fit(inputs="data", wait=True, job_name="junit")
    """))
    result = pytester.runpytest("--junitxml=report.xml", "-rA", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    secret = (pytester.path / "secret.txt").read_text()
    assert secret
    report = (pytester.path / "report.xml").read_text()
    assert "failed with exit code 3" in report
    for text in (report, result.stdout.str(), result.stderr.str()):
        assert secret not in text
