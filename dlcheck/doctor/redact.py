"""--redact: hide what identifies a machine (hostname, GPU UUIDs and serials, user name)."""

from __future__ import annotations

import getpass
import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from dlcheck.doctor.model import Finding, Report

REDACTED = "REDACTED"
_UUID = re.compile(r"\b(GPU|MIG)-[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\b")
_SECRET_KEYS = {"uuid", "serial", "hostname"}


def redact_report(report: Report) -> Report:
    scrub = _Scrubber(report.hostname)
    checks = [
        replace(
            c,
            summary=scrub.text(c.summary),
            findings=[_finding(f, scrub) for f in c.findings],
            facts=scrub.value(c.facts),
        )
        for c in report.checks
    ]
    return replace(report, hostname=REDACTED, redacted=True, checks=checks)


def _finding(f: Finding, scrub: _Scrubber) -> Finding:
    return replace(f, message=scrub.text(f.message), hint=scrub.text(f.hint) if f.hint else f.hint)


class _Scrubber:
    def __init__(self, hostname: str) -> None:
        self.pairs: list[tuple[str, str]] = []
        home = str(Path.home())
        user = _user()
        if home not in ("/", "/root") and len(home) > 1:
            self.pairs.append((home, "~"))
        if user and user != "root" and len(user) > 2:
            self.pairs.append((f"/{user}/", f"/{REDACTED}/"))
        if hostname and len(hostname) > 2:
            self.pairs.append((hostname, REDACTED))

    def text(self, s: str) -> str:
        s = _UUID.sub(lambda m: f"{m.group(1)}-{REDACTED}", s)
        for old, new in self.pairs:
            s = s.replace(old, new)
        return s

    def value(self, v: Any, key: str | None = None) -> Any:
        if key in _SECRET_KEYS and v is not None:
            return f"GPU-{REDACTED}" if key == "uuid" else REDACTED
        if isinstance(v, str):
            return self.text(v)
        if isinstance(v, dict):
            return {self.text(str(k)): self.value(x, str(k)) for k, x in v.items()}
        if isinstance(v, list):
            return [self.value(x) for x in v]
        return v


def _user() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER")
