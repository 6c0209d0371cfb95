"""Judge the chain: driver -> CUDA -> cuDNN -> framework build -> each GPU's architecture.

The rules are dlcheck.compat.rules (NVIDIA's minor-version compatibility, PTX JIT,
arch targets, the frameworks' own floors) over the table in compat.json, whose
sections cite their sources. This check only gathers the facts and words them.
"""

from __future__ import annotations

from typing import Any

from dlcheck.compat import major_minor, rules, tensorflow_build
from dlcheck.doctor.checks.result import make_result
from dlcheck.doctor.context import Context
from dlcheck.doctor.judging.driver import STATUS, gpus_of
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
    gpus = gpus_of(snap)
    cudnn, cudnn_source = cuda.effective("cudnn")
    facts: dict[str, Any] = {
        "driver_version": driver,
        "driver_cuda": driver_cuda,
        "compute_capabilities": sorted({x.cc for x in gpus if x.cc}),
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
        rule_build = rules.Build(
            build["framework"],
            build["version"],
            build["cuda"],
            build["cudnn"],
            tuple(build["archs"]),
        )
        verdicts = rules.judge_build(rule_build, gpus, driver, driver_cuda, ctx.today())
        findings.extend(Finding(STATUS[v.status], v.code, v.message, v.hint) for v in verdicts)
        if build["framework"] == "tensorflow":
            # What TensorFlow's process mapped beats a guess from what is on disk.
            loaded = build["loaded"].get("cudnn") or {}
            if loaded.get("version"):
                findings.extend(_tensorflow_cudnn(build, loaded["version"], loaded["path"]))
            else:
                findings.extend(_tensorflow_cudnn(build, cudnn, cudnn_source))
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
    """What each framework was built against, and what it loaded: CUDA, cuDNN, archs."""
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
                "loaded": f.get("loaded") or {},
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
                "loaded": f.get("loaded") or {},
            }
        )
    jax = fw.get("jax")
    if jax is not None and jax.ok and jax.facts.get("cuda"):
        f = jax.facts
        # The plugin's name gives the CUDA major; the cuDNN is the one its process mapped.
        loaded = f.get("loaded") or {}
        out.append(
            {
                "framework": "jax",
                "version": f.get("version"),
                "cuda": f.get("cuda"),
                "cudnn": (loaded.get("cudnn") or {}).get("version"),
                "archs": [],
                "loaded": loaded,
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


def _tensorflow_cudnn(
    build: dict[str, Any], cudnn: str | None, cudnn_source: str | None
) -> list[Finding]:
    """TensorFlow dlopens the cuDNN major it was built for; another major fails to load."""
    built, found = major_minor(build.get("cudnn")), major_minor(cudnn)
    label = f"tensorflow {build['version']}"
    if built is None:
        return []
    if found is None:
        return [
            Finding(
                Status.FAIL,
                "compat.cudnn_missing",
                f"{label} needs cuDNN {built[0]}, and none is installed",
                f"pip install 'tensorflow[and-cuda]=={build['version']}'",
            )
        ]
    if found[0] != built[0]:
        return [
            Finding(
                Status.FAIL,
                "compat.cudnn_major_mismatch",
                f"{label} is built for cuDNN {build.get('cudnn')}, but cuDNN {cudnn} "
                f"({cudnn_source}) is what it will load",
                f"pip install 'tensorflow[and-cuda]=={build['version']}' (brings cuDNN {built[0]})",
            )
        ]
    return []


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
