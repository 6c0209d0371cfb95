"""Result types of the doctor. Their JSON form (see docs/doctor-schema.md) is a contract."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

from dlcheck.shared import DOCTOR_SCHEMA as SCHEMA

SCHEMA_VERSION = 1


class Status(str, Enum):
    """Verdict of one finding or one check, worst last (see `worst`)."""

    SKIP = "skip"  # not applicable here (no GPU, framework not installed)
    OK = "ok"
    WARN = "warn"  # works, but something deserves attention
    FAIL = "fail"  # broken: the host cannot do what it should
    ERROR = "error"  # the probe itself crashed; we do not know

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Status.SKIP: 0, Status.OK: 1, Status.WARN: 2, Status.ERROR: 3, Status.FAIL: 4}


def worst(statuses: list[Status], default: Status = Status.OK) -> Status:
    return max(statuses, key=lambda s: s.rank, default=default)


@dataclass
class Finding:
    """One thing a check noticed, with the fix when it is a problem."""

    status: Status
    code: str  # stable identifier, e.g. "gpu.nouveau_loaded"
    message: str
    hint: str | None = None


@dataclass
class CheckResult:
    """The verdict of one named check area (host, gpu, cuda, libraries, frameworks, compat...)."""

    name: str
    title: str
    status: Status
    summary: str  # one line for the default output
    findings: list[Finding] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    duration_s: float = 0.0


@dataclass
class Report:
    """Everything one doctor run found on one host."""

    dlcheck_version: str
    created: str  # ISO 8601, UTC
    hostname: str
    redacted: bool
    duration_s: float
    checks: list[CheckResult]

    @property
    def status(self) -> Status:
        return worst([c.status for c in self.checks])

    def counts(self) -> dict[str, int]:
        counts = {s.value: 0 for s in Status}
        for check in self.checks:
            counts[check.status.value] += 1
        return counts

    def to_json(self) -> dict[str, Any]:
        doc = {
            "schema": SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "dlcheck_version": self.dlcheck_version,
            "created": self.created,
            "host": {"hostname": self.hostname, "redacted": self.redacted},
            "status": self.status.value,
            "counts": self.counts(),
            "duration_s": round(self.duration_s, 3),
            "checks": [asdict(c) for c in self.checks],
        }
        return _plain(doc)


def _plain(value: Any) -> Any:
    """Enums to their values, recursively, so json.dumps needs no custom encoder."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
