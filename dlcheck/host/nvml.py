"""The one module that talks to NVML (the `pynvml` module of nvidia-ml-py).

Everything goes through `query()`: lazy import, nvmlInit, one pass over the
GPUs, nvmlShutdown. Each field is read through `_Reader.read`, the single choke
point where NVMLError_NotSupported becomes "not available" for that field alone.
Errors that stop NVML as a whole (library missing, driver not loaded,
driver/library mismatch, no permission) become a typed `NvmlError`, each kind
with its own hint. A GPU lost in the middle of a query marks that GPU as lost.

Tests pass a fake module object with the same function names and pynvml's real
exception classes, so the error mapping below is exercised for real.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from dlcheck.compat import cuda_version_from_int

log = logging.getLogger(__name__)

# Kinds of whole-NVML failure; stable strings, they appear in JSON (gpu.facts.nvml_error).
MODULE_MISSING = "module_missing"
LIBRARY_NOT_FOUND = "library_not_found"
DRIVER_NOT_LOADED = "driver_not_loaded"
VERSION_MISMATCH = "version_mismatch"
NO_PERMISSION = "no_permission"
GPU_LOST = "gpu_lost"
OTHER = "other"

HINTS = {
    MODULE_MISSING: "pip install nvidia-ml-py (a dependency of dlcheck; the venv may be broken)",
    LIBRARY_NOT_FOUND: (
        "libnvidia-ml.so.1 was not found: install the NVIDIA driver "
        "(provision.sh does it), then reboot"
    ),
    DRIVER_NOT_LOADED: (
        "the nvidia kernel module is not loaded: reboot after a driver install; if Secure "
        "Boot is on, enroll the module's MOK key or sign the module; see `dmesg | grep -i nvidia`"
    ),
    VERSION_MISMATCH: (
        "the loaded kernel module and the user-space driver differ (driver updated without "
        "a reboot): reboot, or reload the nvidia modules"
    ),
    NO_PERMISSION: (
        "no permission to open /dev/nvidia*: check the device nodes' permissions and that "
        "your user may use the GPU (in a container: pass the GPU with --gpus)"
    ),
    GPU_LOST: (
        "the GPU fell off the bus (see `dmesg | grep -i xid`, Xid 79): check power and "
        "seating, then reboot"
    ),
    OTHER: "run `nvidia-smi` for details",
}

# Clock event (throttle) reasons by bit, from nvml.h; GpuIdle (0x1) is ignored on purpose.
THROTTLE_REASONS = {
    0x0002: "applications_clocks_setting",
    0x0004: "sw_power_cap",
    0x0008: "hw_slowdown",
    0x0010: "sync_boost",
    0x0020: "sw_thermal_slowdown",
    0x0040: "hw_thermal_slowdown",
    0x0080: "hw_power_brake_slowdown",
    0x0100: "display_clock_setting",
}


@dataclass
class NvmlError:
    """NVML as a whole could not be used."""

    kind: str
    message: str
    hint: str


@dataclass
class GpuRecord:
    """What NVML said about one GPU. A field it does not support is None and listed."""

    index: int
    fields: dict[str, Any] = field(default_factory=dict)
    not_available: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # field -> NVML error text
    lost: bool = False


@dataclass
class NvmlSnapshot:
    driver_version: str | None = None
    cuda_driver_version: str | None = None  # highest CUDA the driver supports, "12.8"
    gpus: list[GpuRecord] = field(default_factory=list)
    error: NvmlError | None = None


class _GpuLost(Exception):
    """Raised inside the choke point when NVML reports the GPU gone."""


def _load() -> ModuleType | None:
    try:
        return importlib.import_module("pynvml")
    except ImportError:
        return None


def _text(exc: BaseException) -> str:
    # NVMLError.__str__ asks the library for unknown codes; never let that raise here.
    try:
        return str(exc)
    except Exception:  # noqa: BLE001 - formatting must not fail
        return f"NVML error {getattr(exc, 'value', '?')}"


def _classify(lib: ModuleType, exc: BaseException) -> NvmlError:
    code = getattr(exc, "value", None)
    kinds = {
        getattr(lib, "NVML_ERROR_LIBRARY_NOT_FOUND", 12): LIBRARY_NOT_FOUND,
        getattr(lib, "NVML_ERROR_DRIVER_NOT_LOADED", 9): DRIVER_NOT_LOADED,
        getattr(lib, "NVML_ERROR_LIB_RM_VERSION_MISMATCH", 18): VERSION_MISMATCH,
        getattr(lib, "NVML_ERROR_NO_PERMISSION", 4): NO_PERMISSION,
        getattr(lib, "NVML_ERROR_GPU_IS_LOST", 15): GPU_LOST,
    }
    kind = kinds.get(code, OTHER)
    return NvmlError(kind=kind, message=f"NVML: {_text(exc)}", hint=HINTS[kind])


class _Reader:
    """The choke point: every NVML call of a device query goes through `read`."""

    def __init__(self, lib: ModuleType) -> None:
        self.lib = lib
        self.not_supported = {
            getattr(lib, "NVML_ERROR_NOT_SUPPORTED", 3),
            getattr(lib, "NVML_ERROR_FUNCTION_NOT_FOUND", 13),  # older driver lacks the call
        }
        self.lost = getattr(lib, "NVML_ERROR_GPU_IS_LOST", 15)

    def read(self, gpu: GpuRecord, name: str, func: str, *args: Any) -> Any:
        fn = getattr(self.lib, func, None)
        if fn is None:  # an older nvidia-ml-py without this binding
            gpu.not_available.append(name)
            return None
        try:
            return fn(*args)
        except self.lib.NVMLError as exc:
            if exc.value in self.not_supported:
                gpu.not_available.append(name)
            elif exc.value == self.lost:
                raise _GpuLost from exc
            else:
                gpu.errors[name] = _text(exc)
            return None


def _decode(value: Any) -> Any:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def _start(lib: ModuleType | None) -> tuple[ModuleType | None, NvmlError | None]:
    """The NVML module (the real pynvml when `lib` is None), initialised; or why not."""
    if lib is None:
        lib = _load()
    if lib is None:
        return None, NvmlError(
            MODULE_MISSING, "the pynvml module is missing", HINTS[MODULE_MISSING]
        )
    try:
        lib.nvmlInit()
    except lib.NVMLError as exc:
        return None, _classify(lib, exc)
    return lib, None


def _stop(lib: ModuleType) -> None:
    try:
        lib.nvmlShutdown()
    except lib.NVMLError as exc:
        log.debug("nvmlShutdown: %s", _text(exc))


def query(lib: ModuleType | None = None) -> NvmlSnapshot:
    """One pass over NVML. Never raises for NVML's own errors."""
    started, error = _start(lib)
    if started is None:
        return NvmlSnapshot(error=error)
    try:
        return _query_initialised(started)
    finally:
        _stop(started)


