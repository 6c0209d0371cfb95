"""How much MNIST-style preprocessing helps `dlcheck predict` on digits that are not MNIST-shaped.

The CNN is trained by `dlcheck bench --model cnn --save` (a child process, as a user
would) on the seeded 8000-image train part of the real MNIST test set; the 2000
held-out digits it never saw are then rendered to PNG files, black ink on white like
the draw window's canvas, at 4x MNIST's scale (112x112), in five variants:

    plain       the digit, upscaled 4x (bicubic)
    thicker     dilated: 7x7 max filter at 4x, ~1.5 px wider strokes at MNIST scale
    thinner     eroded: 5x5 min filter at 4x, ~1 px narrower strokes at MNIST scale
    off-centre  moved 4 px (MNIST scale) towards a random corner, as far as it fits
    small       drawn at half size in a random quadrant of the canvas

Each variant goes through the real file pipeline (`predict_files`) with and without
the preprocessing (`--no-preprocess`: the whole image squashed to 28x28). The table
gives accuracy against the true labels; the model on the raw held-out arrays is the
reference.

    .venv/bin/python benchmarks/draw_preprocess_accuracy.py [--epochs 3] [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "mnist"
VARIANTS = ("plain", "thicker", "thinner", "off-centre", "small")
SCALE = 4  # render at 4x MNIST's 28 px, like a drawing on a larger canvas


def train(data: str, epochs: int, seed: int, dest: Path) -> dict:
    cmd = [sys.executable, "-m", "dlcheck", "bench", "--json", "--model", "cnn"]
    cmd += ["--data", data, "--epochs", str(epochs), "--seed", str(seed), "--save", str(dest)]
    # A scratch XDG_DATA_HOME: the bench also copies --save to the user's default model.
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "XDG_DATA_HOME": str(dest.parent)}
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if not dest.is_file():
        sys.exit(f"{' '.join(cmd)} failed (exit {out.returncode}):\n{out.stderr[-2000:]}")
    return json.loads(out.stdout)


def render(digit, variant: str, rng):  # type: ignore[no-untyped-def]
    """One uint8 28x28 MNIST digit -> a 112x112 black-on-white PIL image of the variant."""
    import numpy as np
    from PIL import Image, ImageFilter

    size = 28 * SCALE
    big = Image.fromarray(digit, "L").resize((size, size), Image.Resampling.BICUBIC)
    if variant == "thicker":
        big = big.filter(ImageFilter.MaxFilter(7))
    elif variant == "thinner":
        big = big.filter(ImageFilter.MinFilter(5))
    elif variant in ("off-centre", "small"):
        arr = np.asarray(big)
        if variant == "small":
            half = Image.fromarray(arr).resize((size // 2, size // 2), Image.Resampling.LANCZOS)
            arr = np.asarray(half)
        ys, xs = np.nonzero(arr > 12)
        top, bottom, left, right = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
        crop = arr[top:bottom, left:right]
        sy, sx = rng.choice([-1, 1], size=2)
        if variant == "off-centre":
            # 4 px at MNIST scale, clamped so that the digit stays whole
            want_y, want_x = top + sy * 4 * SCALE, left + sx * 4 * SCALE
        else:
            # a random quadrant: the middle of that quadrant
            want_y = (size // 4 if sy < 0 else 3 * size // 4) - crop.shape[0] // 2
            want_x = (size // 4 if sx < 0 else 3 * size // 4) - crop.shape[1] // 2
        y = int(np.clip(want_y, 0, size - crop.shape[0]))
        x = int(np.clip(want_x, 0, size - crop.shape[1]))
        canvas = np.zeros((size, size), np.uint8)
        canvas[y : y + crop.shape[0], x : x + crop.shape[1]] = crop
        big = Image.fromarray(canvas, "L")
    return Image.eval(big, lambda v: 255 - v)  # black ink on white, like the canvas


def measure(model_path: Path, data, n: int, workdir: Path, seed: int) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    import numpy as np

    from dlcheck.draw.model import load_model
    from dlcheck.draw.predict import predict_files

    model = load_model(model_path)
    x, y = data.x_test[:n], data.y_test[:n].astype(int)
    raw = model.probabilities(x.astype(np.float32) / 255.0).argmax(axis=1)
    rows: dict[str, dict] = {"arrays": {"raw": float((raw == y).mean())}}
    rng = np.random.default_rng(seed)
    for variant in VARIANTS:
        folder = workdir / variant
        folder.mkdir(parents=True, exist_ok=True)
        files = []
        for i, digit in enumerate(x):
            path = folder / f"{i:05d}.png"
            render(digit, variant, rng).save(path)
            files.append(path)
        row = {}
        for label, pre in (("raw", False), ("preprocessed", True)):
            report = predict_files(files, model, preprocess=pre)
            digits = np.array([r.prediction.digit if r.prediction else -1 for r in report.results])
            row[label] = float((digits == y).mean())
        rows[variant] = row
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=os.environ.get("DLCHECK_DATA") or str(DEFAULT_DATA))
    parser.add_argument("--model", help="use this saved model instead of training one")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--n", type=int, default=2000, help="held-out digits to render")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from dlcheck.bench.data import load_mnist

    data = load_mnist(args.data, allow_download=False)
    per_seed = []
    with tempfile.TemporaryDirectory(prefix="dlcheck-draw-acc-") as tmp:
        for seed in args.seeds:
            work = Path(tmp) / f"seed{seed}"
            work.mkdir()
            if args.model:
                model_path = Path(args.model)
            else:
                model_path = work / "cnn.keras"
                doc = train(args.data, args.epochs, seed, model_path)
                accuracy = (doc.get("test") or {}).get("accuracy")
                print(
                    f"seed {seed}: trained cnn {args.epochs} epochs, held-out accuracy {accuracy}",
                    file=sys.stderr,
                )
            per_seed.append(measure(model_path, data, min(args.n, data.n_test), work, seed))
    names = ["arrays", *VARIANTS]
    table = {
        name: {
            col: statistics.median(r[name][col] for r in per_seed)
            for col in ("raw", "preprocessed")
            if col in per_seed[0][name]
        }
        for name in names
    }
    if args.json:
        print(json.dumps({"data": data.note, "seeds": args.seeds, "median": table}, indent=2))
        return
    print(f"data: {data.note}")
    print(f"held-out digits: {min(args.n, data.n_test)}; seeds {args.seeds} (median shown)")

    def cell(name: str, col: str) -> str:
        if col not in table[name]:
            return "—"
        values = [r[name][col] for r in per_seed]
        spread = f" ({min(values):.4f}–{max(values):.4f})" if len(values) > 1 else ""
        return f"{table[name][col]:.4f}{spread}"

    print("| variant | without preprocessing | with preprocessing |")
    print("|---|---:|---:|")
    for name in names:
        label = "held-out arrays (reference)" if name == "arrays" else name
        print(f"| {label} | {cell(name, 'raw')} | {cell(name, 'preprocessed')} |")
    if len(per_seed) > 1:
        print("(median over seeds; min–max in brackets)")


if __name__ == "__main__":
    main()
