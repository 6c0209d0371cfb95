"""One Keras training run, measured: the only module that touches Keras and a framework.

The backend must be chosen before Keras is imported (Keras reads KERAS_BACKEND once,
at import). `dlcheck bench` runs in-process when Keras is not loaded yet or is loaded
with the wanted backend; otherwise dlcheck.bench.runner starts a child process.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from dlcheck.errors import MissingDependency, UsageError
from dlcheck.shared import BACKENDS, EXTRAS

log = logging.getLogger(__name__)


#: progress(epoch 1-based, epochs, batch 1-based, batches)
ProgressFn = Callable[[int, int, int, int], None]


def backend_installed(backend: str) -> bool:
    module = "tensorflow" if backend == "tensorflow" else backend
    return (
        importlib.util.find_spec(module) is not None
        and importlib.util.find_spec("keras") is not None
    )


def resolve_backend(requested: str) -> str:
    """The backend to use: 'auto' -> first installed; a missing one -> MissingDependency."""
    if requested == "auto":
        for candidate in BACKENDS:
            if backend_installed(candidate):
                return candidate
        raise MissingDependency(
            "no training backend is installed (need keras with tensorflow, jax or torch)",
            hint="pip install 'dlcheck[tf]' (or 'dlcheck[jax]', 'dlcheck[torch]')",
        )
    if requested not in BACKENDS:
        raise UsageError(f"unknown backend {requested!r}; choose auto, {', '.join(BACKENDS)}")
    if not backend_installed(requested):
        raise MissingDependency(
            f"backend {requested} is not installed",
            hint=f"pip install 'dlcheck[{EXTRAS[requested]}]'",
        )
    return requested


def loaded_keras_backend() -> str | None:
    """The backend of the Keras already imported in this process, or None."""
    if "keras" not in sys.modules:
        return None
    return sys.modules["keras"].backend.backend()


def import_keras(backend: str) -> Any:
    """Import Keras with `backend`; the caller checked no other backend is loaded."""
    loaded = loaded_keras_backend()
    if loaded is None:
        os.environ["KERAS_BACKEND"] = backend
    elif loaded != backend:
        raise RuntimeError(f"keras already loaded with {loaded}, cannot switch to {backend}")
    import keras

    return keras


# --------------------------------------------------------------------------- devices


def visible_gpus(backend: str) -> list[str]:
    """Names of the GPUs the framework itself can use (empty when none)."""
    if backend == "tensorflow":
        import tensorflow as tf

        names = []
        for dev in tf.config.list_physical_devices("GPU"):
            try:
                details = tf.config.experimental.get_device_details(dev)
                names.append(str(details.get("device_name", dev.name)))
            except (ValueError, RuntimeError):
                names.append(dev.name)
        return names
    if backend == "torch":
        import torch

        if not torch.cuda.is_available():
            return []
        return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    if backend == "jax":
        import jax

        try:
            return [d.device_kind for d in jax.devices("gpu")]
        except RuntimeError:
            return []
    return []


def device_of(backend: str, variable: Any) -> tuple[str, str]:
    """('cpu'|'gpu', framework's device string) of a Keras variable, read from the framework."""
    value = variable.value
    if backend == "tensorflow":
        where = str(value.device)
        kind = "gpu" if ":GPU:" in where.upper() else "cpu"
        return kind, where
    if backend == "torch":
        where = str(value.device)
        return ("gpu" if value.device.type == "cuda" else "cpu"), where
    if backend == "jax":
        dev = next(iter(value.devices()))
        return ("gpu" if dev.platform in ("gpu", "cuda", "rocm") else "cpu"), str(dev)
    return "cpu", "unknown"


def _device_name(backend: str, device: str) -> str:
    """The name keras.device() wants. Torch: no index, so that it equals Keras's default
    ("cpu"/"cuda"); "cpu:0" makes Keras copy every weight per step and lose the grads."""
    if backend == "torch":
        return "cuda" if device == "gpu" else "cpu"
    return f"{device}:0"


def peak_device_bytes(backend: str, used: str) -> int | None:
    """The framework's GPU memory high-water mark; None on the CPU or when unknown."""
    if used != "gpu":
        return None
    try:
        if backend == "tensorflow":
            import tensorflow as tf

            return int(tf.config.experimental.get_memory_info("GPU:0")["peak"])
        if backend == "torch":
            import torch

            return int(torch.cuda.max_memory_allocated())
        if backend == "jax":
            import jax

            stats = jax.devices("gpu")[0].memory_stats() or {}
            peak = stats.get("peak_bytes_in_use")
            return int(peak) if peak is not None else None
    except (ValueError, RuntimeError, KeyError, AttributeError) as exc:
        log.info("could not read GPU peak memory: %s", exc)
    return None


def framework_version(backend: str) -> str:
    module = sys.modules.get(backend)
    if module is None:
        module = __import__(backend)
    return str(getattr(module, "__version__", "unknown"))


# --------------------------------------------------------------------------- training


@dataclass
class EpochStat:
    epoch: int
    #: training time of the epoch (validation excluded)
    seconds: float
    loss: float
    accuracy: float
    val_loss: float | None
    val_accuracy: float | None
    #: time the per-epoch validation pass took
    val_seconds: float | None = None


@dataclass
class TrainJob:
    """One training run to do: the model, its data, and how to fit it."""

    backend: str
    model_name: str
    x_train: Any
    y_train: Any
    x_test: Any
    y_test: Any
    epochs: int
    batch_size: int
    optimizer: str
    learning_rate: float | None
    seed: int
    #: 'cpu', 'gpu' or 'auto' (the framework's default placement)
    device: str
    #: evaluate on the test data after every epoch too (val_loss, val_accuracy)
    validate: bool = True


@dataclass
class TrainOutcome:
    """What one training run measured."""

    model: Any
    epochs: list[EpochStat]
    test_loss: float
    test_accuracy: float
    device_used: str
    device_string: str
    n_train: int
    peak_device_bytes: int | None


def _callbacks(keras: Any, epochs: int, steps: int, progress: ProgressFn | None) -> tuple:
    class EpochTimer(keras.callbacks.Callback):
        """Training seconds per epoch: begin -> start of validation (or epoch end)."""

        def __init__(self) -> None:
            super().__init__()
            self.train_s: list[float] = []
            self.val_s: list[float | None] = []
            self._t0 = 0.0
            self._train_end: float | None = None

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self._train_end = None
            self._t0 = time.perf_counter()

        def on_test_begin(self, logs: Any = None) -> None:
            if self._train_end is None:
                self._train_end = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            now = time.perf_counter()
            end = self._train_end if self._train_end is not None else now
            self.train_s.append(end - self._t0)
            self.val_s.append(now - self._train_end if self._train_end is not None else None)

    timer = EpochTimer()
    cbs: list[Any] = [timer]
    if progress is not None:

        class Progress(keras.callbacks.Callback):
            # Reads no logs, so Keras may keep dispatching batches asynchronously. Keras
            # then calls the batch hooks from a thread pool, out of order at times (seen
            # with JAX on a GPU: batch 4 before batch 3): report a batch only when it is
            # further than the last one reported. Keras waits for them at epoch end, so
            # each epoch's last report is its last batch.
            async_safe = True

            def __init__(self) -> None:
                super().__init__()
                self.epoch = 0
                self.done = 0
                self.lock = threading.Lock()

            def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
                with self.lock:
                    self.epoch, self.done = epoch + 1, 0
                    progress(self.epoch, epochs, 0, steps)

            def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
                with self.lock:
                    if batch + 1 > self.done:
                        self.done = batch + 1
                        progress(self.epoch, epochs, self.done, steps)

        cbs.append(Progress())
    return timer, cbs


def train(job: TrainJob, progress: ProgressFn | None = None) -> TrainOutcome:
    """Build, compile and fit one model; evaluate it on (x_test, y_test).

    The device reported is read back from the trained model's weights, never assumed.
    """
    backend, model_name, epochs, batch_size = (
        job.backend,
        job.model_name,
        job.epochs,
        job.batch_size,
    )
    keras = import_keras(backend)
    from dlcheck.bench.models import build_model, make_optimizer, prepare_inputs

    keras.utils.set_random_seed(job.seed)
    xtr = prepare_inputs(model_name, job.x_train)
    xte = prepare_inputs(model_name, job.x_test)
    ytr = keras.utils.to_categorical(job.y_train, 10)
    yte = keras.utils.to_categorical(job.y_test, 10)
    steps = -(-len(xtr) // batch_size)

    # An explicit device is a scope around building and training; 'auto' leaves the
    # framework's own choice, which is exactly what a user's plain script would get.
    device = job.device
    scope = keras.device(_device_name(backend, device)) if device != "auto" else nullcontext()
    timer, cbs = _callbacks(keras, epochs, steps, progress)
    with scope:
        model = build_model(model_name)
        model.compile(
            optimizer=make_optimizer(job.optimizer, job.learning_rate),
            loss="categorical_crossentropy",
            metrics=["accuracy"],
        )
        hist = model.fit(
            xtr,
            ytr,
            batch_size=batch_size,
            epochs=epochs,
            verbose=0,
            callbacks=cbs,
            validation_data=(xte, yte) if job.validate else None,
        )
        test_loss, test_acc = model.evaluate(xte, yte, batch_size=batch_size, verbose=0)
    used, where = device_of(backend, model.trainable_variables[0])
    h = {k: [float(v) for v in vals] for k, vals in hist.history.items()}
    stats = []
    for i in range(len(timer.train_s)):
        stats.append(
            EpochStat(
                epoch=i + 1,
                seconds=round(timer.train_s[i], 4),
                loss=h["loss"][i],
                accuracy=h["accuracy"][i],
                val_loss=h["val_loss"][i] if "val_loss" in h else None,
                val_accuracy=h["val_accuracy"][i] if "val_accuracy" in h else None,
                val_seconds=(round(timer.val_s[i], 4) if timer.val_s[i] is not None else None),
            )
        )
    return TrainOutcome(
        model=model,
        epochs=stats,
        test_loss=float(test_loss),
        test_accuracy=float(test_acc),
        device_used=used,
        device_string=where,
        n_train=len(xtr),
        peak_device_bytes=peak_device_bytes(backend, used),
    )
