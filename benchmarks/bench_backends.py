"""The mlp and the cnn on every Keras backend installed here: samples/s, share of peak.

Each run is a fresh `dlcheck bench --json` process (the backend is fixed at Keras's
import), on the seeded 8000/2000 split of the real MNIST test set. Backends and models
are interleaved round by round so that a busy spell on a shared machine hits all of
them; the table shows the median of the rounds' steady-state samples/s.

    .venv/bin/python benchmarks/bench_backends.py --rounds 3
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys

from runjson import DEFAULT_DATA, run_json

BACKENDS = ("tensorflow", "jax", "torch")
#: per model: extra options keeping a run short (the cnn is ~30x the mlp's FLOPs)
MODEL_ARGS = {
    "mlp": ["--epochs", "5"],
    "cnn": ["--epochs", "3", "--limit", "4000"],
}


def run(backend: str, model: str, data: str, device: str) -> dict:
    cmd = [sys.executable, "-m", "dlcheck", "bench", "--json", "--backend", backend]
    cmd += ["--model", model, "--data", data, "--device", device, *MODEL_ARGS[model]]
    return run_json(cmd)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--device", default="cpu", choices=["cpu", "gpu"])
    ap.add_argument("--models", default="mlp,cnn")
    args = ap.parse_args()

    backends = [b for b in BACKENDS if importlib.util.find_spec(b)]
    models = args.models.split(",")
    runs: dict[tuple[str, str], list[dict]] = {(b, m): [] for b in backends for m in models}
    for r in range(args.rounds):
        for model in models:
            for backend in backends if r % 2 == 0 else backends[::-1]:
                doc = run(backend, model, args.data, args.device)
                runs[(backend, model)].append(doc)
                tp = doc["throughput"]
                print(
                    f"round {r + 1} {model} {backend:10s} {tp['samples_per_s']:10,.0f} samples/s"
                    f" acc {doc['test']['accuracy']:.4f}",
                    file=sys.stderr,
                )
    first = next(iter(runs.values()))[0]
    print(
        f"device: {first['device']['name']} ({args.device}); peak basis: "
        f"{first['throughput']['peak_basis']}\n"
    )
    print(
        "| model | backend | version | median samples/s | min-max | GFLOP/s | of peak "
        "| 1st epoch s | test acc |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for (backend, model), docs in runs.items():
        sps = [d["throughput"]["samples_per_s"] for d in docs]
        med = statistics.median(sps)
        tp = docs[0]["throughput"]
        gflops = med * tp["flops_per_sample"] / 1e9
        frac = f"{gflops / tp['peak_gflops']:.1%}" if tp["peak_gflops"] else "n/a"
        first_s = statistics.median(d["throughput"]["first_epoch_s"] for d in docs)
        acc = statistics.median(d["test"]["accuracy"] for d in docs)
        print(
            f"| {model} | {backend} | {docs[0]['backend_version']} | {med:,.0f} | "
            f"{min(sps):,.0f}-{max(sps):,.0f} | {gflops:.1f} | {frac} | {first_s:.2f} | {acc:.4f} |"
        )


if __name__ == "__main__":
    main()
