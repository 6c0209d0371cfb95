"""`dlcheck draw`: no display, the window's messages, and real runs under Xvfb + xdotool.

The real runs start `dlcheck draw` as a child process on a private Xvfb display, move
the mouse with xdotool, and read the answer back from `--print-result` on close. The
window logs where its widgets are (`-v`: "layout canvas=x,y,w,h ..."), so the test
clicks the real buttons wherever the toolkit put them.
"""

from __future__ import annotations

import gc
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from dlcheck.cli import main

REPO = Path(__file__).resolve().parents[3]
LAYOUT_RE = re.compile(r"(\w+)=(\d+),(\d+),(\d+),(\d+)")


# ---------------------------------------------------------------- no display


def test_no_display_points_to_predict_and_exits_2(monkeypatch, tmp_path):
    monkeypatch.delenv("DISPLAY", raising=False)
    result = CliRunner().invoke(main, ["draw", "--model", str(tmp_path / "m.keras")])
    assert result.exit_code == 2
    assert "error: no display: $DISPLAY is not set" in result.output
    assert "dlcheck predict IMAGE.png" in result.output
    assert "Traceback" not in result.output


def test_unreachable_display_points_to_predict_and_exits_2(monkeypatch):
    monkeypatch.setenv("DISPLAY", ":987")  # nothing listens there
    result = CliRunner().invoke(main, ["draw"])
    assert result.exit_code == 2
    assert "error: cannot open a window" in result.output
    assert "dlcheck predict" in result.output
    assert "Traceback" not in result.output


def test_missing_tk_points_to_predict_and_exits_2(monkeypatch):
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setitem(sys.modules, "tkinter", None)  # `import tkinter` now fails
    result = CliRunner().invoke(main, ["draw"])
    assert result.exit_code == 2
    assert "error: Tk is not available to this Python" in result.output
    assert "apt install python3-tk" in result.output
    assert "dlcheck predict" in result.output


