"""Judging a bench run: the accuracy it had to reach, and whether it passed.

Pure functions of what the run measured; they read nothing and print nothing.
"""

from __future__ import annotations

from dlcheck.bench.data import MnistData
from dlcheck.bench.models import SPECS
from dlcheck.bench.result import TestResult

#: Full MNIST targets at the models' own settings (the issue's acceptance figures).
FULL_TARGETS = {"mlp": 0.975, "cnn": 0.99}
#: "It learned" floors for the default optimizers, from measured 1-epoch runs on the
#: seeded 8000/2000 split of the real test set, TensorFlow on CPU, seeds 0-2 (docs/bench.md):
#: mlp 8000: 0.893-0.906, 2000: 0.830-0.863, 1000: 0.737-0.795; cnn 8000: 0.940,
#: 2000: 0.852-0.861. Each floor sits well below the worst seed. (min n_train, floor):
LEARN_FLOORS: dict[str, list[tuple[int, float]]] = {
    "mlp": [(8000, 0.85), (2000, 0.75), (1000, 0.60)],
    "cnn": [(8000, 0.90), (2000, 0.75), (1000, 0.60)],
}
#: Any other optimizer (or learning rate) only has to beat 3x chance: it learned something.
#: Keras 3's Adadelta at its default rate does not (cnn, 1 epoch, 8000 images: 0.153).
OTHER_OPTIMIZER_FLOOR = 0.30


def accuracy_threshold(
    model: str,
    data: MnistData,
    n_train: int,
    epochs: int,
    optimizer: str,
    learning_rate: float | None = None,
) -> tuple[float | None, str | None]:
    """The test accuracy a run must reach, and why; (None, None) for synthetic data."""
    if data.kind != "real":
        return None, None
    spec = SPECS[model]
    full = data.split is None and n_train >= 60000
    default_opt = optimizer == spec.optimizer and learning_rate is None
    if full and epochs >= spec.epochs and default_opt:
        return FULL_TARGETS[model], f"full-MNIST target for {model} at {spec.epochs} epochs"
    if n_train < LEARN_FLOORS[model][-1][0]:
        return None, f"not judged: fewer than {LEARN_FLOORS[model][-1][0]} training images"
    if not default_opt:
        return OTHER_OPTIMIZER_FLOOR, "3x chance: non-default optimizer or learning rate"
    for min_n, floor in LEARN_FLOORS[model]:
        if n_train >= min_n:
            return floor, f"learning floor for {model} with >= {min_n} training images"
    return None, None


def judge(
    requested: str,
    used: str,
    device_string: str,
    test: TestResult,
    n_nvidia: int,
    backend: str,
) -> tuple[str, str | None]:
    """('ok' | 'fail', why): the device the run used against the one asked for, and
    whether the test accuracy reached its threshold."""
    if requested == "gpu" and used != "gpu":
        return "fail", f"--device gpu, but {backend} trained on the CPU ({device_string})"
    if requested == "auto" and n_nvidia > 0 and used != "gpu":
        return "fail", (
            f"an NVIDIA GPU is present, but {backend} trained on the CPU "
            f"({device_string}); use --device cpu if that is intended"
        )
    if test.threshold is not None and test.accuracy < test.threshold:
        return "fail", (
            f"test accuracy {test.accuracy:.4f} is below the threshold {test.threshold} "
            "(the model did not learn)"
        )
    return "ok", None


def with_warnings(
    status: str, reason: str | None, warnings: list[str], real_data: bool
) -> tuple[str, str | None]:
    """A passing run on real data that warned is 'warn', its warnings the reason."""
    if status == "ok" and warnings and real_data:
        return "warn", "; ".join(warnings)
    return status, reason
