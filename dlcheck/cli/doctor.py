"""`dlcheck doctor`: Click code only; the work is in dlcheck.doctor."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from dlcheck.cli.common import error_boundary, setup_logging, verbosity_options
from dlcheck.doctor.timeouts import FRAMEWORK_IMPORT_S, LIBRARIES_IMPORT_S, TRAIN_S


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


def _save(path: Path, text: str) -> None:
    """Write through a temporary file in the same directory: a reader (a fleet collector)
    never sees half a report, and a failed write leaves the previous one."""
    import tempfile

    tmp = None
    try:
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", delete=False
        ) as tmp:
            tmp.write(text)
        os.chmod(tmp.name, 0o644)
        os.replace(tmp.name, path)
    except OSError as exc:
        if tmp is not None and os.path.exists(tmp.name):
            os.unlink(tmp.name)
        raise click.FileError(str(path), hint=exc.strerror or str(exc)) from None


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
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    metavar="SECONDS",
    help=f"Limit for each child probe (default: {FRAMEWORK_IMPORT_S:g} per framework, "
    f"{LIBRARIES_IMPORT_S:g} for the libraries, {TRAIN_S:g} for --train).",
)
@click.option(
    "--save",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    metavar="FILE",
    help="Also write the JSON report to FILE (replaced whole), whatever is printed.",
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
    if save is not None and not os.access(save.parent, os.W_OK):
        # Before the minutes of probing, not after.
        raise click.BadParameter(
            f"cannot write into {save.parent} (missing, or not writable)", param_hint="--save"
        )
    options = Options(timeout=timeout, frameworks=not no_frameworks)
    report = run_doctor(names, options, redact=redact, debug=debug)
    if save is not None:
        _save(save, json.dumps(report.to_json(), indent=2) + "\n")
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        from dlcheck.doctor.render import render

        for line, color in render(report, verbose, unicode=_can_encode("✓✗‽→•")):
            click.secho(line, fg=color, bold=bool(color) and line.startswith("Doctor"))
    code = exit_code(report, strict)
    if code:
        sys.exit(code)
