"""Judge TensorFlow, Keras, PyTorch and JAX as their child probes saw them."""

from __future__ import annotations

from typing import Any

from dlcheck.compat import rules
from dlcheck.doctor.checks.result import make_result
from dlcheck.doctor.context import Context
from dlcheck.doctor.judging import import_errors
from dlcheck.doctor.judging.driver import gpus_of
from dlcheck.doctor.model import CheckResult, Finding, Status
from dlcheck.doctor.probes.frameworks import FRAMEWORKS, FrameworkProbe
from dlcheck.shared import EXTRAS

TITLES = {"tensorflow": "TensorFlow", "keras": "Keras", "torch": "PyTorch", "jax": "JAX"}
TF_GPU_HINT = "pip uninstall -y tensorflow-cpu; pip install 'tensorflow[and-cuda]'"
# TensorRT is optional for TensorFlow; its absence only disables TF-TRT.
OPTIONAL_LIBS = ("libnvinfer",)


def check(ctx: Context) -> CheckResult:
    probes = ctx.frameworks() or {}
    gpu = ctx.gpu().nvidia_gpu_present
    findings: list[Finding] = []
    facts: dict[str, Any] = {}
    reported: set[int] = set()
    parts: list[str] = []
    for name in FRAMEWORKS:
        p = probes.get(name)
        if p is None:
            facts[name] = None
            continue
        facts[name] = _facts(name, p)
        findings.extend(_child_failure(ctx, name, p, reported))
        if p.installed is False:
            findings.append(
                Finding(
                    Status.SKIP,
                    f"frameworks.{name}_not_installed",
                    f"{TITLES[name]} is not installed",
                    f"pip install 'dlcheck[{rules.extra_for_host(EXTRAS[name], gpu)}]'",
                )
            )
            facts[name] = None
            continue
        if p.installed and not p.ok:
            text = "\n".join([str(p.error), str(p.facts.get("traceback_tail") or "")])
            cause = _cause(ctx, name, text + "\n" + (p.outcome.stderr if p.outcome else ""))
            findings.append(
                Finding(
                    Status.FAIL,
                    cause.code if cause else f"frameworks.{name}_import_failed",
                    f"{TITLES[name]} is installed but fails: "
                    + (cause.message if cause else str(p.error)),
                    cause.hint
                    if cause
                    else "reinstall it: pip install --force-reinstall "
                    f"'dlcheck[{rules.extra_for_host(EXTRAS[name], gpu)}]'",
                )
            )
        if name == "tensorflow":
            findings.extend(_tensorflow(p, gpu))
        elif name == "torch" and p.ok:
            findings.extend(_torch(p, gpu, facts[name]))
        elif name == "keras" and p.ok:
            findings.extend(_keras(p, gpu))
        elif name == "jax" and p.ok and p.facts.get("backend") == "cpu":
            findings.extend(_jax_cpu_only(ctx))
        if p.ok:
            parts.append(_short(name, p))
        elif p.installed is not False:
            parts.append(f"{TITLES[name]} broken")
    summary = ", ".join(parts) or "no framework installed"
    nothing = all(p.installed is False for p in probes.values())
    status = Status.SKIP if nothing else None
    return make_result("frameworks", "Frameworks", summary, findings, facts, status)


