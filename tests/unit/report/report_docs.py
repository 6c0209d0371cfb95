"""Builders for report documents that follow the doctor/bench contracts (tests only).

They write what `dlcheck doctor --json` and `dlcheck bench --json` write, with
every field a test does not care about filled with something plausible.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

GIB = 2**30


def gpu(
    index: int = 0,
    name: str = "NVIDIA GeForce RTX 4090",
    temperature_c: int = 45,
    used_gib: float = 1.0,
    total_gib: float = 24.0,
    pcie: tuple[int, int] = (4, 16),
    pcie_max: tuple[int, int] = (4, 16),
) -> dict[str, Any]:
    return {
        "index": index,
        "name": name,
        "memory_total_bytes": int(total_gib * GIB),
        "memory_used_bytes": int(used_gib * GIB),
        "temperature_c": temperature_c,
        "pcie_gen": pcie[0],
        "pcie_width": pcie[1],
        "pcie_gen_max": pcie_max[0],
        "pcie_width_max": pcie_max[1],
    }


def check(name: str, status: str = "ok", facts: dict | None = None, findings=None) -> dict:
    return {
        "name": name,
        "title": name.capitalize(),
        "status": status,
        "summary": f"{name}: {status}",
        "findings": findings or [],
        "facts": facts or {},
        "duration_s": 0.01,
    }


def finding(status: str, code: str, message: str, hint: str | None = None) -> dict:
    return {"status": status, "code": code, "message": message, "hint": hint}


def doctor(
    hostname: str,
    created: str = "2026-11-20T10:00:00+00:00",
    statuses: dict[str, str] | None = None,
    driver: str | None = "550.54.14",
    cudnn: str | None = "9.3.0",
    gpus: list[dict] | None = None,
    tensorflow: str | None = "2.21.0",
    blas: str | None = "openblas 0.3.21",
    findings: dict[str, list[dict]] | None = None,
) -> dict[str, Any]:
    """A doctor report; `statuses` overrides single check statuses (default all ok)."""
    statuses = statuses or {}
    findings = findings or {}
    gpus = [gpu()] if gpus is None else gpus
    facts = {
        "host": {
            "os": "Debian GNU/Linux 12 (bookworm)",
            "kernel": "6.1.0-18-amd64",
            "cpu_model": "AMD Ryzen 9 7950X",
            "cpu_cores_logical": 32,
            "ram_bytes": 64 * GIB,
            "python": "3.11.2",
            "simd": ["avx2", "avx512f"],
        },
        "gpu": {"driver_version": driver, "cuda_driver_version": "12.4", "gpus": gpus}
        if gpus
        else {"driver_version": None, "gpus": []},
        "cuda": {"nvcc_version": "12.4", "cudart_version": "12.4", "cudnn_version": cudnn},
        "libraries": {"blas": blas, "numpy": "1.26.4", "h5py": "3.10.0", "hdf5": "1.12.2"},
        "frameworks": {
            "tensorflow": {"version": tensorflow, "cuda": "12.5", "cudnn": "9"}
            if tensorflow
            else None,
            "keras": {"version": "3.15.1", "backend": "tensorflow"},
            "torch": None,
            "jax": None,
        },
        "compat": {},
    }
    checks = [
        check(name, statuses.get(name, "ok" if gpus or name not in {"gpu", "cuda"} else "skip"),
              facts[name], findings.get(name))
        for name in ("host", "gpu", "cuda", "libraries", "frameworks", "compat")
    ]  # fmt: skip
    rank = {"skip": 0, "ok": 1, "warn": 2, "error": 3, "fail": 4}
    worst = max((c["status"] for c in checks), key=rank.__getitem__)
    counts = {s: sum(c["status"] == s for c in checks) for s in rank}
    return {
        "schema": "dlcheck.doctor",
        "schema_version": 1,
        "dlcheck_version": "0.1.0",
        "created": created,
        "host": {"hostname": hostname, "redacted": False},
        "status": "ok" if worst == "skip" else worst,
        "counts": counts,
        "duration_s": 1.5,
        "checks": checks,
    }


def bench(
    hostname: str,
    samples_per_s: float = 12000.0,
    accuracy: float = 0.985,
    folds: list[float] | None = None,
    created: str = "2026-11-20T10:05:00+00:00",
) -> dict[str, Any]:
    return {
        "schema": "dlcheck.bench",
        "schema_version": 1,
        "hostname": hostname,
        "created": created,
        "status": "ok",
        "backend": "tensorflow",
        "model": "cnn",
        "device": {"used": "gpu", "name": "NVIDIA GeForce RTX 4090"},
        "throughput": {"samples_per_s": samples_per_s},
        "test": {"accuracy": accuracy},
        "folds": {"accuracies": folds, "mean": sum(folds) / len(folds), "std": 0.001}
        if folds
        else None,
    }


def write(folder: Path, name: str, doc: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc, indent=1), encoding="utf-8")
    return path
