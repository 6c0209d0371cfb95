"""`dlcheck bench` end to end: validate, find data, train, measure, judge, save.

run_bench() returns a BenchResult and never prints; it is a list of named steps below.
It trains in this process when Keras is not imported yet (or already is, with the wanted
backend); otherwise, and for the CPU side of --compare-cpu (which must hide the GPU
before the framework starts), it runs the bench in a fresh interpreter
(dlcheck.bench.isolated). Judging is dlcheck.bench.judge.
"""

from __future__ import annotations

import logging
import os
import resource
import socket
import sys
from dataclasses import asdict, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from dlcheck import __version__
from dlcheck.bench import engine
from dlcheck.bench.data import MnistData, load_mnist, synthetic_mnist
from dlcheck.bench.hardware import gpu_peak_gflops
from dlcheck.bench.isolated import run_isolated
from dlcheck.bench.judge import accuracy_threshold, judge, with_warnings
from dlcheck.bench.models import MODELS, OPTIMIZERS, SPECS
from dlcheck.bench.result import (
    BenchConfig,
    BenchResult,
    CompareCpu,
    DataInfo,
    DeviceInfo,
    Folds,
    Memory,
    TestResult,
    Throughput,
)
from dlcheck.errors import DataError, DlcheckError, UsageError
from dlcheck.host import files, nvml
from dlcheck.host.cpu import cpu_name, cpu_peak
from dlcheck.paths import last_model_path

log = logging.getLogger(__name__)

DEVICES = ("auto", "cpu", "gpu")
#: --synthetic sizes (MNIST's), before --limit
SYNTHETIC_TRAIN, SYNTHETIC_TEST = 60000, 10000
#: the environment that hides every GPU from a framework started in it
CPU_ONLY_ENV = {"CUDA_VISIBLE_DEVICES": "", "JAX_PLATFORMS": "cpu"}


# --------------------------------------------------------------------------- config


def resolve_config(cfg: BenchConfig) -> BenchConfig:
    """Check every option and fill the model's defaults. UsageError on bad input."""
    if cfg.quick:
        if cfg.synthetic:
            raise UsageError(
                "--quick checks that training learns: it needs real data, not --synthetic"
            )
        cfg = replace(cfg, model="mlp", epochs=cfg.epochs or 1)
    if cfg.model not in MODELS:
        raise UsageError(f"unknown model {cfg.model!r}; choose {' or '.join(MODELS)}")
    if cfg.device not in DEVICES:
        raise UsageError(f"unknown device {cfg.device!r}; choose {', '.join(DEVICES)}")
    spec = SPECS[cfg.model]
    cfg = replace(
        cfg,
        epochs=spec.epochs if cfg.epochs is None else cfg.epochs,
        batch_size=spec.batch_size if cfg.batch_size is None else cfg.batch_size,
        optimizer=(cfg.optimizer or spec.optimizer).lower(),
    )
    if cfg.epochs < 1:
        raise UsageError(f"--epochs must be at least 1 (got {cfg.epochs})")
    if cfg.batch_size < 1:
        raise UsageError(f"--batch-size must be a positive number (got {cfg.batch_size})")
    if cfg.optimizer not in OPTIMIZERS:
        raise UsageError(f"unknown optimizer {cfg.optimizer!r}; choose {', '.join(OPTIMIZERS)}")
    if cfg.learning_rate is not None and cfg.learning_rate <= 0:
        raise UsageError(f"--learning-rate must be positive (got {cfg.learning_rate})")
    if cfg.limit is not None and cfg.limit < 1:
        raise UsageError(f"--limit must be at least 1 (got {cfg.limit})")
    if cfg.folds is not None:
        if cfg.folds < 2:
            raise UsageError(f"--folds must be at least 2 (got {cfg.folds})")
        if cfg.synthetic:
            raise UsageError("--folds measures accuracy: it needs real data, not --synthetic")
    for opt, value, suffix in (("--plot", cfg.plot, ".png"), ("--save", cfg.save, ".keras")):
        if value is None:
            continue
        p = Path(value).expanduser()
        if p.suffix.lower() != suffix:
            raise UsageError(f"{opt} {value}: the file name must end in {suffix}")
        files.check_target(p, opt)
    return cfg


