"""Findings about how the driver reaches the GPUs: module flavour, branch end of life,
GPUs hidden from a container or bound to vfio-pci, a driver installed but not loaded.
Used by the gpu check; not a check.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from dlcheck.compat import rules
from dlcheck.doctor.model import Finding, Status
from dlcheck.doctor.probes.driver_install import DriverInstall
from dlcheck.host import nvml

STATUS = {rules.OK: Status.OK, rules.WARN: Status.WARN, rules.FAIL: Status.FAIL}
# NVML errors that mean "no driver here": inside a container, "no GPU passed in".
NO_DRIVER_ERRORS = {nvml.LIBRARY_NOT_FOUND, nvml.DRIVER_NOT_LOADED}
NOT_LOADED = "gpu.driver_not_loaded"  # the code of module_not_loaded's findings


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


def installed(install: DriverInstall) -> str | None:
    """'NVIDIA driver 535.247.01 installed (module for 6.1.0-28-amd64)'; None when none is."""
    if not isinstance(install.packages, dict) or not install.packages:
        return None
    version = install.version or "of unknown version"
    kernels = ", ".join(install.module_kernels)
    where = f"module for {kernels}" if kernels else "no kernel module built"
    return f"NVIDIA driver {version} installed ({where})"


def driver_without_gpu(install: DriverInstall) -> Finding | None:
    """A driver on a host whose PCI bus has no NVIDIA GPU: harmless, and worth knowing."""
    what = installed(install)
    if what is None:
        return None
    return Finding(
        Status.OK,
        "gpu.driver_without_gpu",
        f"{what}, but no NVIDIA GPU is on the PCI bus: it has nothing to drive here",
        "nothing to fix if this host has no GPU; if it should have one, check that the card "
        "is seated and powered, or passed through to this VM (`lspci -nn | grep -i nvidia`)",
    )


def module_not_loaded(
    install: DriverInstall, kernel: str | None, secure_boot: str, nouveau_loaded: bool
) -> Finding | None:
    """A GPU on the bus, a driver installed, its module not loaded: why, most likely first.

    None when no driver package is installed (then the fix is to install one).
    """
    what = installed(install)
    if what is None:
        return None
    code = NOT_LOADED
    if nouveau_loaded:
        return Finding(
            Status.FAIL,
            code,
            f"{what}, but nouveau holds the GPU, so the nvidia module cannot load",
            "the nouveau blacklist takes effect at boot: `sudo update-initramfs -u`, reboot",
        )
    if kernel not in install.module_kernels:
        message = f"{what}, but none for the running kernel {kernel or '?'}"
        if kernel in install.headers_kernels:
            hint = (
                f"build it: `sudo dkms autoinstall -k {kernel}`, then `sudo modprobe nvidia`; "
                "if the build fails, see `dkms status` and its make.log"
            )
        elif install.module_kernels:
            hint = (
                f"reboot into {install.module_kernels[-1]}, or install linux-headers-{kernel} "
                "so DKMS builds the module for the running kernel"
            )
        else:
            hint = f"install linux-headers-{kernel} so DKMS builds the module; see `dkms status`"
        return Finding(Status.FAIL, code, message, hint)
    if secure_boot == "enabled":
        return Finding(
            Status.FAIL,
            code,
            f"{what}, but the module is not loaded, and Secure Boot is on",
            "Secure Boot probably rejected the unsigned module: enroll DKMS's key "
            "(`sudo mokutil --import /var/lib/dkms/mok.pub`, reboot, confirm in the MOK "
            "manager) or turn Secure Boot off; see `dmesg | grep -i nvidia`",
        )
    return Finding(
        Status.FAIL,
        code,
        f"{what}, but its module is not loaded: most likely installed since the last boot",
        "reboot, or load it now with `sudo modprobe nvidia`; if that fails, "
        "see `dmesg | grep -i nvidia`",
    )
