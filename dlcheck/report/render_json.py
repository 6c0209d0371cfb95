"""The merged fleet document: `dlcheck report --json` ("dlcheck.fleet", schema_version 1)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timezone
from typing import Any

from dlcheck import __version__
from dlcheck.report.model import FLEET_SCHEMA, FLEET_SCHEMA_VERSION, Fleet


def fleet_document(fleet: Fleet) -> dict[str, Any]:
    """The fleet as one JSON-ready dict; each host keeps its full doctor and bench reports."""
    return {
        "schema": FLEET_SCHEMA,
        "schema_version": FLEET_SCHEMA_VERSION,
        "dlcheck_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "status": fleet.status,
        "counts": fleet.counts(),
        "grouped": fleet.grouped,
        "groups": fleet.groups(),
        "hosts": [
            {
                "hostname": h.hostname,
                "reported_hostname": h.reported_hostname,
                "group": h.group,
                "status": h.status,
                "created": h.created,
                "message": h.message,
                "sources": h.sources,
                "checks": h.checks,
                "facts": h.facts,
                "doctor": h.doctor,
                "bench": h.bench,
            }
            for h in fleet.hosts
        ],
        "differences": [asdict(d) for d in fleet.differences],
        "skipped": [asdict(s) for s in fleet.skipped],
        "notes": fleet.notes,
    }
