"""`dlcheck doctor`: Click code only; the work is in dlcheck.doctor."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from dlcheck.cli.common import (
    FiniteFloat,
    OutputFile,
    error_boundary,
    setup_logging,
    verbosity_options,
)
from dlcheck.doctor.timeouts import FRAMEWORK_IMPORT_S, LIBRARIES_IMPORT_S, TRAIN_S

#: the longest --timeout accepted: a day is far past any probe, and larger values
#: overflow the clocks that subprocess and threading wait on
MAX_TIMEOUT_S = 86400.0


def _list_checks(as_json: bool) -> None:
    from dlcheck.doctor.checks import registry

    specs = registry().values()
    if as_json:
        rows = [
            {"name": s.name, "title": s.title, "description": s.description, "default": s.default}
            for s in specs
        ]
        click.echo(json.dumps(rows, indent=2))
        return
    for spec in specs:
        note = "" if spec.default else " (opt-in)"
        click.echo(f"{spec.name:<11} {spec.description}{note}")


def _can_encode(text: str) -> bool:
    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("checks", nargs=-1, metavar="[CHECK]...")
@click.option("--json", "as_json", is_flag=True, help="Print the versioned JSON report on stdout.")
@click.option("--redact", is_flag=True, help="Hide the hostname, GPU UUIDs, serials and user name.")
@click.option("--list-checks", is_flag=True, help="List the checks and exit.")
@click.option("--strict", is_flag=True, help="Treat warnings as failures (exit 1).")
@click.option("--no-frameworks", is_flag=True, help="Skip the framework imports (fast: < 1 s).")
@click.option(
    "--train", is_flag=True, help="Also train a quick MNIST model (`dlcheck bench --quick`)."
)
@click.option(
    "--timeout",
    type=FiniteFloat(min=0, min_open=True, max=MAX_TIMEOUT_S),
    default=None,
    metavar="SECONDS",
    help=f"Limit for each child probe (default: {FRAMEWORK_IMPORT_S:g} per framework, "
    f"{LIBRARIES_IMPORT_S:g} for the libraries, {TRAIN_S:g} for --train).",
)
@click.option(
    "--save",
    type=OutputFile(),
    default=None,
    metavar="FILE",
    help="Also write the JSON report to FILE (replaced whole), whatever is printed.",
)
@click.option(
    "--textfile",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    metavar="DIR",
    help="Also write Prometheus metrics to DIR/dlcheck.prom for node_exporter's textfile"
    " collector (replaced whole).",
)
@verbosity_options
@error_boundary
def doctor(
    checks: tuple[str, ...],
    as_json: bool,
    redact: bool,
    list_checks: bool,
    strict: bool,
    no_frameworks: bool,
    train: bool,
    timeout: float | None,
    save: Path | None,
    textfile: Path | None,
    verbose: int,
    debug: bool,
) -> None:
    """Check this host's GPU, CUDA, libraries and frameworks; say what to fix.

    \b
    Runs the named CHECKs, or all default ones (see --list-checks).
    Exit codes: 0 nothing failed (warnings allowed), 1 a check failed or
    crashed (or warned, with --strict), 2 usage error.
    """
    setup_logging(verbose)  # logs go to stderr: --json's stdout stays pure JSON
    if list_checks:
        _list_checks(as_json)
        return
    from dlcheck.doctor.context import Options
    from dlcheck.doctor.runner import exit_code, run_doctor, select
    from dlcheck.errors import UsageError

    try:
        names = select(list(checks) or None, frameworks=not no_frameworks, train=train)
    except UsageError as exc:
        raise click.UsageError(f"{exc.message}; {exc.hint}" if exc.hint else exc.message) from None
    if textfile is not None and not (textfile.is_dir() and os.access(textfile, os.W_OK | os.X_OK)):
        # Before the minutes of probing, not after.
        raise click.BadParameter(
            f"{textfile} is not a writable directory; create it, or give node_exporter's"
            " --collector.textfile.directory",
            param_hint="--textfile",
        )
    options = Options(timeout=timeout, frameworks=not no_frameworks)
    report = run_doctor(names, options, redact=redact, debug=debug)
    if save is not None:
        from dlcheck.host.files import write_text

        write_text(save, json.dumps(report.to_json(), indent=2) + "\n", what="report")
    if textfile is not None:
        from dlcheck.doctor import metrics

        metrics.write_textfile(textfile, metrics.render(report))
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        from dlcheck.doctor.render import render
        from dlcheck.printable import printable

        # Probe output (a library's version string, an error message) is outside text.
        for line, color in render(report, verbose, unicode=_can_encode("✓✗‽→•")):
            click.secho(printable(line), fg=color, bold=bool(color) and line.startswith("Doctor"))
    code = exit_code(report, strict)
    if code:
        sys.exit(code)
