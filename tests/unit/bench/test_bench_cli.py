"""`dlcheck bench` through Click: bad input, and real short training runs on real MNIST.

The training runs use TensorFlow on this machine's CPU and the seeded 8000/2000 split of
the real MNIST test set; each is a few seconds (1-2 epochs, or --limit).
"""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest
from bench_helpers import idx_bytes, write_idx, write_idx_pair
from click.testing import CliRunner

from dlcheck.bench import isolated, judge, runner
from dlcheck.cli.bench import bench
from dlcheck.host import nvml

HAS_NVIDIA_GPU = nvml.gpu_count()[0] > 0
# The engine the playbook provisions, and `--backend auto`'s first choice; a host with only
# JAX or PyTorch (the lent GPU machine) skips the tests that name it.
needs_tensorflow = pytest.mark.skipif(
    importlib.util.find_spec("tensorflow") is None, reason="needs TensorFlow"
)

CONTRACT_KEYS = {
    "schema",
    "schema_version",
    "dlcheck_version",
    "created",
    "hostname",
    "status",
    "reason",
    "warnings",
    "backend",
    "backend_version",
    "keras_version",
    "model",
    "config",
    "device",
    "data",
    "epochs",
    "throughput",
    "test",
    "memory",
    "folds",
    "compare_cpu",
}


def invoke(*args: str):
    return CliRunner().invoke(bench, list(args))


def run_json(*args: str) -> dict:
    result = invoke(*args, "--json")
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"no JSON on stdout (exit {result.exit_code}): {result.output[-2000:]}")


def assert_usage_error(result, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.lower().startswith("error")]
    assert len(errors) == 1, result.output
    for needle in needles:
        assert needle in errors[0], result.output


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--epochs", "0"], "--epochs"),
        (["--batch-size", "0"], "--batch-size"),
        (["--batch-size", "-5"], "--batch-size"),
        (["--model", "resnet"], "--model"),
        (["--backend", "mxnet"], "--backend"),
        (["--folds", "1"], "--folds"),
        (["--device", "tpu"], "--device"),
        (["--limit", "0"], "--limit"),
    ],
)
def test_bad_options_exit_2(args, needle):
    assert_usage_error(invoke(*args), needle)


def test_data_path_missing():
    assert_usage_error(invoke("--data", "/nonexistent/mnist.npz"), "does not exist")


def test_corrupt_npz(tmp_path):
    bad = tmp_path / "mnist.npz"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    assert_usage_error(invoke("--data", str(bad)), "mnist.npz: corrupt npz")


def test_idx_wrong_magic(tmp_path, real_split):
    write_idx_pair(tmp_path, real_split.x_test[:20], real_split.y_test[:20])
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", idx_bytes(2049, (20,), bytes(20)))
    assert_usage_error(invoke("--data", str(tmp_path)), "wrong magic number 2049")


def test_idx_short_read(tmp_path, real_split):
    img, _ = write_idx_pair(tmp_path, real_split.x_test[:20], real_split.y_test[:20], gz=False)
    img.write_bytes(img.read_bytes()[:-28])
    assert_usage_error(invoke("--data", str(tmp_path)), "short read")


def test_labels_outside_0_9(tmp_path, real_split):
    y = real_split.y_test[:20].copy()
    y[3] = 200
    write_idx_pair(tmp_path, real_split.x_test[:20], y)
    assert_usage_error(invoke("--data", str(tmp_path)), "outside 0-9")


def test_plot_into_missing_directory(mnist_dir, tmp_path):
    result = invoke("--data", str(mnist_dir), "--plot", str(tmp_path / "nope" / "curves.png"))
    assert_usage_error(result, "does not exist")


def test_save_needs_keras_suffix(mnist_dir, tmp_path):
    assert_usage_error(invoke("--save", str(tmp_path / "model.h5")), ".keras")


def test_quick_with_synthetic_is_refused():
    assert_usage_error(invoke("--quick", "--synthetic"), "real data")


def test_missing_backend_names_the_extra(monkeypatch):
    # The installed-package check is the boundary: pretend jax is not installed.
    real = runner.engine.backend_installed
    monkeypatch.setattr(runner.engine, "backend_installed", lambda b: b != "jax" and real(b))
    result = invoke("--backend", "jax", "--synthetic")
    assert result.exit_code == 2
    assert "backend jax is not installed" in result.output
    assert "pip install 'dlcheck[jax]'" in result.output


def test_no_data_found_offers_synthetic():
    result = invoke("--no-download")
    assert result.exit_code == 2
    assert "no MNIST data found" in result.output and "--synthetic" in result.output
    assert "Traceback" not in result.output