def _facts(name: str, p: FrameworkProbe) -> dict[str, Any]:
    f = p.facts
    base: dict[str, Any] = {"version": f.get("version"), "ok": p.ok, "error": p.error}
    if name == "tensorflow":
        for key in (
            "built_with_cuda",
            "cuda",
            "cudnn",
            "gpus",
            "gpu_op_ok",
            "archs",
            "gpu_details",
        ):
            base[key] = f.get(key)
        base["missing_libraries"] = p.missing_libraries
    elif name == "keras":
        for key in ("backend", "configured_backend", "configured_by", "backends_installed"):
            base[key] = f.get(key)
    elif name == "torch":
        for key in (
            "cuda",
            "cuda_available",
            "device_name",
            "compute_capability",
            "arch_list",
            "cudnn",
        ):
            base[key] = f.get(key)
        how = rules.coverage(f.get("compute_capability"), f.get("arch_list") or [], f.get("cuda"))
        base["arch_ok"] = None if how == rules.UNKNOWN else how in (rules.SASS, rules.PTX)
    elif name == "jax":
        for key in ("devices", "backend", "cuda_plugin", "cuda"):
            base[key] = f.get(key)
    if p.outcome is not None and not p.outcome.ok:
        base["probe"] = {"ending": p.outcome.ending, "stderr_tail": p.outcome.stderr_tail}
    return base


def _cause(ctx: Context, name: str, text: str) -> import_errors.Cause | None:
    cuda = ctx.cuda()
    return import_errors.classify(
        name,
        text,
        [e.path for e in cuda.ld_library_path],
        cuda.ld_library_path_cuda,
        ctx.host().cpu_flags,
    )


def _jax_cpu_only(ctx: Context) -> list[Finding]:
    """JAX's CUDA plugins come per CUDA major: name the one this driver and GPU run.
    Nothing to say while NVML itself fails: the gpu check names that cause."""
    snap = ctx.gpu().nvml
    if snap.error or not snap.gpus:
        return []
    gpus = [g for g in gpus_of(snap) if g.cc]
    plugins = {rules.jax_plugin_for(g, snap.driver_version) for g in gpus}
    plugin = min(plugins, key=lambda x: x or "") if plugins else None
    hint = (
        f"pip install 'jax[{plugin}]' (the CUDA plugin this driver and GPU run)"
        if plugin
        else "no JAX CUDA plugin runs on this driver and GPU (see the compat check)"
    )
    return [
        Finding(
            Status.WARN,
            "frameworks.jax_cpu_only",
            "JAX runs on the CPU although an NVIDIA GPU is present",
            hint,
        )
    ]


def _child_failure(ctx: Context, name: str, p: FrameworkProbe, reported: set[int]) -> list[Finding]:
    """One finding per failed child (TensorFlow and Keras share one)."""
    o = p.outcome
    if o is None or o.ok or id(o) in reported:
        return []
    reported.add(id(o))
    cause = _cause(ctx, name, o.message + "\n" + o.stderr)
    if cause is not None:
        return [Finding(Status.FAIL, cause.code, f"{TITLES[name]}: {cause.message}", cause.hint)]
    stderr = (" | last stderr: " + " / ".join(o.stderr_tail[-4:])) if o.stderr_tail else ""
    hints = {
        "signal": "a native library crashed on import: check the driver/CUDA/cuDNN versions "
        "(see the compat check) and reinstall the framework",
        "timeout": "the import hung: look for a stuck GPU (nvidia-smi) or a network filesystem; "
        "raise --timeout if this host is just slow",
    }
    hint = hints.get(o.ending, f"run `python -c 'import {name}'` to see the error")
    return [Finding(Status.FAIL, f"frameworks.{name}_{o.ending}", o.message + stderr, hint)]


