"""Read report files into a Fleet: validate, de-duplicate, merge bench into doctor, compare.

Bad files never stop the run: each is named in `Fleet.skipped` with the reason.
Only input that leaves nothing to report (an empty folder, no JSON at all, no
readable report) raises ReportError.
"""

from __future__ import annotations

import json
import logging
import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from dlcheck.errors import ReportError
from dlcheck.host.files import check_source
from dlcheck.report import facts as facts_mod
from dlcheck.report.model import AREAS, Fleet, HostEntry, Skipped, status_rank
from dlcheck.report.schema import BENCH, DOCTOR, STUB, SchemaError, validate

log = logging.getLogger(__name__)

#: the sidecar verify.yml writes next to the reports: file name -> inventory name and group
RUN_SCHEMA = "dlcheck.verify-run"
_BENCH_STATUS = {"ok": "ok", "warn": "warn", "fail": "fail", "failed": "fail", "error": "error"}

# Limits on what a report file may hold, so that a hostile or broken file is skipped with
# a reason instead of exhausting memory or the stack. dlcheck's own reports are far
# inside them: a doctor report is some 20 KB, nested 6 levels deep.
#: largest report file read
MAX_REPORT_BYTES = 64 * 2**20
#: deepest nesting of objects and arrays
MAX_DEPTH = 32
#: most digits in an integer: 2**63 has 19, enough for every byte count and clock
MAX_INT_DIGITS = 19