def test_quick_without_data_fails_the_check():
    result = invoke("--quick")  # download goes to a closed local port
    assert result.exit_code == 1
    assert "download from http://127.0.0.1:9/mnist.npz failed" in result.output


# --------------------------------------------------------------------------- real training


@pytest.mark.slow
@needs_tensorflow
def test_real_mlp_run_learns_on_cpu_and_matches_the_contract(mnist_dir, tmp_path):
    doc = run_json("--data", str(mnist_dir), "--epochs", "2", "--device", "cpu")
    assert set(doc) >= CONTRACT_KEYS
    assert (doc["schema"], doc["schema_version"]) == ("dlcheck.bench", 1)
    assert doc["status"] == "ok", doc["reason"]
    assert doc["backend"] == "tensorflow" and doc["model"] == "mlp"
    assert doc["device"]["requested"] == "cpu" and doc["device"]["used"] == "cpu"
    assert "CPU" in doc["device"]["framework_device"]
    assert doc["config"] == {
        "epochs": 2,
        "batch_size": 128,
        "optimizer": "rmsprop",
        "learning_rate": None,
        "seed": 0,
        "limit": None,
    }
    data = doc["data"]
    assert (data["kind"], data["n_train"], data["n_test"]) == ("real", 8000, 2000)
    assert data["split"]["seed"] == 0 and "held-out" in data["note"]
    assert [e["epoch"] for e in doc["epochs"]] == [1, 2]
    assert all(e["seconds"] > 0 and e["val_accuracy"] is not None for e in doc["epochs"])
    test = doc["test"]
    assert test["threshold"] == judge.LEARN_FLOORS["mlp"][0][1]
    assert test["accuracy"] >= test["threshold"]
    assert test["accuracy"] == pytest.approx(doc["epochs"][-1]["val_accuracy"], abs=1e-4)
    tp = doc["throughput"]
    assert tp["steady_state"] is True and tp["samples_per_s"] > 0
    assert tp["first_epoch_s"] == doc["epochs"][0]["seconds"]
    # mlp: (784*512 + 512*10) MACs forward, x2 FLOPs, x3 for training.
    assert tp["flops_per_sample"] == 6 * (784 * 512 + 512 * 10)
    assert tp["gflops"] == pytest.approx(tp["samples_per_s"] * tp["flops_per_sample"] / 1e9, 0.01)
    assert 0 < tp["peak_fraction"] < 1.5
    assert doc["memory"]["peak_rss_bytes"] > 100 * 2**20
    assert doc["memory"]["peak_device_bytes"] is None
    assert doc["folds"] is None and doc["compare_cpu"] is None


@pytest.mark.slow
@needs_tensorflow
def test_quick_check_passes_on_real_data(mnist_dir):
    result = invoke("--quick", "--data", str(mnist_dir))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK: mlp on tensorflow")
    # auto trains on the GPU where there is one (and fails when it cannot).
    used = "used gpu" if HAS_NVIDIA_GPU else "used cpu"
    assert "threshold 0.85" in result.output and used in result.output


@pytest.mark.slow
def test_a_model_that_does_not_learn_fails(mnist_dir):
    # A learning rate so small that one epoch leaves the weights near their start.
    doc = run_json("--quick", "--data", str(mnist_dir), "--learning-rate", "1e-7")
    assert doc["status"] == "fail"
    assert "did not learn" in doc["reason"]
    assert doc["test"]["accuracy"] < doc["test"]["threshold"]


