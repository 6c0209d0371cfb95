"""Fakes at the boundaries that cannot exist on a CPU-only host: NVML and /sys.

FakeNvml has the same function names as pynvml and raises pynvml's REAL
exception classes with the real error codes, so dlcheck's mapping is exercised
exactly as it would be against the library.
"""

from __future__ import annotations

import copy
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pynvml

#: The framework probe's facts for TensorFlow 2.21 on a working GPU host.
TF_2_21_GPU = {
    "version": "2.21.0",
    "built_with_cuda": True,
    "cuda": "12.5.1",
    "cudnn": "9",
    "archs": ["sm_60", "sm_70", "sm_80", "sm_89", "compute_90"],
    "gpus": ["/physical_device:GPU:0"],
    "gpu_op_ok": True,
}

H100 = {
    "name": "NVIDIA H100 80GB HBM3",
    "uuid": "GPU-3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b",
    "serial": "1654922000123",
    "memory": SimpleNamespace(total=85_520_809_984, used=1_048_576, free=85_519_761_408),
    "cc": (9, 0),
    "temperature": 34,
    "power_mw": 71_000,
    "power_limit_mw": 700_000,
    "clocks": {pynvml.NVML_CLOCK_SM: 345, pynvml.NVML_CLOCK_MEM: 2619},
    "max_clocks": {pynvml.NVML_CLOCK_SM: 1980, pynvml.NVML_CLOCK_MEM: 2619},
    "pcie": (5, 5, 16, 16),  # gen, gen max, width, width max
    "reasons": 0x1,  # GPU idle only: must be ignored
    "ecc": 0,
    "retired": [],
    "remap": (0, 0, 0, 0),
    "persistence": 1,
    "mig": [0, 0],
}

# pynvml function -> how to answer it from a GPU dict
ANSWERS = {
    "nvmlDeviceGetName": lambda g: g["name"],
    "nvmlDeviceGetUUID": lambda g: g["uuid"],
    "nvmlDeviceGetSerial": lambda g: g["serial"],
    "nvmlDeviceGetMemoryInfo": lambda g: g["memory"],
    "nvmlDeviceGetCudaComputeCapability": lambda g: g["cc"],
    "nvmlDeviceGetTemperature": lambda g, sensor: g["temperature"],
    "nvmlDeviceGetPowerUsage": lambda g: g["power_mw"],
    "nvmlDeviceGetEnforcedPowerLimit": lambda g: g["power_limit_mw"],
    "nvmlDeviceGetClockInfo": lambda g, kind: g["clocks"][kind],
    "nvmlDeviceGetMaxClockInfo": lambda g, kind: g["max_clocks"][kind],
    "nvmlDeviceGetCurrPcieLinkGeneration": lambda g: g["pcie"][0],
    "nvmlDeviceGetMaxPcieLinkGeneration": lambda g: g["pcie"][1],
    "nvmlDeviceGetCurrPcieLinkWidth": lambda g: g["pcie"][2],
    "nvmlDeviceGetMaxPcieLinkWidth": lambda g: g["pcie"][3],
    "nvmlDeviceGetCurrentClocksEventReasons": lambda g: g["reasons"],
    "nvmlDeviceGetTotalEccErrors": lambda g, kind, counter: g["ecc"],
    "nvmlDeviceGetRetiredPages": lambda g, cause: g["retired"],
    "nvmlDeviceGetRemappedRows": lambda g: g["remap"],
    "nvmlDeviceGetPersistenceMode": lambda g: g["persistence"],
    "nvmlDeviceGetMigMode": lambda g: g["mig"],
}


class FakeNvml:
    """A pynvml stand-in. Scenarios set `init_error`, `not_supported`, `lost_after`..."""

    NVMLError = pynvml.NVMLError

    def __init__(
        self,
        gpus: list[dict[str, Any]] | None = None,
        driver: str = "580.95.05",  # R580, long term support
        cuda: int = 13000,
        init_error: int | None = None,
        not_supported: set[str] | None = None,
        field_errors: dict[str, int] | None = None,
        lost_after: dict[int, int] | None = None,
    ) -> None:
        for name in dir(pynvml):
            if name.startswith("NVML_"):
                setattr(self, name, getattr(pynvml, name))
        self.gpus = gpus if gpus is not None else [copy.deepcopy(H100)]
        self.driver, self.cuda = driver, cuda
        self.init_error = init_error
        self.not_supported = not_supported or set()  # pynvml function names
        self.field_errors = field_errors or {}  # function name -> NVML error code
        self.lost_after = lost_after or {}  # gpu index -> calls answered before it is lost
        self.calls: dict[int, int] = {}
        self.initialised = 0
        self.shutdowns = 0

    def nvmlInit(self) -> None:
        if self.init_error is not None:
            raise pynvml.NVMLError(self.init_error)
        self.initialised += 1

    def nvmlShutdown(self) -> None:
        self.shutdowns += 1

    def nvmlSystemGetDriverVersion(self) -> str:
        return self.driver

    def nvmlSystemGetCudaDriverVersion(self) -> int:
        return self.cuda

    def nvmlDeviceGetCount(self) -> int:
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:
        return index

    def __getattr__(self, name: str) -> Any:
        if name not in ANSWERS:
            raise AttributeError(name)

        def call(handle: int, *args: Any) -> Any:
            count = self.calls.get(handle, 0)
            self.calls[handle] = count + 1
            if handle in self.lost_after and count >= self.lost_after[handle]:
                raise pynvml.NVMLError(pynvml.NVML_ERROR_GPU_IS_LOST)
            if name in self.not_supported:
                raise pynvml.NVMLError(pynvml.NVML_ERROR_NOT_SUPPORTED)
            if name in self.field_errors:
                raise pynvml.NVMLError(self.field_errors[name])
            return ANSWERS[name](self.gpus[handle], *args)

        return call


def make_pci(root: Path, address: str, vendor: str, klass: str, driver: str | None = None) -> Path:
    """A PCI function in a fake /sys tree, optionally bound to a driver."""
    dev = root / "sys/bus/pci/devices" / address
    dev.mkdir(parents=True)
    (dev / "vendor").write_text(vendor + "\n")
    (dev / "class").write_text(klass + "\n")
    (dev / "device").write_text("0x2330\n")
    if driver:
        target = root / "sys/bus/pci/drivers" / driver
        target.mkdir(parents=True, exist_ok=True)
        (dev / "driver").symlink_to(target)
    return dev


def fake_root(tmp_path: Path) -> Path:
    """An empty host: /sys/bus/pci/devices exists, no modules, no EFI."""
    root = tmp_path / "root"
    (root / "sys/bus/pci/devices").mkdir(parents=True)
    (root / "sys/module").mkdir(parents=True)
    (root / "proc").mkdir(parents=True)
    (root / "proc/modules").write_text("")
    return root
