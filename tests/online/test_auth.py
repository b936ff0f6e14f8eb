"""Signatures: the emulator checks them like the real services, and a wrong key is a clear error."""

from __future__ import annotations

import pytest
import requests

from pytest_modelarts import AuthenticationError, Estimator

from .conftest import FLAVOR


def test_wrong_secret_key_is_an_authentication_error_from_obs(modelarts_emulator, online_code, online_data):
    session = modelarts_emulator.session(secret_key="not-the-right-secret")
    est = Estimator(modelarts_session=session, code_dir=str(online_code), boot_file="train.py", train_instance_type=FLAVOR,
                    framework_type="PyTorch",
                    train_instance_count=1, output_path="obs://emulator-bucket/out/")
    with pytest.raises(AuthenticationError, match="check the access key and secret key") as info:
        est.fit(inputs=str(online_data))
    assert info.value.status == 403
    assert modelarts_emulator.jobs() == []


def test_wrong_secret_key_is_an_authentication_error_from_modelarts(modelarts_emulator, online_code):
    # obs:// code and inputs: the first request goes to the ModelArts API
    session = modelarts_emulator.session(secret_key="not-the-right-secret")
    est = Estimator(modelarts_session=session, code_dir="obs://emulator-bucket/code/", boot_file="train.py",
                    train_instance_type=FLAVOR, framework_type="PyTorch", train_instance_count=1, output_path="obs://emulator-bucket/out/")
    with pytest.raises(AuthenticationError) as info:
        est.fit(inputs="obs://emulator-bucket/data/")
    assert info.value.status == 401
    assert info.value.error_code == "APIGW.0301"
    assert "Incorrect IAM authentication information: verify aksk signature fail" in str(info.value)
    assert modelarts_emulator.emulator.requests["modelarts"] == 1  # a 4xx is not retried


def test_unsigned_and_tampered_requests_are_refused(modelarts_emulator):
    url = f"{modelarts_emulator.endpoint}/v2/{modelarts_emulator.project_id}/training-jobs/x"
    r = requests.get(url, timeout=5)
    assert r.status_code == 401
    assert r.json() == {"error_code": "APIGW.0301", "error_msg": "Incorrect IAM authentication information: verify aksk signature fail"}
    r = requests.get(f"{modelarts_emulator.obs_endpoint}/emulator-bucket/k", timeout=5,
                     headers={"Authorization": f"AWS {modelarts_emulator.access_key}:AAAA", "Date": "Mon, 01 Jan 2024 00:00:00 GMT"})
    assert r.status_code == 403
    assert "<Code>SignatureDoesNotMatch</Code>" in r.text


def test_signed_requests_round_trip_through_obs(modelarts_emulator, tmp_path):
    from obs import ObsClient

    client = ObsClient(access_key_id=modelarts_emulator.access_key, secret_access_key=modelarts_emulator.secret_key,
                       server=modelarts_emulator.obs_endpoint, max_retry_count=0)
    try:
        assert client.putContent("emulator-bucket", "dir/a b~c.txt", "hello").status == 200
        listed = client.listObjects("emulator-bucket", prefix="dir/")
        assert [c.key for c in listed.body.contents] == ["dir/a b~c.txt"]
        got = client.getObject("emulator-bucket", "dir/a b~c.txt", downloadPath=str(tmp_path / "x"))
        assert got.status == 200 and (tmp_path / "x").read_text() == "hello"
        assert client.getObject("emulator-bucket", "missing", loadStreamInMemory=True).errorCode == "NoSuchKey"
        assert client.putContent("no-such-bucket", "k", "v").errorCode == "NoSuchBucket"
    finally:
        client.close()
