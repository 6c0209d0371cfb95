"""Training the CNN for the draw window, in a child process, told as structured events.

The child is `dlcheck bench --progress jsonl`: each training step arrives as one JSON
line on its stderr and becomes a `Progress` event; the end becomes `Trained`. The
events go to a callback from a worker thread (the window puts them on its queue).
The child runs through dlcheck.host.processes: closing the window stops it and all
it started.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dlcheck.bench.isolated import TIMEOUT_S
from dlcheck.host import processes

log = logging.getLogger(__name__)

#: how many of the child's last output lines a failure shows
TAIL_LINES = 5


@dataclass
class Progress:
    """Where training is: epoch and batch, 1-based (batch 0: the epoch has just begun)."""

    epoch: int
    epochs: int
    batch: int
    batches: int

    @property
    def fraction(self) -> float:
        return ((self.epoch - 1) + self.batch / max(self.batches, 1)) / max(self.epochs, 1)


@dataclass
class Output:
    """A line of the child's output that is not progress (a warning, an error)."""

    text: str


@dataclass
class Trained:
    """The child ended: its exit status (None: it never started), its last lines."""

    returncode: int | None
    target: Path
    tail: list[str] = field(default_factory=list)


Event = Progress | Output | Trained


def train_command(target: Path) -> list[str]:
    """The child process that trains the CNN quickly and saves it (also as the default)."""
    return [
        sys.executable,
        "-m",
        "dlcheck",
        "bench",
        "--model",
        "cnn",
        "--epochs",
        "2",
        "--save",
        str(target),
        "--progress",
        "jsonl",
    ]


def parse_line(line: str) -> Event | None:
    """One line of the child's stderr as an event; None for a blank one."""
    text = line.strip()
    if not text:
        return None
    if text.startswith("{"):
        try:
            doc = json.loads(text)
        except ValueError:
            doc = None
        if isinstance(doc, dict) and doc.get("event") == "progress":
            return Progress(doc["epoch"], doc["epochs"], doc["batch"], doc["batches"])
    return Output(text)


class Trainer:
    """Runs one training child in a thread; `on_event` gets each Event, last a Trained."""

    def __init__(self, target: Path, on_event: Callable[[Event], None]) -> None:
        self.target = target
        self.on_event = on_event
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        cmd = train_command(self.target)
        log.info("training: %s", " ".join(cmd))
        self._thread = threading.Thread(target=self._run, args=(cmd,), name="train", daemon=True)
        self._thread.start()

    def _run(self, cmd: list[str]) -> None:
        tail: list[str] = []

        def line(_stream: str, text: str) -> None:
            event = parse_line(text)
            if isinstance(event, Output):
                tail.append(event.text)
                del tail[:-TAIL_LINES]
            if event is not None:
                self.on_event(event)

        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        done = processes.run(cmd, TIMEOUT_S, env=env, on_line=line)
        if done.spawn_error is not None:
            tail = [f"cannot start training: {done.spawn_error}"]
        elif done.signal is not None:
            tail.append(f"training ended by {done.signal}")
        self.on_event(Trained(done.returncode, self.target, tail))

    @staticmethod
    def stop() -> None:
        """Stop the training child and everything it started (the window is closing)."""
        processes.stop_all()
