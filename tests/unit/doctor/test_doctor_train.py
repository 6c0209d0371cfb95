"""The opt-in train check: judging bench documents; a bench that is missing, crashes, hangs."""

from __future__ import annotations

import copy
import json
import os
import sys

import pynvml
import pytest
from doctor_fakes import FakeNvml, fake_root, make_pci

from dlcheck.doctor.checks import registry
from dlcheck.doctor.checks.train import judge
from dlcheck.doctor.context import Context, Options
from dlcheck.doctor.model import Status
from dlcheck.host.nvml import gpu_count

BENCH_OK = {
    "schema": "dlcheck.bench",
    "schema_version": 1,
    "status": "ok",
    "reason": None,
    "backend": "tensorflow",
    "model": "mlp",
    "device": {"requested": "auto", "used": "cpu", "name": "CPU"},
    "data": {"kind": "real", "source": "/data/mnist", "note": ""},
    "throughput": {"samples_per_s": 41234.5, "first_epoch_s": 2.1},
    "test": {"accuracy": 0.9712, "loss": 0.09, "threshold": 0.9},
}


def doc(**changes):
    d = copy.deepcopy(BENCH_OK)
    for key, value in changes.items():
        d[key] = {**d[key], **value} if isinstance(value, dict) else value
    return d


def test_good_run_on_cpu_without_gpu():
    result = judge(doc(), gpu_usable=False)
    assert result.status == Status.OK
    assert result.facts["samples_per_s"] == 41234.5
    assert result.facts["accuracy"] == 0.9712
    assert result.facts["device_used"] == "cpu"


def test_bench_status_fail():
    result = judge(doc(status="fail", reason="loss is NaN"), gpu_usable=False)
    assert result.status == Status.FAIL
    assert "loss is NaN" in result.findings[0].message


def test_accuracy_below_threshold_did_not_learn():
    result = judge(doc(test={"accuracy": 0.11}), gpu_usable=False)
    assert [f.code for f in result.findings] == ["train.did_not_learn"]
    assert result.status == Status.FAIL


def test_cpu_training_with_usable_gpu_fails():
    result = judge(doc(), gpu_usable=True)
    assert [f.code for f in result.findings] == ["train.ran_on_cpu"]
    gpu = judge(doc(device={"used": "gpu", "name": "NVIDIA H100"}), gpu_usable=True)
    assert gpu.status == Status.OK


def train_check(tmp_path, script: str, timeout: float = 30, gpu: bool = False):
    root = fake_root(tmp_path / ("gpu" if gpu else "cpu"))
    lib = FakeNvml(init_error=None if gpu else pynvml.NVML_ERROR_LIBRARY_NOT_FOUND)
    if gpu:
        make_pci(root, "0000:01:00.0", "0x10de", "0x030200", driver="nvidia")
    ctx = Context(
        Options(
            root=root, nvml_lib=lib, timeout=timeout, train_command=[sys.executable, "-c", script]
        )
    )
    return registry()["train"].run(ctx)


def test_bench_document_through_a_child(tmp_path):
    script = f"print({json.dumps(json.dumps(BENCH_OK))})"
    assert train_check(tmp_path, script).status == Status.OK
    assert train_check(tmp_path, script, gpu=True).status == Status.FAIL  # trained on CPU


def test_bench_hangs(tmp_path):
    result = train_check(tmp_path, "import time; time.sleep(600)", timeout=2)
    assert result.findings[0].code == "train.timeout"
    assert result.status == Status.FAIL


def test_bench_crashes(tmp_path):
    result = train_check(tmp_path, "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)")
    assert result.findings[0].code == "train.crashed"
    assert "SIGSEGV" in result.findings[0].message


def test_bench_missing_or_broken(tmp_path):
    script = "import sys; sys.stderr.write('Error: no such command bench\\n'); sys.exit(2)"
    result = train_check(tmp_path, script)
    assert result.findings[0].code == "train.no_result"
    assert "no such command bench" in result.findings[0].message


@pytest.mark.slow
def test_real_bench_quick(tmp_path, mnist_dir):
    env = dict(os.environ, DLCHECK_DATA=str(mnist_dir))
    ctx = Context(Options(env=env))
    result = registry()["train"].run(ctx)
    assert result.status == Status.OK, result.findings
    # The bench's auto device trains on the GPU where NVML sees one (or fails the run).
    assert result.facts["device_used"] == ("gpu" if gpu_count()[0] else "cpu")
    assert result.facts["accuracy"] > 0.8
    assert result.facts["samples_per_s"] > 0
