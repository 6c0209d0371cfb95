"""Judge the CUDA toolkit and libraries on disk, and LD_LIBRARY_PATH."""

from __future__ import annotations

import os
from typing import Any

from dlcheck.compat import major_minor
from dlcheck.doctor.checks.result import make_result
from dlcheck.doctor.context import Context
from dlcheck.doctor.model import CheckResult, Finding, Status
from dlcheck.doctor.probes import Unavailable, value
from dlcheck.doctor.probes.cuda import CudaProbe


def check(ctx: Context) -> CheckResult:
    p = ctx.cuda()
    findings: list[Finding] = []
    cudart, cudart_source = p.effective("cudart")
    cudnn, cudnn_source = p.effective("cudnn")
    facts: dict[str, Any] = {
        "nvcc": p.nvcc,
        "nvcc_version": value(p.nvcc_version),
        "cudart_version": cudart,
        "cudart_source": cudart_source,
        "cudnn_version": cudnn,
        "cudnn_source": cudnn_source,
        "libraries": [
            {"name": lib.name, "version": lib.version, "source": lib.source, "path": lib.path}
            for lib in p.libraries
        ],
        "pip_wheels": p.wheels,
        "ld_library_path": os.pathsep.join(e.path for e in p.ld_library_path) or None,
    }
    if isinstance(p.nvcc_version, Unavailable):
        findings.append(Finding(Status.WARN, "cuda.nvcc_broken", p.nvcc_version.reason))
    findings.extend(_ld_library_path(p, cudart))
    gpu = ctx.gpu().nvidia_gpu_present
    if gpu and cudart is None:
        findings.append(
            Finding(
                Status.FAIL,
                "cuda.no_runtime",
                "no CUDA runtime (libcudart) found, neither from the system nor from pip",
                "pip install 'tensorflow[and-cuda]' (brings CUDA and cuDNN as wheels)",
            )
        )
    if gpu and cudnn is None:
        findings.append(
            Finding(
                Status.FAIL,
                "cuda.no_cudnn",
                "no cuDNN found, neither from the system nor from pip",
                "pip install 'tensorflow[and-cuda]' (brings nvidia-cudnn-cu12)",
            )
        )
    parts = []
    if value(p.nvcc_version):
        parts.append(f"nvcc {p.nvcc_version}")
    parts.append(f"runtime {cudart} ({cudart_source})" if cudart else "no CUDA runtime")
    parts.append(f"cuDNN {cudnn} ({cudnn_source})" if cudnn else "no cuDNN")
    summary = ", ".join(parts)
    if not gpu and cudart is None and cudnn is None and not p.nvcc:
        return make_result(
            "cuda",
            "CUDA",
            "no CUDA installed (none needed without an NVIDIA GPU)",
            findings,
            facts,
            None if findings else Status.SKIP,
        )
    if not gpu:
        summary += " (no NVIDIA GPU to use them)"
    return make_result("cuda", "CUDA", summary, findings, facts)


def _ld_library_path(p: CudaProbe, cudart: str | None) -> list[Finding]:
    out: list[Finding] = []
    versions: dict[str, str] = {}
    for entry in p.ld_library_path:
        if not entry.is_dir:
            out.append(
                Finding(
                    Status.WARN,
                    "cuda.ld_library_path_missing_dir",
                    f"LD_LIBRARY_PATH names {entry.path}, which does not exist",
                    "remove it from LD_LIBRARY_PATH (and from the file that sets it)",
                )
            )
            continue
        if entry.cuda_version:
            versions[entry.path] = entry.cuda_version
    if len(set(versions.values())) > 1:
        listed = ", ".join(f"{d} (CUDA {v})" for d, v in versions.items())
        out.append(
            Finding(
                Status.WARN,
                "cuda.ld_library_path_mixed",
                f"LD_LIBRARY_PATH mixes CUDA versions: {listed}",
                "keep one CUDA in LD_LIBRARY_PATH, or none: pip wheels need none",
            )
        )
    wheel = p.newest("cudart", "pip")
    wheel_mm = major_minor(wheel.version) if wheel else None
    for entry, version in versions.items():
        mm = major_minor(version)
        if wheel_mm and mm and mm[0] != wheel_mm[0]:
            out.append(
                Finding(
                    Status.WARN,
                    "cuda.ld_library_path_other_cuda",
                    f"LD_LIBRARY_PATH puts CUDA {version} ({entry}) ahead of the pip wheels' "
                    f"CUDA {wheel.version if wheel else '?'}",
                    "drop that entry from LD_LIBRARY_PATH; the frameworks find their wheels",
                )
            )
    return out
