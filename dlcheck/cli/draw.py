"""`dlcheck draw` and `dlcheck predict`: Click code only; the work is in dlcheck.draw."""

from __future__ import annotations

import json
from pathlib import Path

import click

from dlcheck.cli.common import EXIT_USAGE, error_boundary, setup_logging, verbosity_options

MODEL_HELP = (
    "A model saved by `dlcheck bench --save` (.keras). "
    "Default: the last saved one, ~/.local/share/dlcheck/models/last.keras "
    "($XDG_DATA_HOME/dlcheck/models/last.keras)."
)


def _model_option(func):  # type: ignore[no-untyped-def]
    return click.option(
        "--model",
        "model_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help=MODEL_HELP,
    )(func)


@click.command(
    epilog=(
        "Keys: Return = Recognise, Delete = Clear, Escape or Ctrl+Q = close. Without a "
        "display (no $DISPLAY, no Tk) it exits with code 2 and points to `dlcheck predict`."
    )
)
@_model_option
@click.option(
    "--print-result",
    is_flag=True,
    help="On close, print the last recognition to stdout (for scripts and tests).",
)
@verbosity_options
@error_boundary
def draw(model_path: Path | None, print_result: bool, verbose: int, debug: bool) -> None:
    """Draw a digit in a window and let the trained model recognise it.

    The drawing is normalised as MNIST's digits were (cropped, scaled to 20 px,
    centred by centre of mass) before the model sees it. With no saved model yet,
    the window offers to train the CNN.
    """
    setup_logging(verbose)
    from dlcheck.draw import app as draw_app
    from dlcheck.draw.model import default_model_path
    from dlcheck.printable import printable_lines

    is_default = model_path is None
    path = default_model_path() if model_path is None else model_path.expanduser()
    result = draw_app.run(
        path,
        model_is_default=is_default,
        on_message=lambda msg: click.echo(printable_lines(msg), err=True),
    )
    if print_result:
        click.echo(f"result: {result.last_result}")
    if result.exit_code:
        raise SystemExit(result.exit_code)


@click.command(
    epilog=(
        "Exit codes: 0 every file recognised; 2 a file could not be used (not an image, "
        "unreadable, or nothing drawn: it gets an error line/entry naming it, the other files "
        "are still recognised) or the model is missing or of the wrong shape."
    )
)
@click.argument("images", nargs=-1, required=True, type=click.Path(path_type=Path))
@_model_option
@click.option(
    "--no-preprocess",
    is_flag=True,
    help="Feed the whole image squashed to 28x28 (no crop, scale or centring): the baseline.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON document to stdout.")
@verbosity_options
@error_boundary
def predict(
    images: tuple[Path, ...],
    model_path: Path | None,
    no_preprocess: bool,
    as_json: bool,
    verbose: int,
    debug: bool,
) -> None:
    """Recognise the digit in each IMAGE (PNG, JPEG) with a saved model.

    One line per file: FILE: DIGIT (CONFIDENCE)  top-3: ...; or --json. Images may be
    dark ink on a light background or light on dark, any size.
    """
    setup_logging(verbose)
    from dlcheck.draw.model import default_model_path, load_model
    from dlcheck.draw.predict import predict_files
    from dlcheck.printable import printable

    path = default_model_path() if model_path is None else model_path.expanduser()
    model = load_model(path)
    report = predict_files(list(images), model, preprocess=not no_preprocess)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
        for r in report.results:
            if r.error:
                click.secho(f"error: {printable(r.error)}", fg="red", err=True)
    else:
        # File names are outside text: a name may hold any byte but "/" and NUL.
        for r in report.results:
            if r.prediction is not None:
                click.echo(f"{printable(r.file)}: {r.prediction.summary()}")
            else:
                click.secho(f"error: {printable(r.error)}", fg="red", err=True)
    if report.n_errors:
        raise SystemExit(EXIT_USAGE)