@pytest.mark.skipif(HAS_NVIDIA_GPU, reason="this host has an NVIDIA GPU")
def test_device_gpu_without_a_gpu_fails(mnist_dir):
    result = invoke("--data", str(mnist_dir), "--device", "gpu", "--json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["status"] == "fail"
    assert "sees no GPU" in doc["reason"] and "CPU" in doc["reason"]
    assert doc["throughput"] is None and doc["epochs"] == []


@pytest.mark.gpu
@pytest.mark.skipif(not HAS_NVIDIA_GPU, reason="no NVIDIA GPU here")
def test_device_gpu_trains_on_the_gpu(mnist_dir):
    doc = run_json("--quick", "--data", str(mnist_dir), "--device", "gpu")
    assert doc["status"] == "ok", doc["reason"]
    assert doc["device"]["used"] == "gpu"


@pytest.mark.slow
@pytest.mark.skipif(HAS_NVIDIA_GPU, reason="this host has an NVIDIA GPU")
def test_auto_with_a_gpu_present_that_trains_on_cpu_fails(mnist_dir, monkeypatch):
    # NVML cannot exist here: the fake says one NVIDIA GPU is present, as on a host
    # whose framework build has no GPU support (tensorflow-cpu).
    monkeypatch.setattr(nvml, "gpu_count", lambda: (1, None))
    doc = run_json("--quick", "--data", str(mnist_dir), "--limit", "2000")
    assert doc["status"] == "fail"
    assert "an NVIDIA GPU is present" in doc["reason"]
    assert doc["device"]["used"] == "cpu"


@pytest.mark.slow
def test_synthetic_is_throughput_only(tmp_path):
    doc = run_json("--synthetic", "--limit", "2000", "--epochs", "2", "--compare-cpu")
    assert doc["data"]["kind"] == "synthetic"
    assert "throughput only" in doc["data"]["note"]
    assert doc["test"]["threshold"] is None
    assert any("synthetic" in w for w in doc["warnings"])
    if HAS_NVIDIA_GPU:  # auto trained on the GPU: the CPU run is its comparison
        assert doc["compare_cpu"]["cpu_samples_per_s"] > 0
    else:  # it trained on the CPU already
        assert any("nothing to compare" in w for w in doc["warnings"])
    assert doc["throughput"]["samples_per_s"] > 0


@pytest.mark.slow
def test_save_plot_and_folds(mnist_dir, tmp_path, isolated_home):
    model_file = tmp_path / "mlp.keras"
    png = tmp_path / "curves.png"
    doc = run_json(
        "--data",
        str(mnist_dir),
        "--limit",
        "1000",
        "--epochs",
        "2",
        "--folds",
        "2",
        "--save",
        str(model_file),
        "--plot",
        str(png),
    )
    assert doc["status"] == "ok", doc["reason"]
    folds = doc["folds"]
    assert folds["k"] == 2 and len(folds["accuracies"]) == 2
    assert folds["mean"] == pytest.approx(np.mean(folds["accuracies"]), abs=1e-4)
    assert all(0.5 < a <= 1 for a in folds["accuracies"])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and doc["plot"] == str(png)
    last = isolated_home / ".local" / "share" / "dlcheck" / "models" / "last.keras"
    assert doc["saved"] == [str(model_file), str(last)]
    assert last.read_bytes() == model_file.read_bytes()

    import keras

    model = keras.saving.load_model(model_file)
    probs = model.predict(np.zeros((3, 784), np.float32), verbose=0)
    assert probs.shape == (3, 10)
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-4)


@pytest.mark.slow
@needs_tensorflow
def test_child_process_run_gives_the_same_contract(mnist_dir):
    """The path used for another backend and for --compare-cpu: a fresh interpreter."""
    from dlcheck.bench.result import BenchConfig

    res = isolated.run_isolated(
        BenchConfig(backend="tensorflow", quick=True, data=str(mnist_dir), limit=2000),
        {"CUDA_VISIBLE_DEVICES": ""},
    )
    assert res.status == "ok" and res.device.used == "cpu"
    assert res.data.n_train == 2000 and res.test.threshold == 0.75
    assert set(res.to_dict()) >= CONTRACT_KEYS


@pytest.mark.slow
def test_progress_reports_every_epoch_and_batch(mnist_dir):
    from dlcheck.bench.engine import loaded_keras_backend
    from dlcheck.bench.result import BenchConfig

    calls: list[tuple[int, int, int, int]] = []
    # The backend an earlier test left loaded in this process, if any: another one would
    # send the run to a child process, whose progress does not come back here.
    backend = loaded_keras_backend() or "auto"
    cfg = BenchConfig(data=str(mnist_dir), limit=1000, epochs=2, batch_size=250, backend=backend)
    result = runner.run_bench(cfg, progress=lambda *a: calls.append(a))
    assert result.data.n_train == 1000
    # Per epoch: a 0/4 start, then batches of 4 (1000 images / 250), never backwards, ending
    # at 4/4. Keras may call the batch hooks out of order from its threads (a JAX run on a
    # GPU did), so a batch can be passed over, never shown after a later one.
    for epoch in (1, 2):
        seen = [c for c in calls if c[0] == epoch]
        assert seen[0] == (epoch, 2, 0, 4) and seen[-1] == (epoch, 2, 4, 4), calls
        batches = [c[2] for c in seen]
        assert batches == sorted(set(batches)), calls
    assert [c[0] for c in calls] == sorted(c[0] for c in calls)


@pytest.mark.slow
def test_a_failed_model_is_not_made_the_default(mnist_dir, tmp_path, isolated_home):
    model_file = tmp_path / "bad.keras"
    doc = run_json(
        "--quick", "--data", str(mnist_dir), "--learning-rate", "1e-7", "--save", str(model_file)
    )
    assert doc["status"] == "fail"
    assert doc["saved"] == [str(model_file)] and model_file.is_file()
    assert not (isolated_home / ".local" / "share" / "dlcheck" / "models" / "last.keras").exists()
    assert any("not made the default" in w for w in doc["warnings"])
