"""Run the selected checks concurrently, time each, and never let one kill the run."""

from __future__ import annotations

import logging
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

from dlcheck import __version__
from dlcheck.doctor.checks import CheckSpec, registry
from dlcheck.doctor.context import Context, Options
from dlcheck.doctor.model import CheckResult, Finding, Report, Status
from dlcheck.doctor.redact import redact_report
from dlcheck.errors import UsageError
from dlcheck.host import processes

log = logging.getLogger(__name__)


def select(names: list[str] | None, *, frameworks: bool = True, train: bool = False) -> list[str]:
    """The checks to run, in registry order. Unknown names are a usage error."""
    specs = registry()
    if names:
        unknown = [n for n in names if n not in specs]
        if unknown:
            raise UsageError(
                f"unknown check {', '.join(repr(n) for n in unknown)}",
                f"valid checks: {', '.join(specs)}",
            )
        chosen = set(names)
        if not frameworks:
            clash = [n for n in names if specs[n].frameworks]
            if clash:
                raise UsageError(
                    f"--no-frameworks cannot run {', '.join(clash)}",
                    "drop --no-frameworks, or those check names",
                )
    else:
        chosen = {n for n, s in specs.items() if s.default and (frameworks or not s.frameworks)}
    if train:
        if not frameworks:
            raise UsageError("--train needs the frameworks", "drop --no-frameworks")
        chosen.add("train")
    return [n for n in specs if n in chosen]


def run_check(spec: CheckSpec, ctx: Context, debug: bool = False) -> CheckResult:
    started = time.monotonic()
    try:
        result = spec.run(ctx)
    except Exception as exc:  # noqa: BLE001 - a crashing check is a result, not the end
        # The traceback is for --debug only; otherwise the check's line says what broke.
        log.log(
            logging.ERROR if debug else logging.DEBUG, "check %s crashed", spec.name, exc_info=True
        )
        result = CheckResult(
            name=spec.name,
            title=spec.title,
            status=Status.ERROR,
            summary=f"the check crashed: {type(exc).__name__}: {exc}",
            findings=[
                Finding(
                    Status.ERROR,
                    "doctor.check_crashed",
                    f"{type(exc).__name__}: {exc}",
                    "this is a dlcheck bug: run with --debug for the traceback, and report it",
                )
            ],
        )
    result.duration_s = round(time.monotonic() - started, 3)
    return result


def run_doctor(
    names: list[str], options: Options | None = None, *, redact: bool = False, debug: bool = False
) -> Report:
    """Run `names` (from `select`) and return the report."""
    options = options or Options()
    specs = registry()
    ctx = Context(options)
    started = time.monotonic()
    created = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    # One thread per check: the slow ones (framework children) all start at once. Ctrl-C
    # kills every child first, so that the pool's shutdown need not wait for them.
    pool = ThreadPoolExecutor(max_workers=max(1, len(names)), thread_name_prefix="check")
    with pool, processes.stopped_on_interrupt():
        futures = {name: pool.submit(run_check, specs[name], ctx, debug) for name in names}
        results = [futures[name].result() for name in names]
    report = Report(
        dlcheck_version=__version__,
        created=created,
        hostname=socket.gethostname(),
        redacted=False,
        duration_s=time.monotonic() - started,
        checks=results,
    )
    return redact_report(report) if redact else report


def exit_code(report: Report, strict: bool = False) -> int:
    """0: nothing failed; 1: a check failed or crashed (or warned, with strict)."""
    status = report.status
    if status in (Status.FAIL, Status.ERROR):
        return 1
    if strict and status == Status.WARN:
        return 1
    return 0