# --------------------------------------------------------------------------- the run


def run_bench(cfg: BenchConfig, progress: engine.ProgressFn | None = None) -> BenchResult:
    """Run one benchmark as configured; raise DlcheckError for bad input or missing parts."""
    cfg = resolve_config(cfg)
    backend = engine.resolve_backend(cfg.backend)
    loaded = engine.loaded_keras_backend()
    if loaded is not None and loaded != backend:
        return run_isolated(replace(cfg, backend=backend))

    data = _load_data(cfg)
    x_train, y_train = _limit(data, cfg.limit, cfg.seed)
    gpus = _import_framework(backend)
    n_nvidia, nvml_error = nvml.gpu_count()
    base = _identity(cfg, backend)
    data_info = _data_info(data, len(y_train))
    warnings: list[str] = []
    if data.kind == "synthetic":
        warnings.append("synthetic data: throughput only, the accuracy means nothing")

    if cfg.device == "gpu" and not gpus:
        note = f"; {nvml_error.message}" if nvml_error else ""
        why = f"NVML sees {n_nvidia} NVIDIA GPU(s){note}"
        reason = f"--device gpu: {backend} sees no GPU ({why}); training would run on the CPU"
        return _failed_before_training(base, cfg, data_info, warnings, reason)

    job = engine.TrainJob(
        backend=backend,
        model_name=cfg.model,
        x_train=x_train,
        y_train=y_train,
        x_test=data.x_test,
        y_test=data.y_test,
        epochs=int(cfg.epochs or 1),
        batch_size=int(cfg.batch_size or 128),
        optimizer=str(cfg.optimizer),
        learning_rate=cfg.learning_rate,
        seed=cfg.seed,
        device=cfg.device,
    )
    outcome = engine.train(job, progress=progress)
    device, throughput = _measure(cfg, outcome, gpus)
    threshold, why = accuracy_threshold(
        cfg.model, data, len(y_train), job.epochs, job.optimizer, cfg.learning_rate
    )
    test = TestResult(
        accuracy=round(outcome.test_accuracy, 5),
        loss=round(outcome.test_loss, 5),
        threshold=threshold,
        threshold_basis=why,
    )
    folds = _kfold(job, int(cfg.folds)) if cfg.folds else None
    compare = _compare_cpu(cfg, outcome, throughput, warnings) if cfg.compare_cpu else None
    status, reason = judge(
        cfg.device, outcome.device_used, outcome.device_string, test, n_nvidia, backend
    )
    saved = _save_model(cfg, outcome, status, data.kind == "real", warnings) if cfg.save else []
    plot = _plot(cfg, outcome, folds, backend) if cfg.plot else None
    status, reason = with_warnings(status, reason, warnings, data.kind == "real")
    return BenchResult(
        status=status,
        reason=reason,
        warnings=warnings,
        device=device,
        data=data_info,
        epochs=[asdict(e) for e in outcome.epochs],
        throughput=throughput,
        test=test,
        memory=Memory(peak_rss_bytes=_peak_rss(), peak_device_bytes=outcome.peak_device_bytes),
        folds=folds,
        compare_cpu=compare,
        saved=saved,
        plot=plot,
        **base,
    )


def _load_data(cfg: BenchConfig) -> MnistData:
    if cfg.synthetic:
        return synthetic_mnist(cfg.limit or SYNTHETIC_TRAIN, SYNTHETIC_TEST, cfg.seed)
    try:
        return load_mnist(cfg.data, allow_download=cfg.allow_download)
    except DataError as exc:
        if cfg.quick:
            exc.exit_code = 1  # the doctor's check failed: no data to train on
        raise