def gpu_count(lib: ModuleType | None = None) -> tuple[int, NvmlError | None]:
    """How many GPUs NVML sees, without reading them; (0, why) when NVML cannot be used.

    No NVML library means no NVIDIA driver, so no usable GPU: the count is 0.
    """
    started, error = _start(lib)
    if started is None:
        return 0, error
    try:
        return int(started.nvmlDeviceGetCount()), None
    except started.NVMLError as exc:
        return 0, _classify(started, exc)
    finally:
        _stop(started)


def _query_initialised(lib: ModuleType) -> NvmlSnapshot:
    snap = NvmlSnapshot()
    try:
        snap.driver_version = _decode(lib.nvmlSystemGetDriverVersion())
        snap.cuda_driver_version = cuda_version_from_int(lib.nvmlSystemGetCudaDriverVersion())
        count = lib.nvmlDeviceGetCount()
    except lib.NVMLError as exc:
        snap.error = _classify(lib, exc)
        return snap
    reader = _Reader(lib)
    for index in range(count):
        gpu = GpuRecord(index=index)
        snap.gpus.append(gpu)
        try:
            handle = lib.nvmlDeviceGetHandleByIndex(index)
            _read_device(reader, gpu, handle)
        except _GpuLost:
            gpu.lost = True
        except lib.NVMLError as exc:
            if exc.value == reader.lost:
                gpu.lost = True
            else:
                gpu.errors["handle"] = _text(exc)
    return snap


