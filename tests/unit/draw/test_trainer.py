"""The draw window's trainer: `dlcheck bench --progress jsonl` read as events, no regex."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

from dlcheck.draw import trainer
from dlcheck.draw.trainer import Output, Progress, parse_line, train_command
from dlcheck.host import processes


def test_progress_lines_become_events_and_the_rest_stays_text():
    line = '{"event": "progress", "epoch": 2, "epochs": 3, "batch": 4, "batches": 8}'
    assert parse_line(line) == Progress(2, 3, 4, 8)
    assert Progress(2, 3, 4, 8).fraction == pytest.approx(0.5)
    assert parse_line("WARNING something") == Output("WARNING something")
    assert parse_line('{"not": "progress"}') == Output('{"not": "progress"}')
    assert parse_line("   ") is None


def test_the_training_child_reports_progress_as_json_lines():
    assert train_command(Path("/x.keras"))[-2:] == ["--progress", "jsonl"]


@pytest.mark.slow
def test_bench_progress_jsonl_gives_every_epoch_and_batch():
    cmd = [sys.executable, "-m", "dlcheck", "bench", "--synthetic", "--limit", "512"]
    cmd += ["--epochs", "2", "--batch-size", "128", "--progress", "jsonl", "--json"]
    events: list[Progress] = []

    def line(stream: str, text: str) -> None:
        event = parse_line(text)
        if stream == "stderr" and isinstance(event, Progress):
            events.append(event)

    done = processes.run(cmd, 600, on_line=line)
    assert done.returncode == 0, done.stderr
    # Per epoch a 0/4 start, then batches never backwards, ending at 4/4.
    for epoch in (1, 2):
        mine = [(e.batch, e.batches) for e in events if e.epoch == epoch]
        assert mine[0] == (0, 4) and mine[-1] == (4, 4)
        assert [b for b, _ in mine] == sorted(b for b, _ in mine)
    assert events[-1].fraction == 1.0


def test_the_trainer_turns_a_child_into_events_ending_with_trained(tmp_path, monkeypatch):
    # A child that speaks the bench's progress protocol, writes the model file and exits
    # 1 (the bench's "did not learn"): the window must still get the file and the status.
    target = tmp_path / "m.keras"
    script = (
        "import json, sys\n"
        "for b in range(3):\n"
        "    e = dict(event='progress', epoch=1, epochs=1, batch=b, batches=2)\n"
        "    print(json.dumps(e), file=sys.stderr, flush=True)\n"
        "print('a warning', file=sys.stderr)\n"
        f"open({str(target)!r}, 'w').close()\n"
        "sys.exit(1)\n"
    )
    monkeypatch.setattr(trainer, "train_command", lambda _t: [sys.executable, "-c", script])
    events: list[trainer.Event] = []
    finished = threading.Event()

    def on_event(event: trainer.Event) -> None:
        events.append(event)
        if isinstance(event, trainer.Trained):
            finished.set()

    trainer.Trainer(target, on_event).start()
    assert finished.wait(120), "no Trained event"
    assert events[:3] == [Progress(1, 1, b, 2) for b in range(3)]
    assert events[3] == Output("a warning")
    assert events[4] == trainer.Trained(1, target, ["a warning"])
    assert target.is_file()
