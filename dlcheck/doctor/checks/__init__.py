"""Checks judge probe data into a CheckResult: findings with hints, and facts.

The registry below is the list `dlcheck doctor --list-checks` shows, in order. What the
checks themselves share (make_result, gib) is in `result.py`, which imports no check, so
that the checks never import this package back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dlcheck.doctor.context import Context
from dlcheck.doctor.model import CheckResult


@dataclass(frozen=True)
class CheckSpec:
    name: str
    title: str
    description: str
    run: Callable[[Context], CheckResult]
    default: bool = True  # in the default set; `train` is opt-in
    frameworks: bool = False  # dropped by --no-frameworks


def registry() -> dict[str, CheckSpec]:
    # Imported here so that importing the package stays light.
    from dlcheck.doctor.checks import compat, cuda, frameworks, gpu, host, libraries, train

    specs = [
        CheckSpec(
            "host",
            "Host",
            "OS, kernel, CPU and SIMD, RAM, disk, Python, container, Secure Boot",
            host.check,
        ),
        CheckSpec(
            "gpu", "GPU", "NVIDIA PCI devices, nouveau, NVML: driver and per-GPU health", gpu.check
        ),
        CheckSpec(
            "cuda",
            "CUDA",
            "nvcc, CUDA runtime and cuDNN on disk (system and pip), LD_LIBRARY_PATH",
            cuda.check,
        ),
        CheckSpec(
            "libraries",
            "Libraries",
            "numpy's BLAS, HDF5, Graphviz, OpenCV, scipy, pandas, matplotlib, PyYAML",
            libraries.check,
        ),
        CheckSpec(
            "frameworks",
            "Frameworks",
            "TensorFlow, Keras, PyTorch, JAX, each imported in a child process",
            frameworks.check,
            frameworks=True,
        ),
        CheckSpec(
            "compat",
            "Compatibility",
            "driver vs CUDA vs cuDNN vs framework build vs GPU arch",
            compat.check,
        ),
        CheckSpec(
            "train",
            "Training",
            "a quick real MNIST training run (`dlcheck bench --quick --json`)",
            train.check,
            default=False,
            frameworks=True,
        ),
    ]
    return {spec.name: spec for spec in specs}
