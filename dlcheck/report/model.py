"""Result types of `dlcheck report`. Their JSON form ("dlcheck.fleet", v1) is a contract."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FLEET_SCHEMA = "dlcheck.fleet"
FLEET_SCHEMA_VERSION = 1

#: the doctor's check areas, in the order the table shows them
AREAS: tuple[str, ...] = ("host", "gpu", "cuda", "libraries", "frameworks", "compat", "train")

# Host verdicts, worst first. "unreachable" and "missing" come from verify.yml's stubs;
# "error" also covers a stub for a doctor run that produced no report.
HOST_STATUS_RANK: dict[str, int] = {
    "unreachable": 7,
    "missing": 6,
    "fail": 5,
    "error": 4,
    "warn": 3,
    "ok": 2,
    "skip": 1,
}
#: statuses that make `dlcheck report` exit 1
FAILING = frozenset({"unreachable", "missing", "fail", "error"})


def status_rank(status: str | None) -> int:
    return HOST_STATUS_RANK.get(status or "", 0)


@dataclass
class HostEntry:
    """One host of the fleet: its newest doctor report (or stub) merged with its newest bench."""

    hostname: str
    status: str  # one of HOST_STATUS_RANK
    created: str | None
    group: str | None = None
    #: the hostname inside the report, when the entry is named by its inventory name
    reported_hostname: str | None = None
    doctor: dict[str, Any] | None = None
    bench: dict[str, Any] | None = None
    stub: dict[str, Any] | None = None
    sources: list[str] = field(default_factory=list)
    #: check name -> status, for the table ("bench" included when a bench report exists)
    checks: dict[str, str] = field(default_factory=dict)
    #: fact key (see facts.FACTS) -> value, None when the host did not report it
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def message(self) -> str | None:
        return self.stub.get("message") if self.stub else None

    def problems(self, include_warnings: bool = False) -> list[dict[str, Any]]:
        """Findings worth showing: fail/error (and warn if asked), with their check name."""
        wanted = {"fail", "error"} | ({"warn"} if include_warnings else set())
        out: list[dict[str, Any]] = []
        for check in (self.doctor or {}).get("checks", []):
            for finding in check.get("findings") or []:
                if finding.get("status") in wanted:
                    out.append({"check": check.get("name"), **finding})
        return out


@dataclass
class Skipped:
    """An input file that was not used, and why."""

    path: str
    reason: str


@dataclass
class DiffValue:
    value: str  # the value as shown
    hosts: list[str]


@dataclass
class Difference:
    """A fact that is not the same on all hosts of a group."""

    group: str
    key: str
    label: str
    kind: str  # "exact": every distinct value listed; "numeric": outliers from the median
    values: list[DiffValue]
    #: numeric facts: the group's median and how many hosts reported the fact
    median: float | None = None
    reported: int = 0
    tolerance: str | None = None


@dataclass
class Fleet:
    hosts: list[HostEntry]  # sorted: worst status first, then hostname
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)
    grouped: bool = False  # True when the differences are computed per group

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(HOST_STATUS_RANK, 0)
        for host in self.hosts:
            counts[host.status] = counts.get(host.status, 0) + 1
        return counts

    @property
    def status(self) -> str:
        if not self.hosts:
            return "ok"
        return max((h.status for h in self.hosts), key=status_rank)

    @property
    def failed(self) -> bool:
        return any(h.status in FAILING for h in self.hosts)

    def groups(self) -> list[str]:
        return sorted({h.group or "" for h in self.hosts} - {""})
