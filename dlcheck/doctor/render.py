"""Human output, in the shape of `flutter doctor`: one line per area, a fix under each problem."""

from __future__ import annotations

import json
from typing import Any

from dlcheck.doctor.model import CheckResult, Report, Status
from dlcheck.shared import ASCII_STATUS_MARKS, STATUS_MARKS

COLORS = {Status.OK: "green", Status.WARN: "yellow", Status.FAIL: "red", Status.ERROR: "magenta"}


def render(report: Report, verbose: int = 0, unicode: bool = True) -> list[tuple[str, str | None]]:
    """Lines of text, each with a colour name (or None) for the CLI to style."""
    marks = STATUS_MARKS if unicode else ASCII_STATUS_MARKS
    lines: list[tuple[str, str | None]] = []
    for check in report.checks:
        mark = marks[check.status.value]
        timing = f"  ({check.duration_s:.1f}s)" if verbose else ""
        lines.append((f"[{mark}] {check.title}: {check.summary}{timing}", COLORS.get(check.status)))
        for finding in check.findings:
            shown = finding.status in (Status.WARN, Status.FAIL, Status.ERROR)
            if not shown and not verbose:
                continue
            lines.append((f"    {marks[finding.status.value]} {finding.message}", None))
            if finding.hint and (shown or verbose > 1):
                arrow = "→" if unicode else "->"
                lines.append((f"      {arrow} {finding.hint}", None))
        if verbose:
            lines.extend(
                (f"    • {line}" if unicode else f"    * {line}", None) for line in _facts(check)
            )
    lines.append(("", None))
    lines.append((summary_line(report), COLORS.get(report.status)))
    return lines


def summary_line(report: Report) -> str:
    c = report.counts()
    took = f" ({report.duration_s:.1f}s)"
    skipped = f"; {c['skip']} skipped" if c["skip"] else ""
    problems = c["fail"] + c["warn"] + c["error"]
    if not problems:
        return f"No issues found{skipped}.{took}"
    parts = []
    for key, word in (("fail", "failed"), ("error", "crashed"), ("warn", "with warnings")):
        if c[key]:
            parts.append(f"{c[key]} {word}")
    areas = "area" if problems == 1 else "areas"
    return f"Doctor found issues in {problems} {areas}: {', '.join(parts)}{skipped}.{took}"


def _facts(check: CheckResult) -> list[str]:
    out: list[str] = []
    for key, value in check.facts.items():
        if key == "gpus" and isinstance(value, list):
            for gpu in value:
                out.append(f"gpu {gpu.get('index')}:")
                na = set(gpu.get("not_available") or [])
                for k, v in gpu.items():
                    if k in ("index", "not_available"):
                        continue
                    out.append(f"  {k}: {'not available' if k in na and v is None else _fmt(v)}")
            continue
        if value is None:
            continue  # not measured (e.g. no NVML error, a library not installed)
        out.append(f"{key}: {_fmt(value)}")
    return out


def _fmt(value: Any) -> str:
    if value is None:
        return "unknown"
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str)
    return str(value)
