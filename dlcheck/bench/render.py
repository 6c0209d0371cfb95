"""Human output of a bench result, beside the doctor's renderer (dlcheck.doctor.render).

Functions of the result document only: they return text, the CLI prints it.
"""

from __future__ import annotations

from typing import Any

PROGRESS_BAR_WIDTH = 24


def progress_line(epoch: int, epochs: int, batch: int, batches: int) -> str:
    """The terminal's progress line: "epoch 2/3 [##########..............] batch 40/63"."""
    done = int(PROGRESS_BAR_WIDTH * batch / max(batches, 1))
    bar = "#" * done + "." * (PROGRESS_BAR_WIDTH - done)
    return f"epoch {epoch}/{epochs} [{bar}] batch {batch}/{batches}"


def progress_event(epoch: int, epochs: int, batch: int, batches: int) -> dict[str, Any]:
    """The same moment as a JSON-lines event (`dlcheck bench --progress jsonl`)."""
    return {
        "event": "progress",
        "epoch": epoch,
        "epochs": epochs,
        "batch": batch,
        "batches": batches,
    }


def _fmt_bytes(n: int | None) -> str:
    if n is None:
        return "n/a"
    return f"{n / 2**30:.2f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"


def render(doc: dict[str, Any]) -> str:
    """Human summary of a result document."""
    lines = []
    dev = doc["device"]
    status = doc["status"].upper()
    lines.append(
        f"{status}: {doc['model']} on {doc['backend']} {doc['backend_version']} "
        f"(keras {doc['keras_version']}), device requested {dev['requested']}, "
        f"used {dev['used']}" + (f" ({dev['name']})" if dev["name"] else "")
    )
    if doc["reason"]:
        lines.append(f"  reason: {doc['reason']}")
    data = doc["data"]
    lines.append(f"  data: {data['kind']}, {data['source']} ({data['found_by']})")
    lines.append(f"        {data['note']}")
    cfg = doc["config"]
    lines.append(
        f"  config: {cfg['epochs']} epoch(s), batch {cfg['batch_size']}, {cfg['optimizer']}, "
        f"seed {cfg['seed']}, {data['n_train']} train / {data['n_test']} test images"
    )
    for e in doc["epochs"]:
        val = f", val acc {e['val_accuracy']:.4f}" if e["val_accuracy"] is not None else ""
        lines.append(
            f"  epoch {e['epoch']}: {e['seconds']:.2f} s, loss {e['loss']:.4f}, "
            f"acc {e['accuracy']:.4f}{val}"
        )
    tp = doc["throughput"]
    if tp:
        kind = (
            "steady state, epoch 1 excluded" if tp["steady_state"] else "one epoch, incl. warm-up"
        )
        peak = ""
        if tp["peak_fraction"] is not None:
            peak = f" = {tp['peak_fraction']:.1%} of peak {tp['peak_gflops']:.0f} GFLOP/s"
        lines.append(
            f"  speed: {tp['samples_per_s']:,.0f} samples/s ({kind}); first epoch "
            f"{tp['first_epoch_s']:.2f} s; {tp['gflops']:.1f} GFLOP/s{peak}"
        )
    test = doc["test"]
    if test:
        limit = test["threshold"]
        judged = "not judged" if limit is None else f"threshold {limit}"
        lines.append(f"  test: accuracy {test['accuracy']:.4f} ({judged}), loss {test['loss']:.4f}")
    mem = doc["memory"]
    lines.append(
        f"  memory: peak RSS {_fmt_bytes(mem['peak_rss_bytes'])}, "
        f"device peak {_fmt_bytes(mem['peak_device_bytes'])}"
    )
    if doc["folds"]:
        f = doc["folds"]
        lines.append(f"  {f['k']}-fold accuracy: {f['mean']:.4f} ± {f['std']:.4f}")
    if doc["compare_cpu"]:
        c = doc["compare_cpu"]
        lines.append(
            f"  GPU/CPU: {c['ratio']:.2f}x ({c['device_samples_per_s']:,.0f} vs "
            f"{c['cpu_samples_per_s']:,.0f} samples/s)"
        )
    for path in doc.get("saved") or []:
        lines.append(f"  saved: {path}")
    if doc.get("plot"):
        lines.append(f"  plot: {doc['plot']}")
    for w in doc["warnings"]:
        lines.append(f"  warning: {w}")
    return "\n".join(lines)
