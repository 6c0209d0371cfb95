"""The bench result: typed dataclasses whose to_dict() is the JSON contract.

docs/bench-schema.md documents every field; the doctor and the fleet report read it.
Bump SCHEMA_VERSION when a field changes meaning or goes away (adding one does not).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

from dlcheck.shared import BENCH_SCHEMA as SCHEMA

SCHEMA_VERSION = 1


@dataclass
class BenchConfig:
    """What to run; None means the model's default (see dlcheck.bench.models.SPECS)."""

    model: str = "mlp"
    backend: str = "auto"
    device: str = "auto"
    epochs: int | None = None
    batch_size: int | None = None
    optimizer: str | None = None
    learning_rate: float | None = None
    seed: int = 0
    data: str | None = None
    synthetic: bool = False
    limit: int | None = None
    folds: int | None = None
    compare_cpu: bool = False
    quick: bool = False
    save: str | None = None
    plot: str | None = None
    allow_download: bool = True


@dataclass
class DeviceInfo:
    requested: str
    used: str
    name: str
    #: the framework's own device string of the trained weights
    framework_device: str = ""


@dataclass
class DataInfo:
    kind: str
    source: str
    note: str
    n_train: int
    n_test: int
    found_by: str = ""
    split: dict[str, Any] | None = None


@dataclass
class Throughput:
    #: steady state: epochs 2.. (epoch 1 when there is only one; then steady_state false)
    samples_per_s: float
    first_epoch_s: float
    steady_state: bool
    gflops: float | None
    peak_gflops: float | None
    peak_fraction: float | None
    flops_per_sample: int
    peak_basis: str | None = None


@dataclass
class TestResult:
    accuracy: float
    loss: float
    #: the accuracy this run had to reach; None when not judged (synthetic data)
    threshold: float | None
    threshold_basis: str | None = None


@dataclass
class Memory:
    peak_rss_bytes: int
    peak_device_bytes: int | None


@dataclass
class Folds:
    k: int
    accuracies: list[float]
    mean: float
    std: float


@dataclass
class CompareCpu:
    cpu_samples_per_s: float
    device_samples_per_s: float
    #: device samples/s divided by CPU samples/s (> 1: the GPU is faster)
    ratio: float
    cpu_test_accuracy: float | None = None


@dataclass
class BenchResult:
    status: str
    reason: str | None
    warnings: list[str]
    backend: str
    backend_version: str
    keras_version: str
    model: str
    config: dict[str, Any]
    device: DeviceInfo
    data: DataInfo
    epochs: list[dict[str, Any]]
    #: None when the run failed before training (e.g. --device gpu without a GPU)
    throughput: Throughput | None
    test: TestResult | None
    memory: Memory
    folds: Folds | None = None
    compare_cpu: CompareCpu | None = None
    saved: list[str] = field(default_factory=list)
    plot: str | None = None
    dlcheck_version: str = ""
    created: str = ""
    hostname: str = ""

    def to_dict(self) -> dict[str, Any]:
        body = asdict(self)
        head = {
            "schema": SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "dlcheck_version": body.pop("dlcheck_version"),
            "created": body.pop("created"),
            "hostname": body.pop("hostname"),
        }
        return {**head, **body}

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> BenchResult:
        """Rebuild a result (e.g. one a child process printed)."""
        d = {k: v for k, v in doc.items() if k not in ("schema", "schema_version")}
        d["device"] = DeviceInfo(**d["device"])
        d["data"] = DataInfo(**d["data"])
        d["throughput"] = Throughput(**d["throughput"]) if d.get("throughput") else None
        d["test"] = TestResult(**d["test"]) if d.get("test") else None
        d["memory"] = Memory(**d["memory"])
        d["folds"] = Folds(**d["folds"]) if d.get("folds") else None
        d["compare_cpu"] = CompareCpu(**d["compare_cpu"]) if d.get("compare_cpu") else None
        return cls(**d)


def json_text(doc: dict[str, Any]) -> str:
    """The document as strict JSON. A diverged run's loss is NaN or infinite, which Python's
    json writes as bare NaN/Infinity that strict parsers reject: those become null, as the
    fleet report's reader (dlcheck.report.load) reads them."""
    return json.dumps(_finite(doc), indent=2, allow_nan=False)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
