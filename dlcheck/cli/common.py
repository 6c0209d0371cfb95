"""Pieces every subcommand shares: -v/--debug, logging, and the error boundary."""

from __future__ import annotations

import functools
import logging
import sys
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

import click

from dlcheck.errors import DlcheckError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3


def setup_logging(verbose: int) -> None:
    """Configure logging once: warnings by default, info with -v, debug with -vv."""
    level = logging.WARNING if verbose <= 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(
        level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )


def verbosity_options(func: F) -> F:
    """Add -v/--verbose (repeatable) and --debug to a command."""
    func = click.option(
        "--debug", is_flag=True, help="Show tracebacks for errors instead of a one-line message."
    )(func)
    func = click.option(
        "-v", "--verbose", count=True, help="Show details (-vv also turns on debug logging)."
    )(func)
    return func


def error_boundary(func: F) -> F:
    """The one place where exceptions become messages and exit codes.

    The wrapped command must accept `debug`. DlcheckError prints its message and
    hint; anything else is a bug: one line, and the traceback only with --debug.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = bool(kwargs.get("debug"))
        try:
            return func(*args, **kwargs)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise
        except DlcheckError as exc:
            if debug:
                traceback.print_exc()
            click.secho(f"error: {exc.message}", fg="red", err=True)
            if exc.hint:
                click.echo(f"  hint: {exc.hint}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except Exception as exc:  # noqa: BLE001 - the CLI boundary is the one broad except
            if debug:
                traceback.print_exc()
            click.secho(f"internal error: {type(exc).__name__}: {exc}", fg="red", err=True)
            click.echo("  hint: run again with --debug for the traceback, and report it", err=True)
            sys.exit(EXIT_INTERNAL)

    return wrapper  # type: ignore[return-value]