def collect_files(paths: list[Path]) -> list[Path]:
    """Expand folders to the *.json files under them; files are taken as given."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            entries = [p for p in path.rglob("*") if p.is_file()]
            if not entries:
                raise ReportError(
                    f"folder {path} is empty",
                    hint="point `dlcheck report` at the folder verify.yml wrote (reports/<time>/)",
                )
            found = sorted(p for p in entries if p.suffix.lower() == ".json")
            if not found:
                raise ReportError(
                    f"folder {path} has no *.json files ({len(entries)} other files)",
                    hint="reports are the JSON from `dlcheck doctor --json` or `dlcheck bench"
                    " --json`; verify.yml writes them as <host>_<time>.json",
                )
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            blocked = check_source(path, "report file")
            raise ReportError(blocked or f"{path} does not exist", hint="check the path")
    return files


def load_fleet(paths: list[Path], grouped: bool = True) -> Fleet:
    """Read every report under `paths` and build the fleet view."""
    files = collect_files(paths)
    skipped: list[Skipped] = []
    notes: list[str] = []
    sidecar: dict[str, dict[str, Any]] = {}
    host_docs: list[tuple[Path, dict[str, Any], str]] = []
    bench_docs: list[tuple[Path, dict[str, Any]]] = []

    for path in files:
        doc, reason = _read_json(path, notes)
        if reason is not None:
            skipped.append(Skipped(str(path), reason))
            continue
        if isinstance(doc, dict) and doc.get("schema") == RUN_SCHEMA:
            sidecar.update(_read_sidecar(path, doc))
            continue
        try:
            validated = validate(doc)
        except SchemaError as exc:
            skipped.append(Skipped(str(path), str(exc)))
            continue
        if validated.schema == BENCH:
            bench_docs.append((path, validated.doc))
        else:
            host_docs.append((path, validated.doc, validated.schema))

    if not host_docs and not bench_docs:
        reasons = "; ".join(f"{s.path}: {s.reason}" for s in skipped[:3])
        more = f"; and {len(skipped) - 3} more" if len(skipped) > 3 else ""
        raise ReportError(
            f"none of the {len(files)} JSON file(s) is a readable dlcheck report",
            hint=f"{reasons}{more}",
        )

    hosts: dict[str, HostEntry] = {}

    def host_of(item: tuple) -> str:
        return _host_name(item[0], item[1], sidecar)

    for path, doc, schema in _newest_per_host(host_docs, host_of, notes, "report"):
        entry = HostEntry(hostname=host_of((path, doc)), status="error", created=doc.get("created"))
        entry.sources.append(str(path))
        if schema == DOCTOR:
            entry.doctor = doc
            entry.status = doc["status"] if status_rank(doc["status"]) else "error"
            entry.checks = {c["name"]: c["status"] for c in doc["checks"]}
        else:
            assert schema == STUB
            entry.stub = doc
            entry.status = doc["status"]
        entry.group = _group(path, doc, sidecar)
        entry.reported_hostname = doc["host"]["hostname"]
        hosts[entry.hostname] = entry

    # A bench report names the machine's own hostname; match it to an entry by that too.
    by_reported = {}
    for entry in hosts.values():
        by_reported.setdefault(entry.reported_hostname, entry)
    for path, doc in _newest_per_host(
        bench_docs, lambda i: i[1]["hostname"], notes, "bench report"
    ):
        name = doc["hostname"]
        entry = hosts.get(name) or by_reported.get(name)
        if entry is None:  # a bench without a doctor report still belongs in the fleet
            entry = HostEntry(hostname=name, status="ok", created=doc.get("created"))
            entry.group = _group(path, doc, sidecar)
            hosts[name] = entry
        entry.bench = doc
        entry.sources.append(str(path))
        bench_status = _BENCH_STATUS.get(str(doc.get("status")).lower())
        if bench_status:
            entry.checks["bench"] = bench_status
            if status_rank(bench_status) > status_rank(entry.status) and entry.stub is None:
                entry.status = bench_status

    for entry in hosts.values():
        entry.facts = facts_mod.read_facts(entry)
    ordered = sorted(hosts.values(), key=lambda h: (-status_rank(h.status), h.hostname))
    fleet = Fleet(hosts=ordered, skipped=skipped, notes=notes)
    fleet.grouped = grouped and bool(fleet.groups())
    fleet.differences = _all_differences(fleet)
    return fleet


def _all_differences(fleet: Fleet) -> list:
    if not fleet.grouped:
        return facts_mod.differences(fleet.hosts, "all")
    found = []
    for group in sorted({h.group or "(no group)" for h in fleet.hosts}):
        members = [h for h in fleet.hosts if (h.group or "(no group)") == group]
        found.extend(facts_mod.differences(members, group))
    return found


class _OverLimit(ValueError):
    """A number or a nesting level past the limits above."""


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _OverLimit(f"an integer of {len(text.lstrip('-'))} digits (limit {MAX_INT_DIGITS})")
    return int(text)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 parses as inf
        raise _OverLimit(f"the number {text[:40]} is out of range")
    return value


def _depth(doc: Any) -> int:
    """How deeply objects and arrays nest (without recursion: the document is hostile)."""
    deepest = 0
    stack = [(doc, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            break
        children = node.values() if isinstance(node, dict) else node
        stack.extend((c, level + 1) for c in children if isinstance(c, (dict, list)))
    return deepest if isinstance(doc, (dict, list)) else 0


def parse_report(text: str) -> tuple[Any, list[str]]:
    """Parse a report's JSON within the limits; return (document, notes).

    NaN and Infinity (which Python's json writes, and strict JSON has not) become null,
    each noted. Raises json.JSONDecodeError for bad syntax and ValueError past a limit.
    """
    notes: list[str] = []

    def constant(name: str) -> None:
        notes.append(f"{name} read as null")
        return None

    try:
        doc = json.loads(
            text, parse_int=_bounded_int, parse_float=_finite_float, parse_constant=constant
        )
    except RecursionError:
        raise _OverLimit(f"nested deeper than {MAX_DEPTH} levels") from None
    if _depth(doc) > MAX_DEPTH:
        raise _OverLimit(f"nested deeper than {MAX_DEPTH} levels")
    return doc, notes


def _read_json(path: Path, notes: list[str]) -> tuple[Any, str | None]:
    """The parsed file, or the reason it is skipped; what was changed goes into `notes`."""
    blocked = check_source(path, "report file")
    if blocked:
        return None, blocked.removeprefix(f"{path}: ")
    try:
        size = path.stat().st_size
        if size > MAX_REPORT_BYTES:
            return None, f"{size} bytes, more than a report can be ({MAX_REPORT_BYTES} bytes)"
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None, "not UTF-8 text (is it a report?)"
    except OSError as exc:
        return None, f"cannot read: {exc.strerror or exc}"
    if not text.strip():
        return None, "empty file"
    try:
        doc, changed = parse_report(text)
    except json.JSONDecodeError as exc:
        # A report is one object; one that does not end with "}" was cut off (disk full,
        # an interrupted copy), which is worth saying in those words.
        cut = not text.rstrip().endswith("}")
        what = "truncated JSON (the file ends mid-document)" if cut else "not valid JSON"
        return None, f"{what}: {exc.msg} at line {exc.lineno} column {exc.colno}"
    except _OverLimit as exc:
        return None, f"past dlcheck's limits for a report: {exc}"
    notes.extend(f"{path}: {note}" for note in dict.fromkeys(changed))
    return doc, None


def _read_sidecar(path: Path, doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    files = doc.get("files")
    if not isinstance(files, dict):
        log.warning("%s: verify-run sidecar without a 'files' object; ignored", path)
        return {}
    # Keyed by absolute path so that two runs' sidecars cannot mix.
    return {
        str((path.parent / name).resolve()): info
        for name, info in files.items()
        if isinstance(info, dict)
    }


def _group(path: Path, doc: dict[str, Any], sidecar: dict[str, dict[str, Any]]) -> str | None:
    info = sidecar.get(str(path.resolve()))
    group = (info or {}).get("group") or doc.get("group")
    return str(group) if group else None


def _host_name(path: Path, doc: dict[str, Any], sidecar: dict[str, dict[str, Any]]) -> str:
    """The host a report is about: its inventory name when verify.yml recorded one (cloned
    machines often share a hostname), else the hostname in the report. Redacted reports
    all carry the same placeholder, so without an inventory name the file tells them apart."""
    inventory_name = (sidecar.get(str(path.resolve())) or {}).get("inventory_hostname")
    if inventory_name:
        return str(inventory_name)
    name = doc["host"]["hostname"]
    return f"{name} ({path.name})" if doc["host"].get("redacted") else name


def _created(doc: dict[str, Any]) -> datetime:
    raw = str(doc.get("created") or "")
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return datetime.min.replace(tzinfo=timezone.utc)
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _newest_per_host(items: list, host_of, notes: list[str], what: str) -> list:
    """Keep the newest item per host; say which older ones were dropped."""
    by_host: dict[str, list] = {}
    for item in items:
        by_host.setdefault(host_of(item), []).append(item)
    kept = []
    for host, group in by_host.items():
        group.sort(key=lambda item: (_created(item[1]), str(item[0])), reverse=True)
        kept.append(group[0])
        if len(group) > 1:
            older = ", ".join(str(item[0]) for item in group[1:])
            notes.append(
                f"host {host}: {len(group)} {what}s; kept the newest ({group[0][0]}, created "
                f"{group[0][1].get('created')}), ignored older: {older}"
            )
    return kept


def area_columns(fleet: Fleet) -> list[str]:
    """Check areas present in at least one host, in the table's order (bench last)."""
    present = {name for host in fleet.hosts for name in host.checks}
    columns = [a for a in AREAS if a in present]
    columns += sorted(present - set(AREAS) - {"bench"})
    if "bench" in present:
        columns.append("bench")
    return columns
