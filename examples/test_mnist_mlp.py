"""Smoke tests of the digits MLP: ``pytest --modelarts examples/`` runs them locally, as ModelArts would.

The marker holds the job's full (online) configuration; ``smoke_*`` values are used only for the local run:
few epochs on a 300-sample CSV. ``--modelarts-promote`` submits the full configuration to
``train_instance_type`` with the ``online_*`` locations once the smoke test passes.
"""

import json

import pytest

mnist_mlp = pytest.mark.modelarts(
    code_dir="mnist_mlp",
    boot_file="train.py",
    environment="mlp_digits.env.toml",
    hyperparameters={"epochs": 30, "hidden": 64, "learning_rate": 0.01},
    smoke_hyperparameters={"epochs": 8},
    smoke_inputs="data/digits_sample",
    train_instance_type="modelarts.vm.cpu.2u",
    online_inputs="obs://my-bucket/digits/",
    online_output_path="obs://my-bucket/mnist-mlp/output/",
    timeout=300,
)


@mnist_mlp
def test_mnist_mlp_learns(modelarts_job):
    """The smoke run completes, the loss goes down and the model is saved."""
    modelarts_job.assert_decreased("loss")
    modelarts_job.assert_file("model.pkl", "metrics.json")
    summary = json.loads(modelarts_job.file("metrics.json").read_text())
    assert summary["epochs"] == 8 and summary["samples"] == 300
    assert len(modelarts_job.metric("accuracy")) == 8


@mnist_mlp
def test_mnist_mlp_without_inputs(estimator):
    """Without inputs the boot file falls back to the bundled dataset (the ``estimator`` fixture, by hand)."""
    job = estimator.fit(inputs=None, wait=True)
    assert "sklearn.datasets.load_digits" in job.logs()
    assert "ignoring parameters" not in job.logs()  # a v2 job gets no arguments beyond its own (docs/contract.md)
