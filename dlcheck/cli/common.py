"""Pieces every subcommand shares: -v/--debug, logging, option types, the error boundary."""

from __future__ import annotations

import functools
import logging
import math
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from dlcheck.errors import DlcheckError, UsageError
from dlcheck.printable import printable

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
#: what a shell reports for a program killed by SIGPIPE (128 + 13): the reader of our
#: stdout (`| head -1`) left early. Not an error of ours, so nothing is printed.
EXIT_BROKEN_PIPE = 141


class FiniteFloat(click.FloatRange):
    """A float option in a range that is also finite: FloatRange alone lets nan through
    (every comparison with nan is false) and inf too when there is no maximum."""

    name = "number"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return super().convert(number, param, ctx)


#: Keras's seed ends in numpy's, which takes 0..2**32-1.
SEED = click.IntRange(0, 2**32 - 1)


class OutputFile(click.ParamType):
    """A file dlcheck will write (through dlcheck.host.files), checked when the option is
    parsed, before any probe or training starts: see `files.check_target`."""

    name = "file"

    def __init__(self, suffix: str | None = None, allow_stdout: bool = False) -> None:
        self.suffix = suffix
        self.allow_stdout = allow_stdout

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from dlcheck.host.files import check_target

        if isinstance(value, Path):
            return value
        option = param.opts[0] if param is not None and param.opts else "path"
        text = str(value)
        if self.suffix and text != "-" and not text.lower().endswith(self.suffix):
            self.fail(f"{text!r}: the file name must end in {self.suffix}", param, ctx)
        try:
            return check_target(text, option, allow_stdout=self.allow_stdout)
        except UsageError as exc:
            message = exc.message.removeprefix(f"{option}: ").removeprefix(f"{option} ")
            self.fail(printable(f"{message}; {exc.hint}" if exc.hint else message), param, ctx)


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
    Messages quote outside text (paths, file contents), so they are printed through
    `printable`. A closed stdout is an error said on stderr; a reader that leaves early
    (`| head -1`) ends the command quietly, as it ends any Unix tool.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = bool(kwargs.get("debug"))
        try:
            if sys.stdout is None:  # started with `>&-`: Python sets no stdout at all
                raise UsageError(
                    "standard output is closed, so there is nowhere to print the result",
                    hint="redirect it (> FILE, or > /dev/null to discard) instead of closing it",
                )
            try:
                return func(*args, **kwargs)
            finally:
                if sys.stdout is not None:
                    sys.stdout.flush()  # a broken pipe shows here, not at exit
        except BrokenPipeError:
            _discard_stdout()
            sys.exit(EXIT_BROKEN_PIPE)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise
        except DlcheckError as exc:
            if debug:
                traceback.print_exc()
            click.secho(f"error: {printable(exc.message)}", fg="red", err=True)
            if exc.hint:
                click.echo(f"  hint: {printable(exc.hint)}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except Exception as exc:  # noqa: BLE001 - the CLI boundary is the one broad except
            if debug:
                traceback.print_exc()
            click.secho(
                f"internal error: {type(exc).__name__}: {printable(exc)}", fg="red", err=True
            )
            click.echo("  hint: run again with --debug for the traceback, and report it", err=True)
            sys.exit(EXIT_INTERNAL)

    return wrapper  # type: ignore[return-value]


def _discard_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's own flush at exit cannot
    raise the broken pipe again (and print "Exception ignored ...")."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass
