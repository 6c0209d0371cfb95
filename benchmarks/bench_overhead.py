"""Overhead of `dlcheck bench` against a plain Keras script training the same model.

Runs benchmarks/plain_keras_mlp.py and `dlcheck bench --json` alternately, each in a fresh
process, on the same data and epochs, and compares the medians of their steady-state
samples/s (epoch 1, with compilation, left out by both). Target: dlcheck >= 0.95 x plain.

    .venv/bin/python benchmarks/bench_overhead.py --rounds 7 --epochs 8
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

from runjson import DEFAULT_DATA, REPO, run_json


def run(cmd: list[str]) -> dict:
    return run_json(cmd)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(DEFAULT_DATA), help="directory with the t10k IDX files")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--backend", default="tensorflow")
    args = ap.parse_args()

    os.environ["KERAS_BACKEND"] = args.backend
    plain_cmd = [
        sys.executable,
        str(REPO / "benchmarks" / "plain_keras_mlp.py"),
        "--idx-dir",
        args.data,
        "--n-train",
        "8000",
        "--epochs",
        str(args.epochs),
    ]
    dl_cmd = [
        sys.executable,
        "-m",
        "dlcheck",
        "bench",
        "--json",
        "--backend",
        args.backend,
        "--data",
        args.data,
        "--epochs",
        str(args.epochs),
    ]
    plain, dl = [], []
    for i in range(args.rounds):
        # Alternate which goes first, so a slow spell on the shared machine hits both.
        order = [("plain", plain_cmd), ("dlcheck", dl_cmd)]
        for name, cmd in order if i % 2 == 0 else order[::-1]:
            doc = run(cmd)
            sps = doc["samples_per_s"] if name == "plain" else doc["throughput"]["samples_per_s"]
            (plain if name == "plain" else dl).append(sps)
            print(f"round {i + 1} {name:8s} {sps:10,.0f} samples/s", file=sys.stderr)
    mp, md = statistics.median(plain), statistics.median(dl)
    ratio = md / mp
    paired = statistics.median(d / p for d, p in zip(dl, plain, strict=True))
    verdict = "met" if ratio >= 0.95 else "NOT met"
    print("| runner | median samples/s | min | max | runs |\n|---|---|---|---|---|")
    print(f"| plain Keras | {mp:,.0f} | {min(plain):,.0f} | {max(plain):,.0f} | {len(plain)} |")
    print(f"| dlcheck bench | {md:,.0f} | {min(dl):,.0f} | {max(dl):,.0f} | {len(dl)} |")
    print(f"\nratio of medians dlcheck / plain = {ratio:.3f} (target >= 0.95: {verdict})")
    print(f"median of per-round ratios = {paired:.3f}")


if __name__ == "__main__":
    main()
