"""Findings about how the driver reaches the GPUs: module flavour, branch end of life,
GPUs hidden from a container or bound to vfio-pci. Used by the gpu check; not a check.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from dlcheck.compat import rules
from dlcheck.doctor.model import Finding, Status
from dlcheck.host import nvml

STATUS = {rules.OK: Status.OK, rules.WARN: Status.WARN, rules.FAIL: Status.FAIL}
# NVML errors that mean "no driver here": inside a container, "no GPU passed in".
NO_DRIVER_ERRORS = {nvml.LIBRARY_NOT_FOUND, nvml.DRIVER_NOT_LOADED}


def gpus_of(snap: nvml.NvmlSnapshot) -> list[rules.Gpu]:
    """NVML's GPUs as the rules see them: index, compute capability, name."""
    return [
        rules.Gpu(
            gpu.index,
            str(gpu.fields["compute_capability"]) if gpu.fields.get("compute_capability") else None,
            gpu.fields.get("name"),
        )
        for gpu in snap.gpus
    ]


def findings(verdicts: list[rules.Verdict]) -> list[Finding]:
    return [Finding(STATUS[v.status], v.code, v.message, v.hint) for v in verdicts]


def driver_and_modules(snap: nvml.NvmlSnapshot, flavour: str | None, today: date) -> list[Finding]:
    """The driver branch's end of life, and the module flavour each GPU generation needs."""
    gpus = gpus_of(snap)
    return findings(
        rules.judge_kernel_modules(flavour, gpus)
        + rules.judge_driver_branch(snap.driver_version, gpus, today)
    )


def vfio_bound(pci: list[Any], usable_gpus: int) -> list[Finding]:
    """GPUs handed to vfio-pci (passed through to a VM): named, with how to take one back."""
    out = []
    for device in pci:
        if device.driver != "vfio-pci":
            continue
        address = device.address
        out.append(
            Finding(
                Status.WARN if usable_gpus else Status.FAIL,
                "gpu.vfio_bound",
                f"the NVIDIA GPU at {address} is bound to vfio-pci (passed through to a "
                "virtual machine): this host's driver cannot use it",
                f"to use it here: echo > /sys/bus/pci/devices/{address}/driver_override; "
                f"echo {address} > /sys/bus/pci/drivers/vfio-pci/unbind; modprobe nvidia; "
                f"echo {address} > /sys/bus/pci/drivers/nvidia/bind (and drop its id from "
                "vfio-pci.ids= so a reboot keeps it)",
            )
        )
    return out


def container_without_gpu(
    container: str | None, pci: list[Any], nodes: list[str], snap: nvml.NvmlSnapshot
) -> Finding | None:
    """A container started without the GPU: the host's GPU is on the PCI bus, no device node
    and no driver library were passed in. Installing a driver inside would not help."""
    if not container or not pci or nodes:
        return None
    if snap.gpus or (snap.error is not None and snap.error.kind not in NO_DRIVER_ERRORS):
        return None
    return Finding(
        Status.FAIL,
        "gpu.container_without_gpu",
        f"this {container} container was started without the GPU: the host has {len(pci)} "
        "NVIDIA device(s) on its PCI bus, but no /dev/nvidia* node and no driver library "
        "were passed in",
        "start the container with the GPU: docker run --gpus all ... (the host needs the "
        "NVIDIA Container Toolkit); do not install a driver inside the container",
    )
