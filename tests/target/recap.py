"""Read an ansible-playbook log: the PLAY RECAP counts, and which tasks changed or failed.

    python tests/target/recap.py LOG [--changed N] [--allow-failed] [--skipped TASK]...
                                     [--absent TASK]...

Exits 1, naming the tasks, when a host failed or was unreachable (unless --allow-failed),
when --changed is given and a host's changed count differs from it, when a TASK given
with --skipped ran anywhere (or is not in the log at all: a renamed task must not pass), or
when a TASK given with --absent is in the log (the play ended before it).
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field

_RECAP_LINE = re.compile(r"^(?P<host>\S+)\s*:\s*(?P<counts>(?:\w+=\d+\s*)+)$")
_TASK_LINE = re.compile(r"^(?:TASK|RUNNING HANDLER) \[(?P<name>.*)\] \**$")
_RESULT_LINE = re.compile(r"^(?P<status>changed|failed|fatal): \[(?P<host>[^\]]+)\]")
# ansible colours its output when forced to (ANSIBLE_FORCE_COLOR); the log may carry it.
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class HostRecap:
    """One host's line of the PLAY RECAP, plus the tasks that changed or failed on it."""

    host: str
    counts: dict[str, int]
    changed_tasks: list[str] = field(default_factory=list)
    failed_tasks: list[str] = field(default_factory=list)

    def count(self, name: str) -> int:
        return self.counts.get(name, 0)


def parse(text: str) -> dict[str, HostRecap]:
    """Return the recap of every host in an ansible-playbook log (default callback)."""
    text = _ANSI.sub("", text)
    lines = text.splitlines()
    try:
        start = max(i for i, line in enumerate(lines) if line.startswith("PLAY RECAP"))
    except ValueError:
        raise ValueError("no PLAY RECAP in the log: the play did not finish") from None
    recaps: dict[str, HostRecap] = {}
    for line in lines[start + 1 :]:
        m = _RECAP_LINE.match(line.strip())
        if not m:
            continue
        counts = {k: int(v) for k, v in (kv.split("=") for kv in m["counts"].split())}
        recaps[m["host"]] = HostRecap(m["host"], counts)
    if not recaps:
        raise ValueError("PLAY RECAP has no host lines")
    task = "?"
    for line in lines[:start]:
        if t := _TASK_LINE.match(line):
            task = t["name"]
        # "changed: [host -> delegate]" counts for host.
        elif (r := _RESULT_LINE.match(line)) and (rec := recaps.get(r["host"].split(" ")[0])):
            target = rec.changed_tasks if r["status"] == "changed" else rec.failed_tasks
            if task not in target:
                target.append(task)
    return recaps


def check(recaps: dict[str, HostRecap], changed: int | None, allow_failed: bool) -> list[str]:
    """Return the problems found (empty when the recap meets the expectation)."""
    problems = []
    for rec in recaps.values():
        if not allow_failed and (rec.count("failed") or rec.count("unreachable")):
            problems.append(
                f"{rec.host}: failed={rec.count('failed')} unreachable={rec.count('unreachable')}"
                f" (tasks: {'; '.join(rec.failed_tasks) or 'see log'})"
            )
        if changed is not None and rec.count("changed") != changed:
            problems.append(
                f"{rec.host}: changed={rec.count('changed')}, expected {changed}"
                f" (tasks: {'; '.join(rec.changed_tasks) or 'see log'})"
            )
    return problems


def not_skipped(text: str, task: str) -> list[str]:
    """Problems with a task that must have been skipped on every host where it came up."""
    lines = _ANSI.sub("", text).splitlines()
    header = f"TASK [{task}] "
    starts = [i for i, line in enumerate(lines) if line.startswith(header)]
    if not starts:
        return [f"task {task!r} is not in the log"]
    problems = []
    for start in starts:
        for line in lines[start + 1 :]:
            if _TASK_LINE.match(line) or line.startswith("PLAY "):
                break
            status = line.split(":", 1)[0]
            if status in ("ok", "changed", "failed", "fatal"):
                problems.append(f"task {task!r} ran ({line.strip()[:120]}), expected it skipped")
    return problems


def present(text: str, task: str) -> list[str]:
    """Problems with a task that must not be in the log at all."""
    header = f"TASK [{task}] "
    if any(line.startswith(header) for line in _ANSI.sub("", text).splitlines()):
        return [f"task {task!r} is in the log, expected the play to end before it"]
    return []


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("log")
    ap.add_argument("--changed", type=int, help="the changed count every host must report")
    ap.add_argument("--allow-failed", action="store_true", help="do not judge failed/unreachable")
    ap.add_argument(
        "--skipped", action="append", default=[], metavar="TASK", help="a task that must not run"
    )
    ap.add_argument(
        "--absent", action="append", default=[], metavar="TASK", help="a task that must not come up"
    )
    args = ap.parse_args(argv)
    with open(args.log, encoding="utf-8", errors="replace") as f:
        text = f.read()
        try:
            recaps = parse(text)
        except ValueError as e:
            print(f"recap: {args.log}: {e}", file=sys.stderr)
            return 1
    for rec in recaps.values():
        counts = " ".join(f"{k}={v}" for k, v in rec.counts.items())
        print(f"recap: {rec.host}: {counts}", file=sys.stderr)
    problems = check(recaps, args.changed, args.allow_failed)
    for task in args.skipped:
        problems += not_skipped(text, task)
    for task in args.absent:
        problems += present(text, task)
    for p in problems:
        print(f"recap: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
