"""The pieces under the runner: FLOP counts, CPU peak, thresholds, defaults, result JSON."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from dlcheck.bench import engine, hardware, judge, models, runner
from dlcheck.bench.data import MnistData
from dlcheck.bench.result import BenchConfig, BenchResult, json_text
from dlcheck.errors import UsageError
from dlcheck.report.load import parse_report


@pytest.fixture(scope="module")
def keras_loaded():
    return engine.import_keras(engine.resolve_backend("auto"))


def test_mlp_and_cnn_macs_match_the_hand_count(keras_loaded):
    assert models.forward_macs(models.build_model("mlp")) == 784 * 512 + 512 * 10
    cnn = models.build_model("cnn")
    conv1 = 26 * 26 * 32 * 3 * 3 * 1
    conv2 = 24 * 24 * 64 * 3 * 3 * 32
    dense = 12 * 12 * 64 * 256 + 256 * 10
    assert models.forward_macs(cnn) == conv1 + conv2 + dense
    assert models.training_flops_per_sample(cnn) == 6 * (conv1 + conv2 + dense)
    assert cnn.output_shape == (None, 10)


def test_cnn_default_is_adam_and_adadelta_keeps_the_old_rate(keras_loaded):
    assert models.SPECS["cnn"].optimizer == "adam"
    old = models.make_optimizer("adadelta-1.0")
    assert float(np.asarray(old.learning_rate)) == pytest.approx(1.0)
    new = models.make_optimizer("adadelta")
    assert float(np.asarray(new.learning_rate)) == pytest.approx(0.001)


def test_gpu_peak_table_prefers_the_longest_name():
    assert hardware.gpu_peak_gflops("NVIDIA H100 PCIe") == 51200.0
    assert hardware.gpu_peak_gflops("NVIDIA GeForce RTX 3090") == 35600.0
    assert hardware.gpu_peak_gflops("Some Unknown GPU") is None


def _data(kind="real", split=True, n=8000):
    x = np.zeros((n, 28, 28), np.uint8)
    y = np.zeros(n, np.uint8)
    return MnistData(x, y, x[:10], y[:10], "t", kind, "n", split={"seed": 0} if split else None)


@pytest.mark.parametrize(
    ("model", "kind", "split", "n", "epochs", "opt", "expected"),
    [
        ("mlp", "real", False, 60000, 5, "rmsprop", 0.975),
        ("cnn", "real", False, 60000, 10, "adam", 0.99),
        ("mlp", "real", False, 60000, 1, "rmsprop", 0.85),
        ("mlp", "real", True, 8000, 1, "rmsprop", 0.85),
        ("mlp", "real", True, 2000, 1, "rmsprop", 0.75),
        ("cnn", "real", True, 8000, 1, "adam", 0.90),
        ("mlp", "real", True, 8000, 1, "sgd", judge.OTHER_OPTIMIZER_FLOOR),
        ("mlp", "real", True, 500, 1, "rmsprop", None),
        ("mlp", "synthetic", False, 60000, 5, "rmsprop", None),
    ],
)
def test_accuracy_thresholds(model, kind, split, n, epochs, opt, expected):
    threshold, why = judge.accuracy_threshold(model, _data(kind, split), n, epochs, opt)
    assert threshold == expected
    assert (why is None) == (kind == "synthetic")


def test_defaults_follow_the_models():
    mlp = runner.resolve_config(BenchConfig())
    assert (mlp.epochs, mlp.batch_size, mlp.optimizer) == (5, 128, "rmsprop")
    cnn = runner.resolve_config(BenchConfig(model="cnn"))
    assert (cnn.epochs, cnn.batch_size, cnn.optimizer) == (10, 128, "adam")
    quick = runner.resolve_config(BenchConfig(model="cnn", quick=True))
    assert (quick.model, quick.epochs) == ("mlp", 1)


@pytest.mark.parametrize(
    "cfg",
    [
        BenchConfig(epochs=0),
        BenchConfig(batch_size=-1),
        BenchConfig(folds=1),
        BenchConfig(model="vgg"),
        BenchConfig(optimizer="lion"),
        BenchConfig(learning_rate=0.0),
        BenchConfig(folds=3, synthetic=True),
        BenchConfig(plot="/tmp/curves.jpg"),
    ],
)
def test_bad_config_is_a_usage_error(cfg):
    with pytest.raises(UsageError):
        runner.resolve_config(cfg)


def test_unknown_backend_is_a_usage_error():
    with pytest.raises(UsageError, match="unknown backend"):
        engine.resolve_backend("theano")


def result_doc() -> dict:
    """A failed run's document, every field of the contract present."""
    return {
        "schema": "dlcheck.bench",
        "schema_version": 1,
        "dlcheck_version": "0",
        "created": "2026-01-01T00:00:00+00:00",
        "hostname": "h",
        "status": "fail",
        "reason": "r",
        "warnings": [],
        "backend": "tensorflow",
        "backend_version": "2",
        "keras_version": "3",
        "model": "mlp",
        "config": {},
        "device": {"requested": "gpu", "used": "none", "name": "", "framework_device": ""},
        "data": {
            "kind": "real",
            "source": "s",
            "note": "n",
            "n_train": 1,
            "n_test": 1,
            "found_by": "argument",
            "split": None,
        },
        "epochs": [],
        "throughput": None,
        "test": None,
        "memory": {"peak_rss_bytes": 1, "peak_device_bytes": None},
        "folds": {"k": 2, "accuracies": [0.5, 0.7], "mean": 0.6, "std": 0.1},
        "compare_cpu": None,
        "saved": [],
        "plot": None,
    }


def test_result_round_trips_through_json_dict():
    doc = result_doc()
    assert BenchResult.from_dict(doc).to_dict() == doc


def test_json_of_a_diverged_run_is_strict_and_reads_as_the_report_reads_it():
    doc = result_doc()
    epoch = {"epoch": 1, "seconds": 1.0, "loss": math.nan, "accuracy": 0.1}
    doc["epochs"] = [{**epoch, "val_loss": math.inf, "val_accuracy": 0.1, "val_seconds": 0.1}]
    text = json_text(BenchResult.from_dict(doc).to_dict())

    def refuse(name):
        raise AssertionError(f"{name} in the bench's JSON")

    strict = json.loads(text, parse_constant=refuse)
    assert strict["epochs"][0]["loss"] is None and strict["epochs"][0]["val_loss"] is None
    assert strict["epochs"][0]["accuracy"] == 0.1
    # The report reader turns NaN into null too: the two agree, with nothing to note.
    assert parse_report(json.dumps(doc))[0] == strict
    assert parse_report(text) == (strict, [])
