"""Group 6: numeric options are checked when parsed (exit 2, naming the option).
Group 7: a closed stdout is an error; a reader that leaves early ends dlcheck quietly."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest
from hostile_helpers import assert_clean_failure, run_shell

from dlcheck.cli.common import EXIT_BROKEN_PIPE

# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("args", "option", "problem"),
    [
        (["--seed", "-1"], "--seed", "-1 is not in the range 0<=x<=4294967295"),
        (["--seed", str(2**32)], "--seed", "is not in the range 0<=x<=4294967295"),
        (["--batch-size", "10000000000000"], "--batch-size", "is not in the range 1<=x<=60000"),
        (["--batch-size", "0"], "--batch-size", "is not in the range"),
        (["--epochs", "99999999"], "--epochs", "is not in the range 1<=x<=1000"),
        (["--limit", "10000000000"], "--limit", "is not in the range 1<=x<=60000"),
        (["--folds", "1"], "--folds", "is not in the range 2<=x<=100"),
        (["--learning-rate", "nan"], "--learning-rate", "'nan' is not a finite number"),
        (["--learning-rate", "inf"], "--learning-rate", "'inf' is not a finite number"),
        (["--learning-rate", "0"], "--learning-rate", "is not in the range 0<x<=10"),
        (["--learning-rate", "-0.1"], "--learning-rate", "is not in the range"),
        (["--learning-rate", "1e308"], "--learning-rate", "is not in the range"),
    ],
)
def test_bench_numbers_are_usage_errors(cli, args, option, problem):
    result = cli("bench", "--synthetic", *args)
    assert_clean_failure(result, 2, f"Invalid value for '{option}'", problem)
    assert "epoch 1" not in result.output  # nothing trained


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("inf", "'inf' is not a finite number"),
        ("nan", "'nan' is not a finite number"),
        ("-inf", "'-inf' is not a finite number"),
        ("0", "is not in the range 0<x<=86400"),
        ("1e12", "is not in the range"),
        ("soon", "'soon' is not a valid float"),
    ],
)
def test_doctor_timeout_must_be_finite_and_positive(cli, value, problem):
    result = cli("doctor", "host", "--timeout", value)
    assert_clean_failure(result, 2, "Invalid value for '--timeout'", problem)
    assert "Host:" not in result.output  # no probe ran


def test_unknown_keras_backend_is_a_clear_error(cli, tmp_path):
    """KERAS_BACKEND=nonsense: said so, exit 2, not an internal error (3).

    Keras is imported in a fresh interpreter: this process may have it loaded already."""
    from PIL import Image

    image = tmp_path / "digit.png"
    Image.new("L", (28, 28)).save(image)
    model = tmp_path / "m.keras"
    model.write_bytes(b"PK")  # exists: the backend fails before the file is read
    script = f'KERAS_BACKEND=nonsense $DLCHECK predict "{image}" --model "{model}"'
    result = run_shell(script)
    assert_clean_failure(result, 2, "Keras cannot start", "KERAS_BACKEND='nonsense'")
    assert "set KERAS_BACKEND to tensorflow, jax or torch" in result.stderr


# --------------------------------------------------------------------------- stdout


@pytest.fixture
def inputs(tmp_path):
    """A folder of 60 failing reports (table and problems well past a pipe's 64 KiB), an
    image of a stroke, and a small saved model: enough for every command to print."""
    from hostile_helpers import doctor_report

    folder = tmp_path / "reports"
    folder.mkdir()
    doc = doctor_report(message="x" * 2000)
    for i in range(60):
        doc["host"]["hostname"] = f"ws{i:03d}"
        (folder / f"ws{i:03d}.json").write_text(json.dumps(doc))
    return {"reports": folder, "image": tmp_path / "digit.png", "model": tmp_path / "m.keras"}


#: a small digit model, built in a child so that this process does not load Keras
_MAKE_MODEL = """
import sys, keras
model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(10, activation="softmax")])
model.save(sys.argv[1])
"""


def _predict_inputs(words):
    if importlib.util.find_spec("keras") is None:
        pytest.skip("predict needs Keras: pip install 'dlcheck[tf]'")
    from PIL import Image, ImageDraw

    subprocess.run([sys.executable, "-c", _MAKE_MODEL, str(words["model"])], check=True)
    image = Image.new("L", (28, 28), 0)
    ImageDraw.Draw(image).line([(14, 4), (14, 24)], fill=255, width=3)
    image.save(words["image"])


@pytest.mark.parametrize(
    "args",
    [
        "doctor host -vv",
        "report -v {reports}",
        "report --json {reports}",
        "predict {image} --model {model}",
        "bench --synthetic --limit 64 --epochs 1 --batch-size 64",
    ],
)
def test_reader_gone_ends_dlcheck_quietly(args, inputs):
    """The pipe's reader has left before dlcheck writes (its end is closed): every write
    fails with EPIPE, which is deterministic, unlike racing a real `| head`."""
    if "predict" in args:
        _predict_inputs(inputs)
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "dlcheck", *args.format(**inputs).split()],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=600,
            check=False,
        )
    finally:
        os.close(write_end)
    assert result.returncode == EXIT_BROKEN_PIPE, result.stderr
    for noise in ("Traceback", "BrokenPipeError", "Exception ignored", "internal error"):
        assert noise not in result.stderr


def test_head_in_a_real_shell(inputs):
    """`dlcheck report -v FOLDER | head -1`: one line, and nothing on stderr but notes."""
    result = run_shell(f"$DLCHECK report -v {inputs['reports']} | head -1; echo ${{PIPESTATUS[0]}}")
    first, status = result.stdout.splitlines()
    assert first.startswith("dlcheck report: 60 host(s)")
    assert status in {str(EXIT_BROKEN_PIPE), "1"}  # 1 when the output fit in the pipe
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr


@pytest.mark.parametrize(
    "command",
    ["$DLCHECK doctor host", "$DLCHECK report {report}", "$DLCHECK bench --synthetic"],
)
def test_closed_stdout_is_an_error_on_stderr(command, tmp_path):
    from hostile_helpers import doctor_report

    report = tmp_path / "ws01.json"
    report.write_text(json.dumps(doctor_report()))
    result = run_shell(f"{command.format(report=report)} >&-")
    assert_clean_failure(result, 2, "standard output is closed", "instead of closing it")
