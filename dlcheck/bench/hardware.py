"""The GPU's fp32 peak a run is judged against, looked up by the GPU's name.

The CPU's peak is measured from the machine itself: dlcheck.host.cpu.
"""

from __future__ import annotations

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
