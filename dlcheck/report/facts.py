"""Facts compared across hosts, and the "differences" they make.

Each fact is read from a doctor or bench report with a tolerant extractor: any
part of the document may be missing or null, and that reads as None ("not
reported"), never as an error. Exact facts (versions, models, links) list every
distinct value; numeric facts (throughput, accuracy) would differ on every
host, so they list only the hosts that stray from the group's median.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dlcheck.report.model import Difference, DiffValue, HostEntry

NOT_REPORTED = "(not reported)"


@dataclass(frozen=True)
class Fact:
    key: str
    label: str
    read: Callable[[HostEntry], Any]
    numeric: bool = False
    #: numeric facts: how far from the median counts as different
    tolerance: float = 0.2
    relative: bool = True
    unit: str = ""


def check_facts(doc: dict[str, Any] | None, name: str) -> dict[str, Any]:
    """The facts dict of the check called `name`, or {} when absent."""
    for check in (doc or {}).get("checks") or []:
        if isinstance(check, dict) and check.get("name") == name:
            facts = check.get("facts")
            return facts if isinstance(facts, dict) else {}
    return {}


def dig(value: Any, *keys: str | int) -> Any:
    """value[k1][k2]... or None as soon as a step is missing or of the wrong type."""
    for key in keys:
        if isinstance(key, int):
            if not isinstance(value, list) or not -len(value) <= key < len(value):
                return None
            value = value[key]
        else:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
    return value


def show(value: Any) -> str | None:
    """A fact value as one short, stable string (None stays None)."""
    if value is None or value == "" or value == [] or value == {}:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict):
        # Library facts are often {"name": ..., "version": ...} or {"version": ...}.
        name, version = value.get("name") or value.get("vendor"), value.get("version")
        if name or version:
            return " ".join(str(p) for p in (name, version) if p)
        return ", ".join(f"{k}={show(v)}" for k, v in sorted(value.items()) if show(v))
    if isinstance(value, list):
        return ", ".join(s for s in (show(v) for v in value) if s)
    return str(value)


def _doctor(check: str, *keys: str) -> Callable[[HostEntry], Any]:
    return lambda host: dig(check_facts(host.doctor, check), *keys)


def _bench(*keys: str) -> Callable[[HostEntry], Any]:
    return lambda host: dig(host.bench, *keys)


def _gpus(host: HostEntry) -> list[dict[str, Any]]:
    gpus = check_facts(host.doctor, "gpu").get("gpus")
    return [g for g in gpus if isinstance(g, dict)] if isinstance(gpus, list) else []


def _gpu_models(host: HostEntry) -> str | None:
    names = [str(g.get("name") or "?") for g in _gpus(host)]
    if not names:
        # An empty list from a gpu check that ran is an answer: this host has no GPU.
        return "no GPU" if check_facts(host.doctor, "gpu").get("gpus") == [] else None
    counted = {n: names.count(n) for n in dict.fromkeys(names)}
    return ", ".join(f"{c}x {n}" if c > 1 else n for n, c in counted.items())


def _pcie_links(host: HostEntry) -> str | None:
    links = []
    for gpu in _gpus(host):
        gen, width = gpu.get("pcie_gen"), gpu.get("pcie_width")
        if gen is None and width is None:
            continue
        link = f"Gen{gen if gen is not None else '?'} x{width if width is not None else '?'}"
        gen_max, width_max = gpu.get("pcie_gen_max"), gpu.get("pcie_width_max")
        if (gen_max is not None and gen_max != gen) or (
            width_max is not None and width_max != width
        ):
            link += f" (max Gen{gen_max if gen_max is not None else '?'} x{width_max or '?'})"
        links.append(f"GPU{gpu.get('index', '?')} {link}" if len(_gpus(host)) > 1 else link)
    return "; ".join(links) or None


def _gib(host: HostEntry) -> str | None:
    ram = check_facts(host.doctor, "host").get("ram_bytes")
    return f"{ram / 2**30:.0f} GiB" if isinstance(ram, (int, float)) else None


FACTS: tuple[Fact, ...] = (
    Fact("os", "OS", _doctor("host", "os")),
    Fact("kernel", "Kernel", _doctor("host", "kernel")),
    Fact("cpu_model", "CPU", _doctor("host", "cpu_model")),
    Fact("ram", "RAM", _gib),
    Fact("python", "Python", _doctor("host", "python")),
    Fact("driver", "NVIDIA driver", _doctor("gpu", "driver_version")),
    Fact("cuda_driver", "CUDA (driver API)", _doctor("gpu", "cuda_driver_version")),
    Fact("gpu_model", "GPU model", _gpu_models),
    Fact("pcie_link", "PCIe link", _pcie_links),
    Fact("nvcc", "CUDA toolkit (nvcc)", _doctor("cuda", "nvcc_version")),
    Fact("cudart", "CUDA runtime", _doctor("cuda", "cudart_version")),
    Fact("cudnn", "cuDNN", _doctor("cuda", "cudnn_version")),
    Fact("blas", "BLAS", _doctor("libraries", "blas")),
    Fact("numpy", "NumPy", _doctor("libraries", "numpy")),
    Fact("h5py", "h5py", _doctor("libraries", "h5py")),
    Fact("hdf5", "HDF5", _doctor("libraries", "hdf5")),
    Fact("opencv", "OpenCV", _doctor("libraries", "opencv")),
    Fact("tensorflow", "TensorFlow", _doctor("frameworks", "tensorflow", "version")),
    Fact("tf_cuda", "TensorFlow built for CUDA", _doctor("frameworks", "tensorflow", "cuda")),
    Fact("tf_cudnn", "TensorFlow built for cuDNN", _doctor("frameworks", "tensorflow", "cudnn")),
    Fact("keras", "Keras", _doctor("frameworks", "keras", "version")),
    Fact("keras_backend", "Keras backend", _doctor("frameworks", "keras", "backend")),
    Fact("torch", "PyTorch", _doctor("frameworks", "torch", "version")),
    Fact("torch_cuda", "PyTorch built for CUDA", _doctor("frameworks", "torch", "cuda")),
    Fact("jax", "JAX", _doctor("frameworks", "jax", "version")),
    Fact("dlcheck", "dlcheck", lambda h: dig(h.doctor, "dlcheck_version")),
    Fact("train_device", "Training check device", _doctor("train", "device")),
    Fact("train_samples_per_s", "Training check samples/s", _doctor("train", "samples_per_s"),
         numeric=True, unit="/s"),
    Fact("bench_backend", "Bench backend", _bench("backend")),
    Fact("bench_device", "Bench device", _bench("device", "name")),
    Fact("bench_samples_per_s", "Bench samples/s", _bench("throughput", "samples_per_s"),
         numeric=True, unit="/s"),
    Fact("bench_accuracy", "Bench test accuracy", _bench("test", "accuracy"),
         numeric=True, tolerance=0.02, relative=False),
)  # fmt: skip

FACTS_BY_KEY = {fact.key: fact for fact in FACTS}


def read_facts(host: HostEntry) -> dict[str, Any]:
    """Every fact of one host: exact facts as display strings, numeric ones as floats."""
    out: dict[str, Any] = {}
    for fact in FACTS:
        try:
            value = fact.read(host)
        except (TypeError, ValueError, AttributeError):  # a malformed fact reads as missing
            value = None
        if fact.numeric:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            out[fact.key] = float(value) if ok else None
        else:
            out[fact.key] = show(value)
    return out


def format_number(fact: Fact, value: float) -> str:
    if not fact.relative and value <= 1.0:  # accuracies are fractions
        return f"{value * 100:.2f}%"
    if abs(value) >= 100:
        return f"{value:,.0f}{fact.unit}"
    return f"{value:.3g}{fact.unit}"


def differences(hosts: list[HostEntry], group: str) -> list[Difference]:
    """Facts that differ among `hosts` (one group). Hosts without a report are left out."""
    reporting = [h for h in hosts if h.doctor is not None or h.bench is not None]
    if len(reporting) < 2:
        return []
    found: list[Difference] = []
    for fact in FACTS:
        diff = _numeric(fact, reporting, group) if fact.numeric else _exact(fact, reporting, group)
        if diff is not None:
            found.append(diff)
    return found


def _exact(fact: Fact, hosts: list[HostEntry], group: str) -> Difference | None:
    by_value: dict[str, list[str]] = {}
    for host in hosts:
        if fact.key.startswith("bench_") and host.bench is None:
            continue  # a host without a bench report says nothing about bench facts
        value = host.facts.get(fact.key) or NOT_REPORTED
        by_value.setdefault(value, []).append(host.hostname)
    if len(by_value) < 2:
        return None
    # Most common value first, so the odd ones out read last; "not reported" last of a tie.
    ordered = sorted(by_value.items(), key=lambda kv: (-len(kv[1]), kv[0] == NOT_REPORTED, kv[0]))
    values = [DiffValue(value=v, hosts=sorted(hs)) for v, hs in ordered]
    return Difference(group=group, key=fact.key, label=fact.label, kind="exact", values=values,
                      reported=sum(len(hs) for _, hs in ordered))  # fmt: skip


def _numeric(fact: Fact, hosts: list[HostEntry], group: str) -> Difference | None:
    points = [(h.hostname, h.facts.get(fact.key)) for h in hosts]
    points = [(name, v) for name, v in points if v is not None]
    if len(points) < 2:
        return None
    median = statistics.median(v for _, v in points)
    limit = fact.tolerance * abs(median) if fact.relative else fact.tolerance
    outliers = sorted((v, name) for name, v in points if abs(v - median) > limit)
    if not outliers:
        return None
    values = [DiffValue(value=format_number(fact, v), hosts=[name]) for v, name in outliers]
    tolerance = f"±{fact.tolerance:.0%}" if fact.relative else f"±{format_number(fact, limit)}"
    return Difference(group=group, key=fact.key, label=fact.label, kind="numeric", values=values,
                      median=median, reported=len(points), tolerance=tolerance)  # fmt: skip
