"""Opt-in: train for real with `dlcheck bench --quick --json` and judge its document."""

from __future__ import annotations

import json
from typing import Any

from dlcheck.doctor.checks.result import make_result
from dlcheck.doctor.context import Context
from dlcheck.doctor.model import CheckResult, Finding, Status
from dlcheck.doctor.timeouts import TRAIN_S
from dlcheck.host import processes
from dlcheck.shared import BENCH_SCHEMA


def check(ctx: Context) -> CheckResult:
    cmd = ctx.options.train_command or [ctx.python, "-m", "dlcheck", "bench", "--quick", "--json"]
    timeout = ctx.timeout(TRAIN_S)
    doc, failure = run_bench(cmd, timeout, ctx.env)
    if failure is not None:
        return make_result(
            "train", "Training", "the quick training run did not finish", [failure], {}
        )
    g = ctx.gpu()
    gpu_usable = bool(g.nvml.gpus) and g.nvml.error is None and not any(x.lost for x in g.nvml.gpus)
    return judge(doc or {}, gpu_usable)


def run_bench(
    cmd: list[str], timeout: float, env: dict[str, str]
) -> tuple[dict | None, Finding | None]:
    done = processes.run(cmd, timeout, env=env)
    if done.spawn_error is not None:
        return None, Finding(Status.FAIL, "train.spawn", f"cannot run {cmd[0]}: {done.spawn_error}")
    if done.timed_out:
        return None, Finding(
            Status.FAIL,
            "train.timeout",
            f"`{' '.join(cmd[-4:])}` did not finish within {timeout:g} s "
            f"(killed {done.killed_text or 'it'})",
            "run `dlcheck bench --quick -v` by hand to see where it hangs; raise --timeout if slow",
        )
    stderr = processes.tail(done.stderr, 4)
    last = " | last stderr: " + " / ".join(stderr) if stderr else ""
    text = done.stdout.strip()
    try:
        doc = json.loads(text) if text else None
    except ValueError:
        doc = None
    if done.signal is not None:
        return None, Finding(
            Status.FAIL,
            "train.crashed",
            f"the training run crashed with {done.signal}{last}",
            "see the frameworks and compat checks",
        )
    if not isinstance(doc, dict) or doc.get("schema") != BENCH_SCHEMA:
        return None, Finding(
            Status.FAIL,
            "train.no_result",
            f"the training run (exit {done.returncode}, {done.duration_s:.0f} s) "
            f"returned no dlcheck.bench JSON{last}",
            "run `dlcheck bench --quick` by hand to see the error",
        )
    return doc, None


def judge(doc: dict[str, Any], gpu_usable: bool) -> CheckResult:
    """A bench document -> the train check. `gpu_usable`: NVML saw a working GPU."""
    device = doc.get("device") or {}
    test = doc.get("test") or {}
    throughput = doc.get("throughput") or {}
    used, acc, threshold = device.get("used"), test.get("accuracy"), test.get("threshold")
    facts = {
        "samples_per_s": throughput.get("samples_per_s"),
        "accuracy": acc,
        "device_used": used,
        "device_name": device.get("name"),
        "backend": doc.get("backend"),
        "model": doc.get("model"),
        "data": (doc.get("data") or {}).get("kind"),
        "bench_status": doc.get("status"),
    }
    findings: list[Finding] = []
    status = doc.get("status")
    if status == "fail":
        findings.append(
            Finding(
                Status.FAIL,
                "train.bench_failed",
                f"training failed: {doc.get('reason') or 'no reason given'}",
                "run `dlcheck bench --quick -v` for details",
            )
        )
    elif acc is not None and threshold is not None and acc < threshold:
        findings.append(
            Finding(
                Status.FAIL,
                "train.did_not_learn",
                f"test accuracy {acc:.3f} is below the bench's threshold {threshold}",
                "run `dlcheck bench --quick -v`; a broken BLAS or GPU kernel can train garbage",
            )
        )
    elif status == "warn":
        findings.append(
            Finding(Status.WARN, "train.bench_warned", f"bench warned: {doc.get('reason')}")
        )
    if gpu_usable and used == "cpu":
        findings.append(
            Finding(
                Status.FAIL,
                "train.ran_on_cpu",
                "a GPU is present, but training ran on the CPU",
                "see the frameworks and compat checks; pip install 'tensorflow[and-cuda]'",
            )
        )
    speed = throughput.get("samples_per_s")
    summary = f"{doc.get('model')} on {used or '?'}"
    if acc is not None:
        summary += f": accuracy {acc:.3f}"
    if speed:
        summary += f", {speed:,.0f} samples/s"
    return make_result("train", "Training", summary, findings, facts)
