"""The `dlcheck` command group.

Subcommands are registered by module path and imported only when invoked, so
`dlcheck --help` stays fast and a broken optional part cannot break the rest.
"""

from __future__ import annotations

import importlib

import click

from dlcheck import __version__

# name -> "module:attribute" of a click.Command
SUBCOMMANDS: dict[str, str] = {
    "doctor": "dlcheck.cli.doctor:doctor",
    "bench": "dlcheck.cli.bench:bench",
    "report": "dlcheck.cli.report:report",
    "draw": "dlcheck.cli.draw:draw",
    "predict": "dlcheck.cli.draw:predict",
}

# One-line help shown by `dlcheck --help` without importing the subcommand.
SHORT_HELP: dict[str, str] = {
    "doctor": "Check this host's GPU, CUDA, libraries and frameworks; say what to fix.",
    "bench": "Train a tiny MNIST model; report device, speed and accuracy.",
    "report": "Compare doctor/bench reports from many hosts; show where they differ.",
    "draw": "Draw a digit in a window and let the trained CNN recognise it.",
    "predict": "Recognise digits in image files with a model saved by `bench --save`.",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = SUBCOMMANDS.get(name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        return getattr(importlib.import_module(module_name), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, SHORT_HELP.get(name, "")) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dlcheck")
def main() -> None:
    """Verify that a deep-learning workstation really works, and say how to fix it.

    \b
    Exit codes (every subcommand):
      0  nothing failed (warnings allowed)
      1  a check, a training run or a report found a failure, or an output
         file could not be written (disk full; the previous file is kept)
      2  usage error: a bad option, argument, or input file (or a closed stdout)
      3  dlcheck itself failed (a bug; --debug shows the traceback)
      130  interrupted (Ctrl-C)
      141  the reader of stdout left early (`| head`); nothing is printed
    """
