"""Judge the chain: driver -> CUDA -> cuDNN -> framework build -> GPU architecture.

The table it reads is dlcheck/compat/compat.json (sources cited there): NVIDIA's
minimum-driver tables and TensorFlow's tested build configurations.
"""

from __future__ import annotations

from typing import Any

from dlcheck.compat import (
    arch_supported,
    driver_floor_for_cuda,
    driver_for_cuda,
    major_minor,
    tensorflow_build,
    tensorflow_for_driver_cuda,
    version_at_least,
)
from dlcheck.doctor.checks import make_result
from dlcheck.doctor.context import Context
from dlcheck.doctor.model import CheckResult, Finding, Status
from dlcheck.doctor.probes.cuda import PathEntry


def check(ctx: Context) -> CheckResult:
    g = ctx.gpu()
    snap = g.nvml
    if snap.error or not snap.gpus:
        return make_result(
            "compat", "Compatibility", "no usable NVIDIA GPU: nothing to match", [], {}, Status.SKIP
        )
    cuda = ctx.cuda()
    fw = ctx.frameworks()
    builds = _builds(fw)
    findings: list[Finding] = []
    driver, driver_cuda = snap.driver_version, snap.cuda_driver_version
    ccs = sorted(
        {
            str(x.fields["compute_capability"])
            for x in snap.gpus
            if x.fields.get("compute_capability")
        }
    )
    cudnn, cudnn_source = cuda.effective("cudnn")
    facts: dict[str, Any] = {
        "driver_version": driver,
        "driver_cuda": driver_cuda,
        "compute_capabilities": ccs,
        "cudnn_version": cudnn,
        "cudnn_source": cudnn_source,
        "builds": builds,
    }
    if fw is None:
        findings.append(
            Finding(
                Status.SKIP,
                "compat.frameworks_not_probed",
                "frameworks not probed (--no-frameworks)",
            )
        )
    for build in builds:
        findings.extend(_judge(build, driver, driver_cuda, ccs, cudnn, cudnn_source))
    findings.extend(_ld_library_path(cuda.ld_library_path, builds))
    if not builds and fw is not None:
        findings.append(
            Finding(
                Status.SKIP,
                "compat.no_cuda_framework",
                "no framework with a CUDA build is installed",
            )
        )
    bad = [f for f in findings if f.status in (Status.FAIL, Status.WARN)]
    if bad:
        summary = (
            f"{len(bad)} problem(s) in driver {driver} / CUDA {driver_cuda} / framework builds"
        )
    elif builds:
        names = ", ".join(f"{b['framework']} (CUDA {b['cuda']})" for b in builds)
        summary = f"driver {driver} (CUDA {driver_cuda}) runs {names}"
    else:
        summary = f"driver {driver} (CUDA {driver_cuda}); no CUDA framework build to match"
    status = (
        None
        if findings and any(f.status != Status.SKIP for f in findings)
        else (Status.OK if builds else Status.SKIP)
    )
    return make_result("compat", "Compatibility", summary, findings, facts, status)


def _builds(fw: dict | None) -> list[dict[str, Any]]:
    """What each framework was built against: CUDA, cuDNN, archs."""
    out: list[dict[str, Any]] = []
    if not fw:
        return out
    tf = fw.get("tensorflow")
    if tf is not None and tf.ok and tf.facts.get("built_with_cuda"):
        f = tf.facts
        row = tensorflow_build(str(f.get("version"))) or {}
        out.append(
            {
                "framework": "tensorflow",
                "version": f.get("version"),
                "cuda": f.get("cuda") or row.get("cuda"),
                "cudnn": f.get("cudnn") or row.get("cudnn"),
                "archs": f.get("archs") or row.get("archs") or [],
            }
        )
    torch = fw.get("torch")
    if torch is not None and torch.ok and torch.facts.get("cuda"):
        f = torch.facts
        cudnn = f.get("cudnn")  # torch reports e.g. '90100' for 9.1.0
        out.append(
            {
                "framework": "torch",
                "version": f.get("version"),
                "cuda": f.get("cuda"),
                "cudnn": _torch_cudnn(cudnn),
                "archs": f.get("arch_list") or [],
            }
        )
    jax = fw.get("jax")
    if jax is not None and jax.ok and jax.facts.get("cuda"):
        f = jax.facts
        # The plugin's name gives the CUDA major only; its cuDNN and archs are not reported.
        out.append(
            {
                "framework": "jax",
                "version": f.get("version"),
                "cuda": f.get("cuda"),
                "cudnn": None,
                "archs": [],
            }
        )
    return out