def _import_framework(backend: str) -> list[str]:
    """Start Keras and the framework (the slow part of start-up); the GPUs it sees."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    engine.import_keras(backend)
    return engine.visible_gpus(backend)


def _identity(cfg: BenchConfig, backend: str) -> dict[str, Any]:
    """What ran, where and when: the result's fields that do not depend on training."""
    return dict(
        backend=backend,
        backend_version=engine.framework_version(backend),
        keras_version=str(sys.modules["keras"].__version__),
        model=cfg.model,
        config={
            "epochs": cfg.epochs,
            "batch_size": cfg.batch_size,
            "optimizer": cfg.optimizer,
            "learning_rate": cfg.learning_rate,
            "seed": cfg.seed,
            "limit": cfg.limit,
        },
        dlcheck_version=__version__,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        hostname=socket.gethostname(),
    )


def _data_info(data: MnistData, n_train: int) -> DataInfo:
    return DataInfo(
        kind=data.kind,
        source=data.source,
        note=data.note,
        n_train=n_train,
        n_test=data.n_test,
        found_by=data.found_by,
        split=data.split,
    )


def _measure(
    cfg: BenchConfig, outcome: engine.TrainOutcome, gpus: list[str]
) -> tuple[DeviceInfo, Throughput]:
    """The device training used, and its speed against that device's peak."""
    from dlcheck.bench.models import training_flops_per_sample

    if outcome.device_used == "gpu":
        name = gpus[0] if gpus else "GPU"
        peak = gpu_peak_gflops(name)
        basis = "fp32 datasheet peak by GPU name" if peak else None
    else:
        cp = cpu_peak()
        name = cpu_name()
        peak = cp.gflops if cp else None
        basis = cp.basis if cp else None
    device = DeviceInfo(
        requested=cfg.device,
        used=outcome.device_used,
        name=name,
        framework_device=outcome.device_string,
    )
    flops = training_flops_per_sample(outcome.model)
    return device, _throughput(outcome, flops, peak, basis)


def _limit(data: MnistData, limit: int | None, seed: int) -> tuple[Any, Any]:
    import numpy as np

    if limit is None or limit >= data.n_train:
        return data.x_train, data.y_train
    idx = np.random.default_rng(seed).permutation(data.n_train)[:limit]
    return data.x_train[idx], data.y_train[idx]


def _peak_rss() -> int:
    # ru_maxrss is in KiB on Linux (bytes on macOS).
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(rss if sys.platform == "darwin" else rss * 1024)


def _throughput(outcome: engine.TrainOutcome, flops: int, peak: float | None, basis: str | None):
    eps = outcome.epochs
    steady = eps[1:] or eps
    seconds = sum(e.seconds for e in steady)
    sps = outcome.n_train * len(steady) / seconds if seconds > 0 else 0.0
    gflops = sps * flops / 1e9
    return Throughput(
        samples_per_s=round(sps, 1),
        first_epoch_s=eps[0].seconds,
        steady_state=len(eps) > 1,
        gflops=round(gflops, 2),
        peak_gflops=peak,
        peak_fraction=round(gflops / peak, 4) if peak else None,
        flops_per_sample=flops,
        peak_basis=basis,
    )


def _kfold(job: engine.TrainJob, k: int) -> Folds:
    """Train k times, each holding out one k-th of the training images."""
    import numpy as np

    x, y = job.x_train, job.y_train
    if len(y) < k:
        raise UsageError(f"--folds {k} needs at least {k} training images (have {len(y)})")
    order = np.random.default_rng(job.seed).permutation(len(y))
    parts = np.array_split(order, k)
    accs = []
    for i in range(k):
        held = parts[i]
        train_idx = np.concatenate([p for j, p in enumerate(parts) if j != i])
        fold = replace(
            job,
            x_train=x[train_idx],
            y_train=y[train_idx],
            x_test=x[held],
            y_test=y[held],
            seed=job.seed + i,
            validate=False,
        )
        accs.append(round(engine.train(fold).test_accuracy, 5))
    arr = np.array(accs)
    return Folds(
        k=k, accuracies=accs, mean=round(float(arr.mean()), 5), std=round(float(arr.std()), 5)
    )


