"""Probes of the hardware a run is judged against: CPU peak FLOP/s, NVIDIA GPUs present.

Probes return data (or None with a reason); they do not judge.
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass
class CpuPeak:
    """Estimated fp32 peak of the CPU cores this process may use."""

    cores: int
    ghz: float
    flops_per_cycle: int
    simd: str
    #: cores x GHz x FLOPs/cycle, in GFLOP/s
    gflops: float
    assumptions: str


def _cpu_flags() -> set[str]:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def _max_ghz() -> float | None:
    """Max clock: cpufreq's cpuinfo_max_freq, else psutil's max, else /proc/cpuinfo's MHz."""
    try:
        khz = Path("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq").read_text()
        return int(khz) / 1e6
    except (OSError, ValueError):
        pass
    try:
        import psutil

        freq = psutil.cpu_freq()
        if freq and freq.max:
            return freq.max / 1000.0
    except (ImportError, NotImplementedError, OSError):
        pass
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("cpu mhz"):
                return float(line.split(":", 1)[1]) / 1000.0
    except (OSError, ValueError):
        pass
    return None


def flops_per_cycle(flags: set[str]) -> tuple[int, str]:
    """fp32 FLOPs per cycle per core from the SIMD flags, assuming two FMA units.

    An FMA on a vector of L fp32 lanes is 2L FLOPs: AVX-512 (16 lanes) 32 per unit,
    AVX2 (8 lanes) 16 per unit; server and desktop cores since Haswell have two
    units (some AVX-512 SKUs have one: then the true peak is half of this).
    """
    if "avx512f" in flags and "fma" in flags:
        return 64, "AVX-512 + FMA (2 units x 16 lanes x 2)"
    if "avx2" in flags and "fma" in flags:
        return 32, "AVX2 + FMA (2 units x 8 lanes x 2)"
    if "avx" in flags:
        return 16, "AVX (8-lane add + 8-lane mul)"
    if "sse2" in flags:
        return 8, "SSE2 (4-lane add + 4-lane mul)"
    if "asimd" in flags:
        return 16, "NEON/ASIMD (assumed 2 x 4-lane FMA)"
    return 8, "unknown SIMD (assumed 8)"


def usable_cores() -> int:
    """Physical cores, capped by the CPUs this process may run on."""
    try:
        import psutil

        physical = psutil.cpu_count(logical=False) or os.cpu_count() or 1
    except ImportError:
        physical = os.cpu_count() or 1
    try:
        allowed = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        allowed = physical
    return max(1, min(physical, allowed))


def cpu_peak() -> CpuPeak | None:
    """The CPU's fp32 peak, or None when the clock cannot be read."""
    ghz = _max_ghz()
    if not ghz:
        return None
    per_cycle, simd = flops_per_cycle(_cpu_flags())
    cores = usable_cores()
    return CpuPeak(
        cores=cores,
        ghz=round(ghz, 3),
        flops_per_cycle=per_cycle,
        simd=simd,
        gflops=round(cores * ghz * per_cycle, 1),
        assumptions=(
            "physical cores x max clock x fp32 FLOPs/cycle from the SIMD flags; "
            "all-core turbo and AVX clock offsets ignored"
        ),
    )


def nvidia_gpu_count() -> tuple[int, str | None]:
    """NVIDIA GPUs NVML sees, and why it could not look (None when it could).

    A missing NVML library means no NVIDIA driver, so no usable GPU: count 0.
    """
    try:
        import pynvml
    except ImportError:
        return 0, "nvidia-ml-py is not installed"
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError_LibraryNotFound:
        return 0, "no NVIDIA driver (libnvidia-ml not found)"
    except pynvml.NVMLError as exc:
        return 0, f"NVML could not start: {exc}"
    try:
        return int(pynvml.nvmlDeviceGetCount()), None
    except pynvml.NVMLError as exc:
        return 0, f"NVML could not count GPUs: {exc}"
    finally:
        with contextlib.suppress(pynvml.NVMLError):
            pynvml.nvmlShutdown()


# fp32 dense peak (TFLOP/s, non-tensor-core, boost clock) by a name fragment, from the
# vendors' datasheets. Longest matching fragment wins.
GPU_FP32_TFLOPS: dict[str, float] = {
    "H200": 67.0,
    "H100 SXM": 67.0,
    "H100 PCIe": 51.2,
    "H100": 51.2,
    "A100": 19.5,
    "A10": 31.2,
    "L40S": 91.6,
    "L4": 30.3,
    "V100": 15.7,
    "T4": 8.1,
    "RTX 4090": 82.6,
    "RTX 4080": 48.7,
    "RTX 3090": 35.6,
    "RTX 3080": 29.8,
    "RTX 3060": 12.7,
    "RTX 2080 Ti": 13.4,
    "GTX 1080 Ti": 11.3,
}


def gpu_peak_gflops(name: str | None) -> float | None:
    """fp32 peak of a GPU known by name, in GFLOP/s; None when not in the table."""
    if not name:
        return None
    hits = [frag for frag in GPU_FP32_TFLOPS if frag.lower() in name.lower()]
    if not hits:
        return None
    return GPU_FP32_TFLOPS[max(hits, key=len)] * 1000.0