def _tensorflow(p: FrameworkProbe, gpu: bool) -> list[Finding]:
    out: list[Finding] = []
    for lib in p.missing_libraries:
        optional = lib.startswith(OPTIONAL_LIBS)
        out.append(
            Finding(
                Status.WARN if optional else Status.FAIL,
                "frameworks.tensorflow_missing_library",
                f"TensorFlow could not load {lib}" + (" (TensorRT, optional)" if optional else ""),
                None if optional else _lib_hint(lib),
            )
        )
    if p.dlopen_failed:
        out.append(
            Finding(
                Status.FAIL,
                "frameworks.tensorflow_dlopen_failed",
                "TensorFlow: 'Cannot dlopen some GPU libraries': it runs on the CPU only",
                "pip install 'tensorflow[and-cuda]' (matching CUDA and cuDNN wheels)",
            )
        )
    if not p.ok:
        return out
    f = p.facts
    if gpu and not f.get("built_with_cuda"):
        out.append(
            Finding(
                Status.FAIL,
                "frameworks.tensorflow_cpu_build",
                "TensorFlow is a CPU-only build but this host has an NVIDIA GPU",
                TF_GPU_HINT,
            )
        )
    elif gpu and not f.get("gpus"):
        out.append(
            Finding(
                Status.FAIL,
                "frameworks.tensorflow_no_gpu",
                "TensorFlow (built with CUDA) lists no GPU: it will train on the CPU",
                "see the gpu, cuda and compat checks; pip install 'tensorflow[and-cuda]'",
            )
        )
    elif f.get("gpus") and f.get("gpu_op_ok") is False:
        out.append(
            Finding(
                Status.FAIL,
                "frameworks.tensorflow_gpu_op_failed",
                "a matmul placed on /GPU:0 did not run there: "
                f"{f.get('gpu_op_error') or f.get('gpu_op_device')}",
                "see the compat check (driver, cuDNN, compute capability)",
            )
        )
    return out


def _lib_hint(lib: str) -> str:
    if "cudnn" in lib:
        return "pip install 'tensorflow[and-cuda]' (brings the cuDNN TensorFlow was built with)"
    return (
        "pip install 'tensorflow[and-cuda]' (brings the CUDA libraries TensorFlow was built with)"
    )


def _keras(p: FrameworkProbe, gpu: bool) -> list[Finding]:
    """Keras 3 imports the backend it is configured for; a missing one breaks `import keras`."""
    f = p.facts
    if not f.get("configured_backend_missing"):
        return []
    installed = f.get("backends_installed") or []
    if not installed:
        return [
            Finding(
                Status.FAIL,
                "frameworks.keras_no_backend",
                "Keras is installed but none of its backends (TensorFlow, JAX, PyTorch) is",
                f"pip install 'dlcheck[{rules.extra_for_host('tf', gpu)}]' "
                "(or 'dlcheck[torch]', 'dlcheck[jax]')",
            )
        ]
    by = f.get("configured_by")
    where = "by default" if by == "Keras's default" else f"by {by}"
    return [
        Finding(
            Status.WARN,
            "frameworks.keras_backend_missing",
            f"Keras's backend is {f.get('configured_backend')} ({where}), which is not "
            f"installed: `import keras` fails",
            f"export KERAS_BACKEND={installed[0]} (installed here), or set "
            f'"backend": "{installed[0]}" in ~/.keras/keras.json',
        )
    ]


def _torch(p: FrameworkProbe, gpu: bool, facts: dict[str, Any]) -> list[Finding]:
    f = p.facts
    if not gpu:
        return []
    if not f.get("cuda"):
        return [
            Finding(
                Status.WARN,
                "frameworks.torch_cpu_build",
                "PyTorch is a CPU-only build but this host has an NVIDIA GPU",
                "install a CUDA build of torch (see pytorch.org's install selector)",
            )
        ]
    if not f.get("cuda_available"):
        return [
            Finding(
                Status.FAIL,
                "frameworks.torch_cuda_unavailable",
                f"PyTorch (CUDA {f.get('cuda')}) says torch.cuda.is_available() is False",
                "see the gpu and compat checks (driver too old for this CUDA build?)",
            )
        ]
    return []


def _short(name: str, p: FrameworkProbe) -> str:
    f = p.facts
    text = f"{TITLES[name]} {f.get('version')}"
    if name == "tensorflow":
        text += f" ({len(f.get('gpus') or [])} GPU)" if f.get("built_with_cuda") else " (CPU build)"
    elif name == "keras":
        text += f" ({f.get('backend') or 'no backend'})"
    elif name == "torch":
        text += f" ({f.get('device_name')})" if f.get("cuda_available") else " (CPU)"
    elif name == "jax":
        text += f" ({f.get('backend')})"
    return text
