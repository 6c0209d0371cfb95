"""Judge the GPU side: PCI vs kernel module vs NVML, per-GPU health, CUDA_VISIBLE_DEVICES."""

from __future__ import annotations

from typing import Any

from dlcheck.doctor.checks.result import make_result
from dlcheck.doctor.context import Context
from dlcheck.doctor.judging import driver
from dlcheck.doctor.model import CheckResult, Finding, Status
from dlcheck.doctor.probes import Unavailable
from dlcheck.doctor.probes.gpu import GpuProbe
from dlcheck.host import nvml

TEMPERATURE_WARN_C = 85
# Clock event reasons that mean the GPU is slowed by heat or power delivery.
BAD_THROTTLE = {
    "hw_slowdown",
    "hw_thermal_slowdown",
    "sw_thermal_slowdown",
    "hw_power_brake_slowdown",
}
NOUVEAU_HINT = (
    "blacklist nouveau (echo 'blacklist nouveau' > /etc/modprobe.d/blacklist-nouveau.conf; "
    "update-initramfs -u), install the NVIDIA driver (provision.sh does both), reboot"
)
GPU_FIELDS = (
    "name", "uuid", "memory_total_bytes", "memory_used_bytes", "compute_capability",
    "temperature_c", "power_w", "power_limit_w", "sm_clock_mhz", "sm_clock_max_mhz",
    "mem_clock_mhz", "mem_clock_max_mhz", "pcie_gen", "pcie_gen_max", "pcie_width",
    "pcie_width_max", "throttle_reasons", "ecc_volatile_uncorrected", "retired_pages",
    "pending_row_remaps", "persistence_mode", "mig_mode",
)  # fmt: skip


def check(ctx: Context) -> CheckResult:
    p = ctx.gpu()
    snap = p.nvml
    findings: list[Finding] = []
    pci = p.pci if isinstance(p.pci, list) else []
    facts: dict[str, Any] = {
        "nvidia_pci_devices": len(pci) if isinstance(p.pci, list) else None,
        "pci": [{"address": d.address, "device_id": d.device_id, "driver": d.driver} for d in pci],
        "nouveau_loaded": p.nouveau_loaded,
        "nvidia_module_loaded": p.nvidia_module_loaded,
        "module_flavour": p.module_flavour,
        "driver_packages": p.install.packages if isinstance(p.install.packages, dict) else None,
        "driver_module_kernels": p.install.module_kernels,
        "driver_version": snap.driver_version,
        "cuda_driver_version": snap.cuda_driver_version,
        "nvml_error": snap.error.kind if snap.error else None,
        "gpus": [_gpu_facts(g) for g in snap.gpus],
    }
    if isinstance(p.pci, Unavailable):
        findings.append(
            Finding(Status.WARN, "gpu.pci_unreadable", f"cannot list PCI devices: {p.pci.reason}")
        )
    for reason in p.unreadable:
        findings.append(Finding(Status.WARN, "gpu.unreadable", reason))
    if p.nouveau_loaded:
        findings.append(
            Finding(
                Status.FAIL,
                "gpu.nouveau_loaded",
                "the open-source nouveau driver is loaded: CUDA cannot use the GPU",
                NOUVEAU_HINT,
            )
        )

    findings.extend(driver.vfio_bound(pci, len(snap.gpus)))
    hidden = driver.container_without_gpu(ctx.host().container, pci, p.device_nodes, snap)
    if hidden is not None:
        findings.append(hidden)
        return make_result("gpu", "GPU", "GPU not passed into this container", findings, facts)

    no_device_errors = {nvml.LIBRARY_NOT_FOUND, nvml.DRIVER_NOT_LOADED, nvml.MODULE_MISSING}
    if snap.error and not pci and snap.error.kind in no_device_errors and not p.nouveau_loaded:
        if findings:
            return make_result("gpu", "GPU", "no NVIDIA GPU", findings, facts)
        unused = driver.driver_without_gpu(p.install)
        summary = "no NVIDIA GPU found; GPU checks skipped"
        if unused is not None:
            summary = (
                f"no NVIDIA GPU on the PCI bus; {driver.installed(p.install)}, not needed here"
            )
        return make_result("gpu", "GPU", summary, [unused] if unused else [], facts, Status.SKIP)

    if snap.error:
        failure = _nvml_failure(ctx, snap.error, pci, p)
        findings.append(failure)
        summary = _failure_summary(pci, snap.error)
        if failure.code == driver.NOT_LOADED:
            summary = f"{len(pci)} NVIDIA device(s), driver installed but its module not loaded"
        return make_result("gpu", "GPU", summary, findings, facts)

    if not snap.gpus:
        if pci:
            findings.append(
                Finding(
                    Status.FAIL,
                    "gpu.nvml_no_devices",
                    f"{len(pci)} NVIDIA device(s) on the PCI bus, but NVML lists none",
                    "check `nvidia-smi` and `dmesg | grep -i nvidia`; reinstall the driver",
                )
            )
            return make_result("gpu", "GPU", "driver loaded, no GPU usable", findings, facts)
        return make_result(
            "gpu", "GPU", "driver present, no NVIDIA GPU", findings, facts, Status.SKIP
        )

    findings.extend(driver.driver_and_modules(snap, p.module_flavour, ctx.today()))
    for gpu in snap.gpus:
        findings.extend(_judge_gpu(gpu))
    findings.extend(_visible_devices(ctx.env.get("CUDA_VISIBLE_DEVICES"), snap.gpus))
    names = sorted({str(g.fields.get("name") or "unknown GPU") for g in snap.gpus})
    summary = (
        f"{len(snap.gpus)}x {', '.join(names)}, driver {snap.driver_version} "
        f"(CUDA {snap.cuda_driver_version or '?'})"
    )
    return make_result("gpu", "GPU", summary, findings, facts)


