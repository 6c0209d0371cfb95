"""The CPU: one reading of /proc/cpuinfo (model, SIMD flags, clock) and its fp32 peak.

The doctor reports these facts and the bench judges a run against the peak; both read
them here. `root` is injectable so tests can feed a fake /proc.
"""

from __future__ import annotations

import os
import platform
import re
from dataclasses import dataclass
from pathlib import Path

CPUINFO = "/proc/cpuinfo"
#: cpufreq's maximum clock of core 0, in kHz
MAX_FREQ = "/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq"


@dataclass
class CpuInfo:
    """What /proc/cpuinfo says about the first core (x86 and Arm list the same flags per core)."""

    model: str | None = None
    #: None: /proc/cpuinfo could not be read (see `error`)
    flags: set[str] | None = None
    #: the first core's current clock ("cpu MHz"); not every kernel reports it
    mhz: float | None = None
    #: why /proc/cpuinfo could not be read
    error: str | None = None


def parse_cpuinfo(text: str) -> CpuInfo:
    model = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    flags = re.search(r"^(?:flags|Features)\s*:\s*(.*)$", text, re.MULTILINE)
    mhz = re.search(r"^cpu MHz\s*:\s*([\d.]+)", text, re.MULTILINE | re.IGNORECASE)
    return CpuInfo(
        model=model.group(1).strip() if model else None,
        flags=set(flags.group(1).split()) if flags else set(),
        mhz=float(mhz.group(1)) if mhz else None,
    )


def read_cpuinfo(root: Path = Path("/")) -> CpuInfo:
    """/proc/cpuinfo under `root`, parsed; an unreadable file is a CpuInfo with `error`."""
    try:
        text = (root / CPUINFO.lstrip("/")).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return CpuInfo(error=f"{CPUINFO} does not exist")
    except OSError as exc:
        return CpuInfo(error=f"cannot read {CPUINFO}: {exc.strerror or type(exc).__name__}")
    return parse_cpuinfo(text)


def cpu_name(info: CpuInfo | None = None) -> str:
    """A name for the CPU, for people: cpuinfo's model name, else what `platform` knows."""
    info = info or read_cpuinfo()
    return info.model or platform.processor() or platform.machine()


def max_ghz(info: CpuInfo | None = None) -> float | None:
    """Max clock: cpufreq's cpuinfo_max_freq, else psutil's max, else cpuinfo's MHz."""
    try:
        return int(Path(MAX_FREQ).read_text()) / 1e6
    except (OSError, ValueError):
        pass
    try:
        import psutil

        freq = psutil.cpu_freq()
        if freq and freq.max:
            return freq.max / 1000.0
    except (ImportError, NotImplementedError, OSError):
        pass
    mhz = (info or read_cpuinfo()).mhz
    return mhz / 1000.0 if mhz else None


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

    @property
    def basis(self) -> str:
        return (
            f"{self.cores} cores x {self.ghz} GHz x {self.flops_per_cycle} FLOPs/cycle "
            f"({self.simd})"
        )


def cpu_peak(info: CpuInfo | None = None) -> CpuPeak | None:
    """The CPU's fp32 peak, or None when the clock cannot be read."""
    info = info or read_cpuinfo()
    ghz = max_ghz(info)
    if not ghz:
        return None
    per_cycle, simd = flops_per_cycle(info.flags or set())
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
