"""The root command group and the shared error boundary."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from dlcheck import __version__
from dlcheck.cli import SUBCOMMANDS, main
from dlcheck.cli.common import EXIT_INTERNAL, error_boundary, verbosity_options
from dlcheck.errors import DataError, DlcheckError
from dlcheck.paths import last_model_path

HEAVY = ("tensorflow", "keras", "torch", "jax", "numpy")


def test_version():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_help_lists_every_subcommand():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for name in SUBCOMMANDS:
        assert name in result.output


def test_unknown_subcommand_is_a_usage_error():
    result = CliRunner().invoke(main, ["doctr"])
    assert result.exit_code == 2
    assert "No such command" in result.output


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_each_subcommand_resolves_to_a_click_command(name):
    command = main.get_command(click.Context(main), name)
    assert isinstance(command, click.Command)


@pytest.mark.parametrize("argv", [["--help"], *[[name, "--help"] for name in sorted(SUBCOMMANDS)]])
def test_help_imports_no_framework(argv):
    # A fresh interpreter: the parent test process may already hold numpy.
    code = (
        "import sys\n"
        "from dlcheck.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def _command(exc: BaseException) -> click.Command:
    @click.command()
    @verbosity_options
    @error_boundary
    def boom(verbose: int, debug: bool) -> None:
        raise exc

    return boom


def test_dlcheck_error_becomes_message_hint_and_exit_code():
    result = CliRunner().invoke(_command(DataError("labels.idx: bad magic", hint="re-download")))
    assert result.exit_code == DataError.exit_code == 2
    assert "error: labels.idx: bad magic" in result.output
    assert "hint: re-download" in result.output
    assert "Traceback" not in result.output


def test_unexpected_exception_is_one_line_without_debug():
    result = CliRunner().invoke(_command(ZeroDivisionError("division by zero")))
    assert result.exit_code == EXIT_INTERNAL
    assert "internal error: ZeroDivisionError" in result.output
    assert "Traceback" not in result.output


def test_debug_shows_the_traceback():
    result = CliRunner().invoke(_command(DlcheckError("broken")), ["--debug"])
    assert result.exit_code == 1
    assert "Traceback" in result.output


def test_last_model_path_follows_xdg_data_home(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert last_model_path() == tmp_path / "dlcheck" / "models" / "last.keras"