def _gpu_facts(gpu: nvml.GpuRecord) -> dict[str, Any]:
    out: dict[str, Any] = {"index": gpu.index}
    for key in GPU_FIELDS:
        out[key] = gpu.fields.get(key)
    out["serial"] = gpu.fields.get("serial")
    out["row_remap_failure"] = gpu.fields.get("row_remap_failure")
    out["not_available"] = sorted(set(gpu.not_available))
    out["errors"] = dict(gpu.errors)
    out["lost"] = gpu.lost
    return out


def _failure_summary(pci: list, error: nvml.NvmlError) -> str:
    what = {
        nvml.LIBRARY_NOT_FOUND: "NVIDIA driver not installed",
        nvml.DRIVER_NOT_LOADED: "NVIDIA kernel module not loaded",
        nvml.VERSION_MISMATCH: "driver/library version mismatch",
        nvml.NO_PERMISSION: "no permission to use the GPU",
        nvml.MODULE_MISSING: "nvidia-ml-py missing",
        nvml.GPU_LOST: "GPU lost",
    }.get(error.kind, "NVML failed")
    return f"{len(pci)} NVIDIA device(s), {what}" if pci else what


def _nvml_failure(ctx: Context, error: nvml.NvmlError, pci: list, p: GpuProbe) -> Finding:
    if pci and error.kind in driver.NO_DRIVER_ERRORS and not p.nvidia_module_loaded:
        host = ctx.host()
        not_loaded = driver.module_not_loaded(
            p.install, host.kernel, host.secure_boot, p.nouveau_loaded
        )
        if not_loaded is not None:
            return not_loaded
    if pci and p.nvidia_module_loaded:
        message = f"the nvidia module is loaded, but NVML cannot use the GPU(s): {error.message}"
        return Finding(Status.FAIL, f"gpu.nvml_{error.kind}", message, error.hint)
    if pci:
        unbound = [d.address for d in pci if d.driver is None]
        where = f"{len(pci)} NVIDIA GPU(s) on the PCI bus, but NVML cannot use them"
        if unbound:
            where += f" (no kernel driver bound to {', '.join(unbound)})"
        message = f"{where}: {error.message}"
    else:
        message = error.message
    hint = error.hint
    if error.kind == nvml.DRIVER_NOT_LOADED and ctx.host().secure_boot == "enabled":
        hint = "Secure Boot is on and probably rejected the unsigned nvidia module: " + hint
    return Finding(Status.FAIL, f"gpu.nvml_{error.kind}", message, hint)


