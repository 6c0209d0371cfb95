"""Learning curves (and the fold box plot) as a PNG, with matplotlib's Agg backend."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from dlcheck.errors import MissingDependency
from dlcheck.host import files

if TYPE_CHECKING:
    from dlcheck.bench.engine import EpochStat
    from dlcheck.bench.result import Folds


def plot_learning_curves(
    path: Path, epochs: Sequence[EpochStat], folds: Folds | None, title: str
) -> Path:
    """Train/validation loss and accuracy per epoch; a box plot of fold accuracies too."""
    try:
        import matplotlib
    except ImportError:
        raise MissingDependency(
            "--plot needs matplotlib, which is not installed",
            hint="pip install 'dlcheck[plot]'",
        ) from None
    matplotlib.use("Agg")  # no display needed; must precede pyplot's import
    import matplotlib.pyplot as plt

    n = [e.epoch for e in epochs]
    cols = 3 if folds else 2
    fig, axes = plt.subplots(1, cols, figsize=(4.5 * cols, 3.6))
    for ax, key, label in ((axes[0], "loss", "loss"), (axes[1], "accuracy", "accuracy")):
        ax.plot(n, [getattr(e, key) for e in epochs], "o-", label=f"train {label}")
        val = [getattr(e, f"val_{key}") for e in epochs]
        if all(v is not None for v in val):
            ax.plot(n, val, "s--", label=f"test {label}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.set_xticks(n)
        ax.grid(alpha=0.3)
        ax.legend()
    if folds:
        axes[2].boxplot(folds.accuracies)
        axes[2].set_title(f"{folds.k}-fold accuracy: {folds.mean:.4f} ± {folds.std:.4f}")
        axes[2].set_xticks([])
        axes[2].set_ylabel("accuracy")
    fig.suptitle(title)
    fig.tight_layout()
    try:
        with files.replacing(path, what="plot") as tmp:
            fig.savefig(tmp, format="png", dpi=100)
    finally:
        plt.close(fig)
    return path
