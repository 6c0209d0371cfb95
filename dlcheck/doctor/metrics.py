"""The doctor's report as Prometheus metrics, for node_exporter's textfile collector.

The text exposition format (prometheus.io/docs/instrumenting/exposition_formats/):
`# HELP` and `# TYPE` once per metric family, then its samples, all of a family's
samples together. Label values escape backslash, double quote and newline. The
textfile collector reads every `*.prom` file of its directory and rejects sample
timestamps, so the time of the run is a metric of its own.

A state (a check's status, an NVML failure kind, a throttle reason) is written as a
state set: one sample per possible value, 1 for the current one and 0 for the rest,
so an alert selects `{status="fail"} == 1` and a state that went away reads 0
instead of vanishing. A fact the doctor could not read is left out, never written
as a made-up 0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from dlcheck.doctor.model import Report, Status
from dlcheck.host import nvml
from dlcheck.host.files import write_text

#: the file the doctor writes into the textfile directory
TEXTFILE_NAME = "dlcheck.prom"

#: every status a check can have, in the doctor's order (best to worst)
STATUSES = [s.value for s in sorted(Status, key=lambda s: s.rank)]
#: every kind of whole-NVML failure
NVML_ERRORS = list(nvml.HINTS)
#: every throttle reason the doctor reports
THROTTLE_REASONS = list(nvml.THROTTLE_REASONS.values())

# Per-GPU numeric facts: (metric name, fact key, help). Booleans are written as 0/1.
GPU_GAUGES = [
    ("dlcheck_gpu_temperature_celsius", "temperature_c", "GPU core temperature."),
    ("dlcheck_gpu_memory_total_bytes", "memory_total_bytes", "Framebuffer memory in total."),
    ("dlcheck_gpu_memory_used_bytes", "memory_used_bytes", "Framebuffer memory in use."),
    ("dlcheck_gpu_power_watts", "power_w", "Power draw."),
    ("dlcheck_gpu_power_limit_watts", "power_limit_w", "Enforced power limit."),
    (
        "dlcheck_gpu_ecc_volatile_uncorrected_errors",
        "ecc_volatile_uncorrected",
        "Uncorrected ECC errors since the driver loaded.",
    ),
    ("dlcheck_gpu_retired_pages", "retired_pages", "Memory pages retired (both causes)."),
    (
        "dlcheck_gpu_row_remap_pending",
        "pending_row_remaps",
        "1 when a row remap waits for a GPU reset.",
    ),
    ("dlcheck_gpu_row_remap_failed", "row_remap_failure", "1 when a row remap failed."),
    ("dlcheck_gpu_lost", "lost", "1 when the GPU fell off the bus during the query."),
]


def escape_label(value: str) -> str:
    """A label value as the text format requires: backslash, quote and newline escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _number(value: Any) -> str | None:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return None


@dataclass
class _Family:
    name: str
    help: str
    samples: list[tuple[dict[str, str], str]] = field(default_factory=list)

    def add(self, labels: dict[str, Any], value: Any) -> None:
        text = _number(value)
        if text is not None:  # unknown stays unknown
            self.samples.append(({k: str(v) for k, v in labels.items()}, text))

    def states(self, labels: dict[str, Any], label: str, values: list[str], current: set) -> None:
        for value in values:
            self.add({**labels, label: value}, value in current)

    def lines(self) -> list[str]:
        if not self.samples:  # e.g. no GPU: no family at all
            return []
        out = [f"# HELP {self.name} {_escape_help(self.help)}", f"# TYPE {self.name} gauge"]
        for labels, value in self.samples:
            pairs = ",".join(f'{k}="{escape_label(v)}"' for k, v in labels.items())
            out.append(f"{self.name}{{{pairs}}} {value}" if pairs else f"{self.name} {value}")
        return out


def render(report: Report) -> str:
    """The report in the text exposition format, one gauge family after another."""
    families: dict[str, _Family] = {}

    def family(name: str, help_text: str) -> _Family:
        return families.setdefault(name, _Family(name, help_text))

    created = datetime.fromisoformat(report.created.replace("Z", "+00:00"))
    family(
        "dlcheck_doctor_last_run_timestamp_seconds", "When the doctor last ran (Unix time)."
    ).add({}, float(created.timestamp()))
    family("dlcheck_doctor_duration_seconds", "Wall time of the doctor's last run.").add(
        {}, float(round(report.duration_s, 3))
    )
    family("dlcheck_doctor_info", "The dlcheck that wrote these metrics, and the host it saw.").add(
        {"version": report.dlcheck_version, "hostname": report.hostname}, 1
    )
    family(
        "dlcheck_doctor_status", "The doctor's verdict (its worst check): 1 for the current status."
    ).states({}, "status", STATUSES, {report.status.value})
    checks = family(
        "dlcheck_check_status", "Each check's verdict: 1 for its current status, 0 for the others."
    )
    for check in report.checks:
        checks.states({"check": check.name}, "status", STATUSES, {check.status.value})

    gpu = next((c for c in report.checks if c.name == "gpu"), None)
    if gpu is not None:
        _gpu_families(gpu.facts, family)
    lines = [line for f in families.values() for line in f.lines()]
    return "\n".join(lines) + "\n"


def _gpu_families(facts: dict[str, Any], family: Callable[[str, str], _Family]) -> None:
    family(
        "dlcheck_nvml_error",
        "Why NVML could not be used (version_mismatch: driver updated without a reboot); "
        "all 0 when it could.",
    ).states({}, "kind", NVML_ERRORS, {facts.get("nvml_error")})
    driver = facts.get("driver_version")
    if driver is not None:
        family("dlcheck_driver_info", "The NVIDIA driver NVML reports, and its highest CUDA.").add(
            {"driver_version": driver, "cuda_version": facts.get("cuda_driver_version") or ""}, 1
        )
    gpus = facts.get("gpus") or []
    info = family("dlcheck_gpu_info", "One per GPU: its name, UUID and the driver it runs on.")
    for g in gpus:
        labels = {"gpu": g["index"], "uuid": g.get("uuid") or ""}
        info.add(
            {
                **labels,
                "name": g.get("name") or "",
                "compute_capability": g.get("compute_capability") or "",
                "driver_version": driver or "",
            },
            1,
        )
        for name, key, help_text in GPU_GAUGES:
            family(name, help_text).add(labels, g.get(key))
        reasons = g.get("throttle_reasons")
        if reasons is not None:
            family(
                "dlcheck_gpu_throttle_reason",
                "Active clock event (throttle) reasons, idle excluded: 1 when active.",
            ).states(labels, "reason", THROTTLE_REASONS, set(reasons))


def write_textfile(directory: Path, text: str, name: str = TEXTFILE_NAME) -> Path:
    """Replace `directory/name` whole (temporary file, fsync, rename), so the collector
    never reads half a file and a failed write leaves the previous one. The temporary
    name does not end in `.prom`, so it is never collected; the file is world-readable
    because the collector runs as its own user.
    """
    target = directory / name
    write_text(target, text, what="the metrics file", tmp_suffix=".tmp", mode=0o644)
    return target
