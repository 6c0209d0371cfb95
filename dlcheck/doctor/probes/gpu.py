"""NVIDIA GPUs as the PCI bus, the kernel modules and NVML see them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from dlcheck.doctor.probes import Unavailable
from dlcheck.doctor.probes.devices import device_nodes, kernel_module_flavour
from dlcheck.doctor.probes.driver_install import DriverInstall, probe_driver_install
from dlcheck.doctor.probes.sysfs import read_text, under
from dlcheck.host import nvml

NVIDIA_VENDOR = "0x10de"
PCI_DEVICES = "/sys/bus/pci/devices"


@dataclass
class PciDevice:
    address: str
    device_id: str | None
    class_code: str  # '0x030200' (3D controller), '0x030000' (VGA)
    driver: str | None  # kernel driver bound to it: 'nvidia', 'nouveau', 'vfio-pci' or None


@dataclass
class GpuProbe:
    pci: list[PciDevice] | Unavailable
    nouveau_loaded: bool
    nvidia_module_loaded: bool
    nvml: nvml.NvmlSnapshot
    unreadable: list[str] = field(default_factory=list)
    module_flavour: str | None = None  # 'open' / 'proprietary' / None (not loaded)
    device_nodes: list[str] = field(default_factory=list)  # /dev/nvidia*
    install: DriverInstall = field(default_factory=lambda: DriverInstall(packages={}))

    @property
    def nvidia_gpu_present(self) -> bool:
        """NVML sees a GPU, or the PCI bus shows one (a GPU without a working driver)."""
        return bool(self.nvml.gpus) or (isinstance(self.pci, list) and bool(self.pci))


def nvidia_pci_devices(root: Path) -> tuple[list[PciDevice] | Unavailable, list[str]]:
    """NVIDIA display-class functions (0x03xxxx): skips their HDMI audio and USB functions."""
    base = under(root, PCI_DEVICES)
    try:
        entries = sorted(base.iterdir())
    except FileNotFoundError:
        return Unavailable(f"{PCI_DEVICES} does not exist"), []
    except OSError as exc:
        return Unavailable(f"cannot list {PCI_DEVICES}: {exc.strerror or exc}"), []
    found: list[PciDevice] = []
    unreadable: list[str] = []
    for entry in entries:
        rel = f"{PCI_DEVICES}/{entry.name}"
        vendor = read_text(root, f"{rel}/vendor")
        if isinstance(vendor, Unavailable):
            unreadable.append(vendor.reason)
            continue
        if vendor.strip().lower() != NVIDIA_VENDOR:
            continue
        klass = read_text(root, f"{rel}/class")
        if isinstance(klass, Unavailable):
            unreadable.append(klass.reason)
            continue
        if not klass.strip().lower().startswith("0x03"):
            continue
        device = read_text(root, f"{rel}/device")
        driver_link = entry / "driver"
        driver = driver_link.resolve().name if driver_link.exists() else None
        found.append(
            PciDevice(
                address=entry.name,
                device_id=device.strip() if isinstance(device, str) else None,
                class_code=klass.strip(),
                driver=driver,
            )
        )
    return found, unreadable


def module_loaded(root: Path, name: str) -> bool:
    if under(root, f"/sys/module/{name}").exists():
        return True
    modules = read_text(root, "/proc/modules")
    return isinstance(modules, str) and any(
        line.split(" ", 1)[0] == name for line in modules.splitlines()
    )


def probe_gpu(root: Path = Path("/"), nvml_lib: ModuleType | None = None) -> GpuProbe:
    pci, unreadable = nvidia_pci_devices(root)
    return GpuProbe(
        pci=pci,
        nouveau_loaded=module_loaded(root, "nouveau"),
        nvidia_module_loaded=module_loaded(root, "nvidia"),
        nvml=nvml.query(nvml_lib),
        unreadable=unreadable,
        module_flavour=kernel_module_flavour(root),
        device_nodes=device_nodes(root),
        install=probe_driver_install(root),
    )