def _torch_cudnn(value: str | None) -> str | None:
    if not value or not str(value).isdigit():
        return value
    n = int(value)
    if n >= 10000:  # cuDNN 9: major*10000 + minor*100 + patch
        return f"{n // 10000}.{(n % 10000) // 100}.{n % 100}"
    return f"{n // 1000}.{(n % 1000) // 100}.{n % 100}"  # cuDNN 8: major*1000 + minor*100


def _judge(
    build: dict[str, Any],
    driver: str | None,
    driver_cuda: str | None,
    ccs: list[str],
    cudnn: str | None,
    cudnn_source: str | None,
) -> list[Finding]:
    name, version, cuda = build["framework"], build["version"], build["cuda"]
    label = f"{name} {version}"
    out: list[Finding] = []
    need, have = major_minor(cuda), major_minor(driver_cuda)
    if need and have and have < need:
        pin = tensorflow_for_driver_cuda(driver_cuda or "") if name == "tensorflow" else None
        branch = driver_for_cuda(cuda) or driver_floor_for_cuda(cuda)
        hint = f"install NVIDIA driver {branch} or newer (the {str(branch).split('.')[0]} branch)"
        if pin:
            hint += f", or pin tensorflow=={pin}.* (built for a CUDA this driver runs)"
        out.append(
            Finding(
                Status.FAIL,
                "compat.driver_cuda_too_old",
                f"{label} is built for CUDA {cuda}, but driver {driver} supports "
                f"CUDA {driver_cuda} at most",
                hint,
            )
        )
    floor = driver_floor_for_cuda(cuda) if cuda else None
    if floor and version_at_least(driver, floor) is False:
        out.append(
            Finding(
                Status.FAIL,
                "compat.driver_below_floor",
                f"driver {driver} is below the CUDA {cuda} family minimum {floor} for {label}",
                f"install NVIDIA driver {driver_for_cuda(cuda) or floor} or newer",
            )
        )
    built_cudnn = major_minor(build.get("cudnn"))
    found_cudnn = major_minor(cudnn)
    if built_cudnn and name == "tensorflow":
        if found_cudnn is None:
            out.append(
                Finding(
                    Status.FAIL,
                    "compat.cudnn_missing",
                    f"{label} needs cuDNN {built_cudnn[0]}, and none is installed",
                    "pip install 'tensorflow[and-cuda]'",
                )
            )
        elif found_cudnn[0] != built_cudnn[0]:
            out.append(
                Finding(
                    Status.FAIL,
                    "compat.cudnn_major_mismatch",
                    f"{label} is built for cuDNN {build.get('cudnn')}, but cuDNN {cudnn} "
                    f"({cudnn_source}) is what it will load",
                    f"pip install 'tensorflow[and-cuda]=={version}' "
                    f"(brings cuDNN {built_cudnn[0]})",
                )
            )
    archs = build.get("archs") or []
    for cc in ccs:
        ok = arch_supported(cc, archs)
        if ok is False:
            out.append(
                Finding(
                    Status.FAIL,
                    "compat.arch_unsupported",
                    f"{label} has no code for compute capability {cc} "
                    f"(built for {', '.join(archs)})",
                    f"use a {name} release built for sm_{cc.replace('.', '')}, "
                    "or build from source",
                )
            )
    if not out:
        out.append(
            Finding(
                Status.OK,
                "compat.ok",
                f"{label} (CUDA {cuda}"
                + (f", cuDNN {build['cudnn']}" if build.get("cudnn") else "")
                + ") matches the driver and GPUs",
            )
        )
    return out


def _ld_library_path(entries: list[PathEntry], builds: list[dict[str, Any]]) -> list[Finding]:
    out: list[Finding] = []
    for entry in entries:
        found = major_minor(entry.cuda_version)
        for build in builds:
            need = major_minor(build.get("cuda"))
            if found and need and found[0] != need[0]:
                out.append(
                    Finding(
                        Status.WARN,
                        "compat.ld_library_path_other_cuda",
                        f"LD_LIBRARY_PATH has CUDA {found[0]}.{found[1]} ({entry.path}), but "
                        f"{build['framework']} is built for CUDA {build['cuda']}",
                        "remove that entry from LD_LIBRARY_PATH",
                    )
                )
    return out
