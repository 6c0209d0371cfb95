"""What every check builds its CheckResult with: the status rule, and sizes in GiB for its
summary and findings.

Not a check, and it imports none: the checks import it, the registry in `__init__.py`
imports the checks, and so no import goes round in a circle.
"""

from __future__ import annotations

from typing import Any

from dlcheck.doctor.model import CheckResult, Finding, Status, worst

GIB = 1024**3


def make_result(
    name: str,
    title: str,
    summary: str,
    findings: list[Finding],
    facts: dict[str, Any],
    status: Status | None = None,
) -> CheckResult:
    """The check's status is its worst finding unless given; notes (SKIP) alone read OK."""
    if status is None:
        status = worst([Status.OK] + [f.status for f in findings])
    return CheckResult(
        name=name, title=title, status=status, summary=summary, findings=findings, facts=facts
    )


def gib(n: int | None) -> str:
    return "?" if n is None else f"{n / GIB:.1f} GiB"
