"""The terminal view of a fleet: the hosts x check areas table, problems, differences.

Every string taken from a report (hostnames, groups, messages, fact values) is outside
text and goes through `printable` before it reaches the terminal.
"""

from __future__ import annotations

from dlcheck.printable import printable
from dlcheck.report.facts import FACTS_BY_KEY, format_number
from dlcheck.report.load import area_columns
from dlcheck.report.model import Difference, Fleet
from dlcheck.shared import STATUS_MARKS as MARKS

ABSENT = "·"
LEGEND = "✓ ok   ! warning   ✗ failed   ‽ check crashed   - skipped   · not run"
SHORT = {"libraries": "libs", "frameworks": "frameworks"}
# Long host lists are cut in the terminal; --json and --html carry them all.
MAX_HOSTS_SHOWN = 8


def mark(status: str | None) -> str:
    return MARKS.get(status or "", ABSENT)


def host_label(status: str) -> str:
    return status.upper() if status in {"unreachable", "missing", "fail", "error"} else status


def summary_line(fleet: Fleet) -> str:
    counts = {k: v for k, v in fleet.counts().items() if v}
    parts = ", ".join(f"{v} {k}" for k, v in counts.items())
    groups = fleet.groups()
    grouping = f" in {len(groups)} groups" if groups else ""
    return f"{len(fleet.hosts)} host(s){grouping}: {parts}"


def render_text(fleet: Fleet, show_warnings: bool = False) -> str:
    lines = [f"dlcheck report: {summary_line(fleet)}", ""]
    lines += _table(fleet)
    lines += ["", f"Legend: {LEGEND}"]
    problems = _problems(fleet, show_warnings)
    hidden = 0 if show_warnings else sum(h.status == "warn" for h in fleet.hosts)
    if hidden:
        problems.append(f"  ({hidden} host(s) with warnings; -v lists them)")
    if problems:
        lines += ["", "Problems:"] + problems
    lines += ["", *_differences(fleet)]
    return "\n".join(lines).rstrip() + "\n"


def _table(fleet: Fleet) -> list[str]:
    columns = area_columns(fleet)
    with_group = bool(fleet.groups())
    header = ["HOST"] + (["GROUP"] if with_group else []) + ["STATUS"]
    header += [printable(SHORT.get(c, c)) for c in columns]  # check names come from reports
    rows = []
    for host in fleet.hosts:
        row = [printable(host.hostname)] + ([printable(host.group or "-")] if with_group else [])
        row.append(host_label(host.status))
        row += [mark(host.checks.get(c)) for c in columns]
        rows.append(row)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    fixed = len(header) - len(columns)

    def fmt(row: list[str]) -> str:
        left = [cell.ljust(widths[i]) for i, cell in enumerate(row[:fixed])]
        # Marks are centred under their area name.
        right = [cell.center(widths[fixed + i]) for i, cell in enumerate(row[fixed:])]
        return "  ".join(left + right).rstrip()

    return [fmt(header)] + [fmt(r) for r in rows]


def _problems(fleet: Fleet, show_warnings: bool) -> list[str]:
    out: list[str] = []
    for host in fleet.hosts:
        name = printable(host.hostname)
        if host.stub is not None:
            out.append(f"  {name}: {host.status}: {printable(host.message or 'no report')}")
            continue
        for finding in host.problems(include_warnings=show_warnings):
            sign = mark(finding.get("status"))
            check, message = printable(finding["check"]), printable(finding["message"])
            out.append(f"  {name}: {sign} {check}: {message}")
            if finding.get("hint"):
                out.append(f"      fix: {printable(finding['hint'])}")
    return out


def _hosts(names: list[str]) -> str:
    shown = ", ".join(printable(name) for name in names[:MAX_HOSTS_SHOWN])
    more = len(names) - MAX_HOSTS_SHOWN
    return shown + (f", ... (+{more} more)" if more > 0 else "")


def describe(diff: Difference) -> str:
    if diff.kind == "numeric":
        median = format_number(FACTS_BY_KEY[diff.key], diff.median or 0.0)
        return f"{diff.label} (median {median} over {diff.reported} hosts; beyond {diff.tolerance})"
    return diff.label


def _differences(fleet: Fleet) -> list[str]:
    reporting = [h for h in fleet.hosts if h.doctor is not None or h.bench is not None]
    if len(reporting) < 2:
        return ["Differences: only one host reported; nothing to compare."]
    if not fleet.differences:
        scope = "each group" if fleet.grouped else "all hosts"
        return [f"Differences: none; every compared fact is the same on {scope}."]
    out = ["Differences (facts not the same on all hosts of a group):"]
    current = None
    for diff in fleet.differences:
        if diff.group != current:
            current = diff.group
            members = [h for h in reporting if (h.group or "(no group)") == diff.group]
            count = len(members) if fleet.grouped else len(reporting)
            out.append(f"  group {printable(diff.group)} ({count} hosts)")
        out.append(f"    {printable(describe(diff))}:")
        shown = [printable(v.value) for v in diff.values]
        width = max(len(text) for text in shown)
        for value, text in zip(diff.values, shown, strict=True):
            n = len(value.hosts)
            count = f"{n} host{'s' if n != 1 else ''}"
            out.append(f"      {text.ljust(width)}  {count}: {_hosts(value.hosts)}")
    return out