def _read_device(r: _Reader, gpu: GpuRecord, h: Any) -> None:
    lib, f = r.lib, gpu.fields
    f["name"] = _decode(r.read(gpu, "name", "nvmlDeviceGetName", h))
    f["uuid"] = _decode(r.read(gpu, "uuid", "nvmlDeviceGetUUID", h))
    f["serial"] = _decode(r.read(gpu, "serial", "nvmlDeviceGetSerial", h))
    mem = r.read(gpu, "memory", "nvmlDeviceGetMemoryInfo", h)
    f["memory_total_bytes"] = getattr(mem, "total", None)
    f["memory_used_bytes"] = getattr(mem, "used", None)
    cc = r.read(gpu, "compute_capability", "nvmlDeviceGetCudaComputeCapability", h)
    f["compute_capability"] = f"{cc[0]}.{cc[1]}" if cc else None
    f["temperature_c"] = r.read(
        gpu, "temperature_c", "nvmlDeviceGetTemperature", h, lib.NVML_TEMPERATURE_GPU
    )
    power = r.read(gpu, "power_w", "nvmlDeviceGetPowerUsage", h)
    f["power_w"] = round(power / 1000, 1) if power is not None else None
    limit = r.read(gpu, "power_limit_w", "nvmlDeviceGetEnforcedPowerLimit", h)
    f["power_limit_w"] = round(limit / 1000, 1) if limit is not None else None
    for key, func, clock in (
        ("sm_clock_mhz", "nvmlDeviceGetClockInfo", lib.NVML_CLOCK_SM),
        ("sm_clock_max_mhz", "nvmlDeviceGetMaxClockInfo", lib.NVML_CLOCK_SM),
        ("mem_clock_mhz", "nvmlDeviceGetClockInfo", lib.NVML_CLOCK_MEM),
        ("mem_clock_max_mhz", "nvmlDeviceGetMaxClockInfo", lib.NVML_CLOCK_MEM),
    ):
        f[key] = r.read(gpu, key, func, h, clock)
    for key, func in (
        ("pcie_gen", "nvmlDeviceGetCurrPcieLinkGeneration"),
        ("pcie_gen_max", "nvmlDeviceGetMaxPcieLinkGeneration"),
        ("pcie_width", "nvmlDeviceGetCurrPcieLinkWidth"),
        ("pcie_width_max", "nvmlDeviceGetMaxPcieLinkWidth"),
    ):
        f[key] = r.read(gpu, key, func, h)
    func = (
        "nvmlDeviceGetCurrentClocksEventReasons"
        if hasattr(lib, "nvmlDeviceGetCurrentClocksEventReasons")
        else "nvmlDeviceGetCurrentClocksThrottleReasons"
    )
    mask = r.read(gpu, "throttle_reasons", func, h)
    f["throttle_reasons"] = (
        [name for bit, name in THROTTLE_REASONS.items() if mask & bit] if mask is not None else None
    )
    f["ecc_volatile_uncorrected"] = r.read(
        gpu,
        "ecc_volatile_uncorrected",
        "nvmlDeviceGetTotalEccErrors",
        h,
        lib.NVML_MEMORY_ERROR_TYPE_UNCORRECTED,
        lib.NVML_VOLATILE_ECC,
    )
    retired = None
    for cause in (
        lib.NVML_PAGE_RETIREMENT_CAUSE_MULTIPLE_SINGLE_BIT_ECC_ERRORS,
        lib.NVML_PAGE_RETIREMENT_CAUSE_DOUBLE_BIT_ECC_ERROR,
    ):
        pages = r.read(gpu, "retired_pages", "nvmlDeviceGetRetiredPages", h, cause)
        if pages is not None:
            retired = (retired or 0) + len(pages)
    f["retired_pages"] = retired
    if gpu.not_available.count("retired_pages") > 1:
        gpu.not_available.remove("retired_pages")
    rows = r.read(gpu, "pending_row_remaps", "nvmlDeviceGetRemappedRows", h)
    f["pending_row_remaps"] = bool(rows[2]) if rows else None
    f["row_remap_failure"] = bool(rows[3]) if rows else None
    persistence = r.read(gpu, "persistence_mode", "nvmlDeviceGetPersistenceMode", h)
    f["persistence_mode"] = bool(persistence) if persistence is not None else None
    mig = r.read(gpu, "mig_mode", "nvmlDeviceGetMigMode", h)
    f["mig_mode"] = bool(mig[0]) if mig else None
