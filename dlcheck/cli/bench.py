"""`dlcheck bench`: Click options only; the work is dlcheck.bench.runner, the text
dlcheck.bench.render."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from dlcheck.cli.common import (
    EXIT_FAILED,
    SEED,
    FiniteFloat,
    OutputFile,
    error_boundary,
    setup_logging,
    verbosity_options,
)
from dlcheck.shared import BACKENDS

# Upper bounds that keep a typo from asking for terabytes or weeks; each is far past
# what MNIST can use.
#: MNIST's training set: a larger batch or --limit is the whole set anyway
MNIST_TRAIN_IMAGES = 60000
MAX_EPOCHS = 1000
MAX_FOLDS = 100
#: ten times the largest rate offered (adadelta-1.0); Keras's defaults are 0.001-0.01
MAX_LEARNING_RATE = 10.0

_HELP = """Train a tiny MNIST model; report the device it ran on, its speed and accuracy.

\b
Data, first found wins: --data PATH, $DLCHECK_DATA, ~/.keras/datasets/mnist.npz,
Keras's download (origin $DLCHECK_MNIST_URL); else an error offering --synthetic.
A directory with only the official test set (t10k-*) is split 8000/2000
(stratified, seed 0) and the result says so.

\b
Models (defaults follow their sources):
  mlp  Dense(512,relu) -> Dense(10): rmsprop, batch 128, 5 epochs
  cnn  2 x Conv2D -> MaxPool -> Dense(256): adam, batch 128, 10 epochs
       (the original's Adadelta needs --optimizer adadelta-1.0 in Keras 3)

Exit 0 when the run is ok or only warns, 1 when it failed, 2 for bad input.
"""


def _progress(kind: str, as_json: bool) -> Any:
    """The progress callback of the training loop: a bar on a terminal, JSON lines, or none."""
    from dlcheck.bench.render import progress_event, progress_line

    if kind == "auto":
        kind = "none" if as_json or not sys.stderr.isatty() else "bar"

    def bar(epoch: int, epochs: int, batch: int, batches: int) -> None:
        end = "\n" if batch == batches and epoch == epochs else ""
        sys.stderr.write("\r" + progress_line(epoch, epochs, batch, batches) + end)
        sys.stderr.flush()

    def jsonl(epoch: int, epochs: int, batch: int, batches: int) -> None:
        sys.stderr.write(json.dumps(progress_event(epoch, epochs, batch, batches)) + "\n")
        sys.stderr.flush()

    return {"bar": bar, "jsonl": jsonl}.get(kind)


@click.command(help=_HELP, short_help="Train a tiny MNIST model; report device, speed, accuracy.")
@click.option("--model", type=click.Choice(["mlp", "cnn"]), default="mlp", show_default=True)
@click.option(
    "--backend",
    type=click.Choice(["auto", *BACKENDS]),
    default="auto",
    show_default=True,
    help="Keras engine; auto = tensorflow, else jax, else torch (first installed).",
)
@click.option(
    "--device",
    type=click.Choice(["auto", "cpu", "gpu"]),
    default="auto",
    show_default=True,
    help="gpu fails if training does not run on a GPU; auto fails if a GPU is present but unused.",
)
@click.option(
    "--epochs",
    type=click.IntRange(1, MAX_EPOCHS),
    help="Default: the model's (mlp 5, cnn 10).",
)
@click.option("--batch-size", type=click.IntRange(1, MNIST_TRAIN_IMAGES), help="Default: 128.")
@click.option(
    "--optimizer",
    type=click.Choice(
        ["rmsprop", "adam", "adamw", "sgd", "adadelta", "adadelta-1.0", "adagrad", "nadam"],
        case_sensitive=False,
    ),
    help="Default: mlp rmsprop, cnn adam. adadelta-1.0 = Adadelta at the old Keras default.",
)
@click.option(
    "--learning-rate",
    type=FiniteFloat(min=0, min_open=True, max=MAX_LEARNING_RATE),
    help="Default: the optimizer's own.",
)
@click.option("--seed", type=SEED, default=0, show_default=True)
@click.option(
    "--data", "data_path", metavar="PATH", help="mnist.npz, or a directory with the IDX files."
)
@click.option("--synthetic", is_flag=True, help="Random data: throughput only, no accuracy claim.")
@click.option(
    "--limit",
    type=click.IntRange(1, MNIST_TRAIN_IMAGES),
    help="Train on N of the training images (a seeded subset).",
)
@click.option(
    "--folds", type=click.IntRange(2, MAX_FOLDS), help="Also run K-fold cross-validation."
)
@click.option("--compare-cpu", is_flag=True, help="Also train on the CPU; report GPU/CPU ratio.")
@click.option(
    "--quick", is_flag=True, help="Short real check (mlp, 1 epoch) as `dlcheck doctor` runs it."
)
@click.option(
    "--save",
    type=OutputFile(suffix=".keras"),
    metavar="FILE.keras",
    help="Save the trained model; also copied to the default model of `dlcheck draw`.",
)
@click.option(
    "--plot",
    type=OutputFile(suffix=".png"),
    metavar="FILE.png",
    help="Learning curves (and fold box plot) as a PNG.",
)
@click.option("--no-download", is_flag=True, help="Never try Keras's downloader.")
@click.option("--json", "as_json", is_flag=True, help="Print the result document (JSON) only.")
@click.option(
    "--progress",
    type=click.Choice(["auto", "bar", "jsonl", "none"]),
    default="auto",
    show_default=True,
    help="Training progress on stderr: auto = a bar on a terminal; jsonl = one JSON "
    "object per batch, for programs.",
)
@verbosity_options
@error_boundary
def bench(
    model: str,
    backend: str,
    device: str,
    epochs: int | None,
    batch_size: int | None,
    optimizer: str | None,
    learning_rate: float | None,
    seed: int,
    data_path: str | None,
    synthetic: bool,
    limit: int | None,
    folds: int | None,
    compare_cpu: bool,
    quick: bool,
    save: Path | None,
    plot: Path | None,
    no_download: bool,
    as_json: bool,
    progress: str,
    verbose: int,
    debug: bool,
) -> None:
    setup_logging(verbose + (2 if debug else 0))
    from dlcheck.bench.result import BenchConfig, json_text
    from dlcheck.bench.runner import run_bench

    cfg = BenchConfig(
        model=model,
        backend=backend,
        device=device,
        epochs=epochs,
        batch_size=batch_size,
        optimizer=optimizer,
        learning_rate=learning_rate,
        seed=seed,
        data=data_path,
        synthetic=synthetic,
        limit=limit,
        folds=folds,
        compare_cpu=compare_cpu,
        quick=quick,
        save=None if save is None else str(save),
        plot=None if plot is None else str(plot),
        allow_download=not no_download,
    )
    result = run_bench(cfg, progress=_progress(progress, as_json))
    doc = result.to_dict()
    if as_json:
        click.echo(json_text(doc))
    else:
        from dlcheck.bench.render import render
        from dlcheck.printable import printable_lines

        # Paths and framework messages in the document are outside text.
        click.echo(printable_lines(render(doc)))
    if result.status == "fail":
        sys.exit(EXIT_FAILED)