@pytest.mark.parametrize("argv", [["draw", "--help"], ["predict", "--help"]])
def test_help_imports_no_toolkit_or_image_library(argv):
    code = (
        "import sys\n"
        "from dlcheck.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        "heavy = ('numpy', 'PIL', 'tkinter', 'keras', 'tensorflow')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "--model" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "[]"


# ---------------------------------------------------------------- in-process window


@pytest.fixture
def window(xvfb_display, monkeypatch):
    """Open DrawApp in this process on Xvfb; yields a factory; pumps Tk until a condition."""
    monkeypatch.setenv("DISPLAY", xvfb_display)
    from dlcheck.draw.app import DrawApp, open_root

    opened = []

    def make(model_path: Path, *, default: bool = False):
        messages: list[str] = []
        root = open_root()
        app = DrawApp(root, model_path, model_is_default=default, on_message=messages.append)
        opened.append(app)
        return app, messages

    yield make
    for app in opened:
        app.close()
    opened.clear()
    # Collect Tk variables here, in the main thread: collected later in a worker
    # thread, their __del__ would call into Tk from the wrong thread.
    gc.collect()


def pump(app, until, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not until():
        assert time.monotonic() < deadline, "the window did not get there in time"
        app.root.update()
        time.sleep(0.02)


@pytest.mark.slow
def test_empty_canvas_is_nothing_drawn_in_the_window(window, trained_model):
    app, _ = window(trained_model.path)
    pump(app, lambda: app.model is not None)
    app.recognise()
    assert app.last_result == "nothing drawn"
    assert app.result_var.get() == "Nothing drawn: draw a digit first."
    assert app.digit_var.get() != "?"  # the result area says so instead of a digit


@pytest.mark.parametrize("case", ["missing", "corrupt", "wrong-shape"])
@pytest.mark.slow
def test_bad_model_message_in_the_window_and_on_the_terminal(
    window, case, tmp_path, wrong_shape_model
):
    path = {
        "missing": tmp_path / "nope.keras",
        "corrupt": tmp_path / "corrupt.keras",
        "wrong-shape": wrong_shape_model,
    }[case]
    if case == "corrupt":
        path.write_bytes(b"not a zip archive at all")
    expected = {
        "missing": f"{path}: no such model file",
        "corrupt": f"{path}: cannot be loaded as a Keras model",
        "wrong-shape": "takes input of shape (None, 32, 32, 3)",
    }[case]
    app, messages = window(path)
    pump(app, lambda: app.model_error is not None)
    assert expected in app.status_var.get()  # in the window
    assert any(expected in m for m in messages)  # and on the terminal
    assert app.exit_code == 2
    app.recognise()  # pressing Recognise anyway gives no guess
    assert app.last_result.startswith("none")


def test_no_default_model_offers_training_instead_of_failing(window, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    from dlcheck.draw.model import default_model_path

    app, messages = window(default_model_path(), default=True)
    pump(app, lambda: app.train_button.winfo_ismapped())
    assert "Train the CNN now?" in app.status_var.get()
    assert any("no saved model" in m for m in messages)
    assert app.exit_code == 0  # closing without training is a choice, not a failure


# ---------------------------------------------------------------- real runs with xdotool


class DrawProcess:
    """`dlcheck draw` in a child process on the Xvfb display, driven by xdotool."""

    def __init__(self, display: str, args: list[str], tmp_path: Path, env: dict | None = None):
        self.display = display
        self.env = {**os.environ, **(env or {}), "DISPLAY": display}
        self.err_path = tmp_path / "draw.stderr"
        self.err = open(self.err_path, "w")  # noqa: SIM115 - closed in finish()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dlcheck", "draw", "--print-result", "-v", *args],
            stdout=subprocess.PIPE,
            stderr=self.err,
            text=True,
            env=self.env,
            cwd=REPO,
        )

    def stderr(self) -> str:
        return self.err_path.read_text()

    def wait_for(self, pattern: str, timeout: float = 90.0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(pattern, self.stderr())
            if match:
                return match
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"no {pattern!r} from dlcheck draw; stderr:\n{self.stderr()}")

    def layout(self, widget: str) -> tuple[int, int, int, int]:
        match = self.wait_for(rf"layout .*\b{widget}=(\d+),(\d+),(\d+),(\d+)")
        x, y, w, h = (int(g) for g in match.groups())
        return x, y, w, h

    def xdotool(self, *args: object) -> None:
        subprocess.run(["xdotool", *map(str, args)], env=self.env, check=True, timeout=30)

    def click(self, widget: str) -> None:
        x, y, w, h = self.layout(widget)
        self.xdotool("mousemove", "--sync", x + w // 2, y + h // 2, "click", 1)

    def stroke(self, points: list[tuple[int, int]]) -> None:
        """Press, drag through the points (canvas coordinates), release."""
        cx, cy, _, _ = self.layout("canvas")
        x0, y0 = points[0]
        self.xdotool("mousemove", "--sync", cx + x0, cy + y0, "mousedown", 1)
        for x, y in points[1:]:
            self.xdotool("mousemove", "--sync", cx + x, cy + y)
        self.xdotool("mouseup", 1)

    def screenshot(self, path: Path) -> Path:
        from PIL import ImageGrab

        ImageGrab.grab(xdisplay=self.display).save(path)
        return path

    def finish(self) -> tuple[int, str]:
        """Close with the Escape key binding; return (exit code, stdout)."""
        if self.proc.poll() is None:
            try:
                # Without a window manager the keyboard follows the pointer: put it there.
                x, y, w, h = self.layout("canvas")
                self.xdotool("mousemove", "--sync", x + w // 2, y + h // 2, "key", "Escape")
            except (AssertionError, subprocess.SubprocessError):
                self.proc.terminate()  # SIGTERM closes the window the same way
        try:
            out, _ = self.proc.communicate(timeout=30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            self.err.close()
        return self.proc.returncode, out


def vertical_one() -> list[tuple[int, int]]:
    return [(141, y) for y in range(45, 241, 10)]


@pytest.mark.slow
def test_real_window_draw_a_one_and_read_it_back(xvfb_display, trained_model, tmp_path):
    run = DrawProcess(xvfb_display, ["--model", str(trained_model.path)], tmp_path)
    try:
        window_ids = subprocess.run(
            ["xdotool", "search", "--sync", "--name", "^dlcheck draw$"],
            env=run.env, capture_output=True, text=True, timeout=60, check=True,
        ).stdout.split()  # fmt: skip
        assert window_ids, "no window titled 'dlcheck draw'"
        run.wait_for("model ready")
        run.stroke(vertical_one())
        run.click("recognise")
        run.wait_for(r"recognised: \d")
        shot = run.screenshot(tmp_path / "draw-window.png")
    finally:
        code, out = run.finish()
    assert code == 0, run.stderr()
    assert re.fullmatch(r"result: 1 \(\d+\.\d%\)  top-3: 1 .*\n", out), out
    # The screenshot shows the window with the black stroke in the middle of the canvas.
    from PIL import Image

    cx, cy, w, h = run.layout("canvas")
    image = Image.open(shot).convert("L")
    assert image.getpixel((cx + 141, cy + 140)) < 60  # the stroke
    assert image.getpixel((cx + 40, cy + 140)) > 200  # white canvas beside it


@pytest.mark.slow
def test_real_window_clear_then_recognise_is_nothing_drawn(xvfb_display, trained_model, tmp_path):
    run = DrawProcess(xvfb_display, ["--model", str(trained_model.path)], tmp_path)
    try:
        run.wait_for("model ready")
        run.stroke(vertical_one())
        run.click("clear")
        run.click("recognise")
        time.sleep(0.5)
    finally:
        code, out = run.finish()
    assert code == 0, run.stderr()
    assert out == "result: nothing drawn\n"


@pytest.mark.slow
def test_real_window_missing_model_is_reported_and_exits_2(xvfb_display, tmp_path):
    missing = tmp_path / "gone.keras"
    run = DrawProcess(xvfb_display, ["--model", str(missing)], tmp_path)
    try:
        run.wait_for(re.escape(f"error: {missing}: no such model file"))
        run.layout("canvas")  # the window is up and shows it too
    finally:
        code, out = run.finish()
    assert code == 2
    assert out.startswith("result: none")
    assert "Traceback" not in run.stderr()


@pytest.mark.slow
def test_real_window_offers_training_and_trains_the_cnn(xvfb_display, mnist_data, tmp_path):
    """No saved model yet: press "Train a model now"; `dlcheck bench` trains the CNN in a
    child process (2 epochs; about 30 s here on the 8000-image split), with progress."""
    xdg = tmp_path / "xdg"
    env = {"XDG_DATA_HOME": str(xdg), "DLCHECK_DATA": mnist_data.source}
    run = DrawProcess(xvfb_display, [], tmp_path, env=env)
    try:
        run.wait_for("no saved model at")
        run.click("train")
        run.wait_for(r"training: epoch 1/2", timeout=180)
        run.screenshot(tmp_path / "training.png")
        run.wait_for(r"training: epoch 2/2", timeout=180)
        run.wait_for("model ready", timeout=180)
        run.stroke(vertical_one())
        run.click("recognise")
        run.wait_for(r"recognised: \d")
    finally:
        code, out = run.finish()
    assert code == 0, run.stderr()
    assert out.startswith("result: 1 ("), out
    assert (xdg / "dlcheck" / "models" / "last.keras").is_file()  # the bench kept it too
