"""What the kernel says about the NVIDIA driver beyond NVML: module flavour, device nodes."""

from __future__ import annotations

from pathlib import Path

from dlcheck.doctor.probes.sysfs import read_text, under

MODULE_VERSION = "/proc/driver/nvidia/version"


def kernel_module_flavour(root: Path) -> str | None:
    """'open' or 'proprietary', from the loaded module's own banner; None when none is loaded.

    The open modules say "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64 580.95.05",
    the proprietary ones "NVRM version: NVIDIA UNIX x86_64 Kernel Module 535.247.01".
    """
    text = read_text(root, MODULE_VERSION)
    if not isinstance(text, str) or "Kernel Module" not in text:
        return None
    return "open" if "Open Kernel Module" in text else "proprietary"


def device_nodes(root: Path) -> list[str]:
    """The /dev/nvidia* nodes present: none inside a container started without the GPU."""
    dev = under(root, "/dev")
    try:
        return sorted(f"/dev/{p.name}" for p in dev.glob("nvidia*"))
    except OSError:
        return []
