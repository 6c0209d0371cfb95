"""Judge the host: disk space, AVX for TensorFlow wheels, RAM, unreadable files."""

from __future__ import annotations

from dlcheck.doctor.checks.result import GIB, gib, make_result
from dlcheck.doctor.context import Context
from dlcheck.doctor.model import CheckResult, Finding, Status

# Thresholds (documented in docs/doctor.md).
DISK_WARN_BYTES = 10 * GIB  # a TensorFlow GPU venv alone is ~6 GiB
DISK_FAIL_BYTES = 2 * GIB
RAM_WARN_BYTES = 4 * GIB


def check(ctx: Context) -> CheckResult:
    h = ctx.host()
    findings: list[Finding] = []
    for path, free in h.disk_free_bytes.items():
        if free < DISK_FAIL_BYTES:
            findings.append(
                Finding(
                    Status.FAIL,
                    "host.disk_low",
                    f"only {gib(free)} free at {path} (below {gib(DISK_FAIL_BYTES)})",
                    "free disk space there: installs and checkpoints will fail",
                )
            )
        elif free < DISK_WARN_BYTES:
            findings.append(
                Finding(
                    Status.WARN,
                    "host.disk_low",
                    f"{gib(free)} free at {path} (below {gib(DISK_WARN_BYTES)})",
                    "a GPU framework install needs several GiB; free some space",
                )
            )
    if h.cpu_flags is not None and "avx" not in h.cpu_flags:
        findings.append(
            Finding(
                Status.FAIL,
                "host.no_avx",
                "the CPU has no AVX: TensorFlow's pip wheels will not import",
                "use a CPU with AVX, or build TensorFlow from source",
            )
        )
    if h.ram_bytes is not None and h.ram_bytes < RAM_WARN_BYTES:
        findings.append(
            Finding(
                Status.WARN,
                "host.ram_low",
                f"{gib(h.ram_bytes)} RAM (below {gib(RAM_WARN_BYTES)})",
                "training even small models may swap; add RAM",
            )
        )
    for reason in h.unreadable:
        findings.append(
            Finding(
                Status.WARN,
                "host.unreadable",
                reason,
                "check that /proc and /sys are mounted and readable",
            )
        )
    if h.secure_boot == "enabled":
        findings.append(
            Finding(
                Status.OK,
                "host.secure_boot",
                "Secure Boot is on: third-party kernel modules (the NVIDIA driver) must be signed",
            )
        )
    facts = {
        "os": h.os,
        "kernel": h.kernel,
        "cpu_model": h.cpu_model,
        "cpu_cores_logical": h.cpu_cores_logical,
        "cpu_cores_physical": h.cpu_cores_physical,
        "simd": h.simd,
        "ram_bytes": h.ram_bytes,
        "python": h.python,
        "python_executable": h.python_executable,
        "in_venv": h.in_venv,
        "container": h.container,
        "secure_boot": h.secure_boot,
        "disk_free_bytes": h.disk_free_bytes,
    }
    cores = h.cpu_cores_logical or "?"
    venv = "venv" if h.in_venv else "no venv"
    where = f", in {h.container}" if h.container else ""
    summary = (
        f"{h.os or 'unknown OS'}, {cores} CPUs, {gib(h.ram_bytes)} RAM, "
        f"Python {h.python} ({venv}){where}"
    )
    return make_result("host", "Host", summary, findings, facts)
