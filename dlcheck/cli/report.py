"""`dlcheck report`: compare doctor/bench reports from many hosts (Click code only)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from dlcheck.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    OutputFile,
    error_boundary,
    setup_logging,
    verbosity_options,
)
from dlcheck.host.files import STDOUT
from dlcheck.printable import printable


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the merged fleet document (JSON).")
@click.option(
    "--html",
    "html_file",
    type=OutputFile(allow_stdout=True),
    help="Also write one self-contained HTML page (plots included) to this file; "
    "`-` prints it on stdout instead of the table.",
)
@click.option(
    "--no-groups",
    is_flag=True,
    help="Compare all hosts together, ignoring the groups verify.yml recorded.",
)
@verbosity_options
@error_boundary
def report(
    paths: tuple[Path, ...],
    as_json: bool,
    html_file: Path | None,
    no_groups: bool,
    verbose: int,
    debug: bool,
) -> None:
    """Compare reports from many hosts: a table of checks, and where the hosts differ.

    PATHS are report files or folders (every *.json under them): the output of
    `dlcheck doctor --json`, `dlcheck bench --json`, or a folder written by
    playbooks/verify.yml. Unreadable files are named and skipped. When a host has
    several reports, the newest is used.

    \b
    Exit codes:
      0  no host failed (warnings allowed)
      1  a host failed, could not be reached, or has no dlcheck
      2  bad input: nothing readable to report on
    """
    setup_logging(verbose)
    to_stdout = html_file is not None and str(html_file) == STDOUT
    if to_stdout and as_json:
        raise click.UsageError("--json and --html - both print on stdout; choose one")
    from dlcheck.report.load import load_fleet

    fleet = load_fleet(list(paths), grouped=not no_groups)
    for skipped in fleet.skipped:
        message = printable(f"warning: skipped {skipped.path}: {skipped.reason}")
        click.secho(message, fg="yellow", err=True)
    for note in fleet.notes:
        click.echo(printable(f"note: {note}"), err=True)

    if as_json:
        from dlcheck.report.render_json import fleet_document

        # Compact: indenting makes json use its pure-Python encoder, 4x slower at 1,000 hosts.
        # allow_nan=False: the output is strict JSON (the reader already turned NaN to null).
        click.echo(json.dumps(fleet_document(fleet), ensure_ascii=False, allow_nan=False))
    elif not to_stdout:
        from dlcheck.report.render_text import render_text

        click.echo(render_text(fleet, show_warnings=verbose > 0), nl=False)

    if html_file is not None:
        from dlcheck.host.files import write_text
        from dlcheck.report.render_html import render_html

        write_text(html_file, render_html(fleet), what="HTML page")
        if not to_stdout:
            click.echo(printable(f"wrote {html_file}"), err=True)

    raise SystemExit(EXIT_FAILED if fleet.failed else EXIT_OK)