def _judge_gpu(gpu: nvml.GpuRecord) -> list[Finding]:
    f = gpu.fields
    label = f"GPU {gpu.index}" + (f" ({f['name']})" if f.get("name") else "")
    out: list[Finding] = []
    if gpu.lost:
        out.append(
            Finding(
                Status.FAIL,
                "gpu.lost",
                f"{label} was lost during the query",
                nvml.HINTS[nvml.GPU_LOST],
            )
        )
        return out
    for key, err in gpu.errors.items():
        out.append(Finding(Status.WARN, "gpu.field_error", f"{label}: cannot read {key}: {err}"))
    temp = f.get("temperature_c")
    if temp is not None and temp >= TEMPERATURE_WARN_C:
        out.append(
            Finding(
                Status.WARN,
                "gpu.hot",
                f"{label} is at {temp} °C",
                "check airflow and fans; sustained heat throttles clocks",
            )
        )
    bad = sorted(set(f.get("throttle_reasons") or []) & BAD_THROTTLE)
    if bad:
        out.append(
            Finding(
                Status.WARN,
                "gpu.throttled",
                f"{label} clocks are held down: {', '.join(bad)}",
                "check cooling and the power supply cables",
            )
        )
    ecc = f.get("ecc_volatile_uncorrected")
    if ecc:
        out.append(
            Finding(
                Status.WARN,
                "gpu.ecc_uncorrected",
                f"{label}: {ecc} uncorrected ECC error(s) since the driver loaded",
                "reset the GPU or reboot; if they recur, the board needs service",
            )
        )
    if f.get("row_remap_failure"):
        out.append(
            Finding(
                Status.FAIL,
                "gpu.row_remap_failure",
                f"{label}: a memory row remap failed",
                "the GPU's memory is failing: contact the vendor",
            )
        )
    if f.get("pending_row_remaps"):
        out.append(
            Finding(
                Status.WARN,
                "gpu.row_remap_pending",
                f"{label}: a memory row remap is pending",
                "reset the GPU (nvidia-smi -r) or reboot to apply it",
            )
        )
    if f.get("retired_pages"):
        out.append(
            Finding(
                Status.WARN,
                "gpu.retired_pages",
                f"{label}: {f['retired_pages']} memory page(s) retired",
                "watch the count; a growing count means failing memory",
            )
        )
    width, width_max = f.get("pcie_width"), f.get("pcie_width_max")
    if width and width_max and width < width_max:
        out.append(
            Finding(
                Status.WARN,
                "gpu.pcie_narrow",
                f"{label}: PCIe link x{width} of x{width_max}",
                "reseat the card, or move it to a full-width slot",
            )
        )
    if f.get("mig_mode"):
        out.append(
            Finding(
                Status.OK,
                "gpu.mig",
                f"{label}: MIG mode is on; frameworks see MIG instances, not the whole GPU",
            )
        )
    return out


def _visible_devices(value: str | None, gpus: list[nvml.GpuRecord]) -> list[Finding]:
    """CUDA_VISIBLE_DEVICES against NVML's indices and UUIDs.

    CUDA stops at the first entry it cannot resolve, so one bad entry hides the rest.
    """
    if value is None:
        return []
    entries = [e.strip() for e in value.split(",")]
    if value.strip() in ("", "-1") or not entries:
        return [
            Finding(
                Status.WARN,
                "gpu.cuda_visible_devices_none",
                f"CUDA_VISIBLE_DEVICES={value!r} hides every GPU from the frameworks",
                "unset CUDA_VISIBLE_DEVICES to use the GPUs",
            )
        ]
    uuids = [str(g.fields.get("uuid") or "") for g in gpus]
    bad: list[str] = []
    for entry in entries:
        if entry.isdigit():
            if int(entry) >= len(gpus):
                bad.append(entry)
        elif entry.startswith(("GPU-", "MIG-")):
            # CUDA accepts a unique UUID prefix.
            if entry.startswith("GPU-") and not any(u.startswith(entry) for u in uuids if u):
                bad.append(entry)
        else:
            bad.append(entry)
    if not bad:
        return [Finding(Status.OK, "gpu.cuda_visible_devices", f"CUDA_VISIBLE_DEVICES={value}")]
    valid = ", ".join(str(g.index) for g in gpus)
    return [
        Finding(
            Status.FAIL,
            "gpu.cuda_visible_devices_invalid",
            f"CUDA_VISIBLE_DEVICES={value!r} names {', '.join(bad)}, which NVML does not "
            f"know (indices {valid})",
            "set it to valid indices or GPU UUIDs (nvidia-smi -L), or unset it",
        )
    ]