def _compare_cpu(
    cfg: BenchConfig, outcome: engine.TrainOutcome, throughput: Throughput, warnings: list[str]
) -> CompareCpu | None:
    """The same run on the CPU alone, in a fresh interpreter that cannot see the GPU."""
    if outcome.device_used == "cpu":
        warnings.append("--compare-cpu: training already ran on the CPU; nothing to compare")
        return None
    cpu_cfg = replace(
        cfg, device="cpu", compare_cpu=False, folds=None, save=None, plot=None, quick=False
    )
    cpu = run_isolated(cpu_cfg, CPU_ONLY_ENV)
    ratio = throughput.samples_per_s / max(cpu.throughput.samples_per_s, 1e-9)
    if ratio < 1.0:
        warnings.append(
            f"the GPU trained {1 / ratio:.2f}x slower than the CPU on this model "
            "(too small to keep the GPU busy, or a slow GPU path)"
        )
    return CompareCpu(
        cpu_samples_per_s=cpu.throughput.samples_per_s,
        device_samples_per_s=throughput.samples_per_s,
        ratio=round(ratio, 3),
        cpu_test_accuracy=cpu.test.accuracy if cpu.test else None,
    )


def _save_model(
    cfg: BenchConfig,
    outcome: engine.TrainOutcome,
    status: str,
    real_data: bool,
    warnings: list[str],
) -> list[str]:
    """--save; a model that failed (did not learn) must not become dlcheck draw's default."""
    as_default = status != "fail" and real_data
    saved = _save(outcome.model, Path(str(cfg.save)).expanduser(), as_default)
    if not as_default:
        warnings.append(
            f"saved {cfg.save} only; not made the default model of dlcheck draw "
            f"({'the run failed' if status == 'fail' else 'synthetic data'})"
        )
    return saved


def _plot(cfg: BenchConfig, outcome: engine.TrainOutcome, folds: Folds | None, backend: str) -> str:
    from dlcheck.bench.plot import plot_learning_curves

    path = plot_learning_curves(
        Path(str(cfg.plot)).expanduser(), outcome.epochs, folds, title=f"{cfg.model} on {backend}"
    )
    return str(path)


def _failed_before_training(
    base: dict[str, Any], cfg: BenchConfig, data_info: DataInfo, warnings: list[str], reason: str
) -> BenchResult:
    return BenchResult(
        status="fail",
        reason=reason,
        warnings=warnings,
        device=DeviceInfo(requested=cfg.device, used="none", name=""),
        data=data_info,
        epochs=[],
        throughput=None,
        test=None,
        memory=Memory(peak_rss_bytes=_peak_rss(), peak_device_bytes=None),
        **base,
    )


def _save(model: Any, path: Path, as_default: bool) -> list[str]:
    """Save the model; copy it to the default model of `dlcheck draw`/`predict` too.

    Both are replaced whole (dlcheck.host.files): a full disk leaves the previous model.
    """
    with files.replacing(path, what="model") as tmp:
        model.save(tmp)
    if not as_default:
        return [str(path)]
    last = last_model_path()
    try:
        last.parent.mkdir(parents=True, exist_ok=True)
        if last.resolve() != path.resolve():
            files.check_target(last, "the default model")
            files.copy_file(path, last, what="default model")
    except (OSError, DlcheckError) as exc:
        log.warning("saved %s but could not copy it to %s: %s", path, last, exc)
        return [str(path)]
    return [str(path), str(last)]
