"""The `dlcheck draw` window: draw a digit, press Recognise, see what the model thinks.

Every stroke goes both onto the Tk canvas and into an in-memory Pillow image of the
same size, so recognising needs no screen grab and works on any OS. The image goes
through the one `preprocess` (MNIST's normalisation) and the model.

Slow work never blocks the window: the model is loaded in a thread, and training a
model (when there is none yet) is dlcheck.draw.trainer's child process, whose progress
arrives as structured events. Threads talk to Tk only through a queue polled with `after`.

This module never prints: messages for the terminal go through the `on_message`
callback the CLI passes in.
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dlcheck.draw.errors import NoDisplay, NothingDrawn
from dlcheck.draw.trainer import Output, Progress, Trained, Trainer
from dlcheck.errors import DlcheckError
from dlcheck.host import processes

log = logging.getLogger(__name__)

TITLE = "dlcheck draw"
CANVAS_SIZE = 280
#: brush diameter on the 280 px canvas: about 2 px after the scale to MNIST's 20 px box,
#: the stroke width of MNIST's own digits
BRUSH = 22
POLL_MS = 100
NO_DISPLAY_HINT = (
    "recognise digits in image files instead: dlcheck predict IMAGE.png "
    "(or run dlcheck draw inside a desktop session)"
)


def open_root() -> Any:
    """A Tk root window, or NoDisplay (exit 2) saying why there can be none here."""
    if sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")) and not os.environ.get(
        "DISPLAY"
    ):
        raise NoDisplay("no display: $DISPLAY is not set, so no window can open", NO_DISPLAY_HINT)
    try:
        import tkinter
    except ImportError as exc:
        raise NoDisplay(
            f"Tk is not available to this Python ({exc})",
            "install Tk for Python (Debian/Ubuntu: apt install python3-tk), or " + NO_DISPLAY_HINT,
        ) from None
    try:
        root = tkinter.Tk(className="dlcheck")
    except tkinter.TclError as exc:
        raise NoDisplay(f"cannot open a window: {exc}", NO_DISPLAY_HINT) from None
    return root


class DrawApp:
    """The window and its state. Create it on a Tk root; `root.mainloop()` runs it."""

    def __init__(
        self,
        root: Any,
        model_path: Path,
        *,
        model_is_default: bool,
        on_message: Callable[[str], None] = lambda _msg: None,
    ) -> None:
        import tkinter as tk
        from tkinter import ttk

        from PIL import Image, ImageDraw

        self.root = root
        self.model_path = Path(model_path)
        self.model_is_default = model_is_default
        self.on_message = on_message
        self.model: Any = None
        #: the last model problem, kept for the exit code; cleared once a model loads
        self.model_error: DlcheckError | None = None
        #: what --print-result prints: the last recognition, or why there is none
        self.last_result = "none (Recognise was not pressed)"
        self._events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._last_point: tuple[int, int] | None = None
        self._trainer: Trainer | None = None
        self._closed = False
        self._train_epoch = 0
        self._old_sigterm: Any = None

        self.image = Image.new("L", (CANVAS_SIZE, CANVAS_SIZE), 255)
        self._pen = ImageDraw.Draw(self.image)

        root.title(TITLE)
        root.resizable(False, False)
        outer = ttk.Frame(root, padding=10)
        outer.grid(row=0, column=0, sticky="nsew")

        left = ttk.Frame(outer)
        left.grid(row=0, column=0, sticky="n")
        self.canvas = tk.Canvas(
            left,
            width=CANVAS_SIZE,
            height=CANVAS_SIZE,
            background="white",
            highlightthickness=1,
            highlightbackground="#888888",
            cursor="pencil",
        )
        self.canvas.grid(row=0, column=0, columnspan=2)
        self.recognise_button = ttk.Button(left, text="Recognise", command=self.recognise)
        self.recognise_button.grid(row=1, column=0, sticky="ew", pady=(8, 0), padx=(0, 4))
        self.clear_button = ttk.Button(left, text="Clear", command=self.clear)
        self.clear_button.grid(row=1, column=1, sticky="ew", pady=(8, 0), padx=(4, 0))
        left.columnconfigure((0, 1), weight=1)

        right = ttk.Frame(outer, padding=(16, 0, 0, 0), width=240)
        right.grid(row=0, column=1, sticky="nsew")
        self.digit_var = tk.StringVar(value="?")
        ttk.Label(right, textvariable=self.digit_var, font=("TkDefaultFont", 56, "bold")).grid(
            row=0, column=0, sticky="w"
        )
        #: the accessible result: one line of text that can be read back
        self.result_var = tk.StringVar(value="Draw a digit, then press Recognise.")
        self.result_label = ttk.Label(right, textvariable=self.result_var, wraplength=230)
        self.result_label.grid(row=1, column=0, sticky="w")
        self.bars = tk.Canvas(right, width=240, height=84, highlightthickness=0)
        self.bars.grid(row=2, column=0, sticky="w", pady=(8, 8))
        self.status_var = tk.StringVar(value="")
        self.status_label = tk.Label(
            right, textvariable=self.status_var, wraplength=230, justify="left", anchor="w"
        )
        self.status_label.grid(row=3, column=0, sticky="w")
        self.train_button = ttk.Button(right, text="Train a model now", command=self.train)
        self.progress = ttk.Progressbar(right, mode="indeterminate", length=230)
        self.progress_var = tk.StringVar(value="")
        self.progress_label = ttk.Label(
            right, textvariable=self.progress_var, wraplength=230, font=("TkFixedFont", 8)
        )

        self.canvas.bind("<ButtonPress-1>", self._pen_down)
        self.canvas.bind("<B1-Motion>", self._pen_move)
        self.canvas.bind("<ButtonRelease-1>", self._pen_up)
        root.bind("<Return>", lambda _e: self.recognise())
        root.bind("<Delete>", lambda _e: self.clear())
        root.bind("<Escape>", lambda _e: self.close())
        root.bind("<Control-q>", lambda _e: self.close())
        root.protocol("WM_DELETE_WINDOW", self.close)
        if threading.current_thread() is threading.main_thread():
            # `kill PID` closes the window as the close button does (and --print-result prints).
            self._old_sigterm = signal.signal(signal.SIGTERM, lambda *_: root.after(0, self.close))

        self.recognise_button.state(["disabled"])
        root.after(POLL_MS, self._poll)
        root.after(50, self._log_layout)
        self._start_loading()

    # ------------------------------------------------------------------ drawing

    def _pen_down(self, event: Any) -> None:
        self._last_point = (event.x, event.y)
        self._dot(event.x, event.y)

    def _pen_move(self, event: Any) -> None:
        if self._last_point is None:
            self._pen_down(event)
            return
        x0, y0 = self._last_point
        self.canvas.create_line(
            x0, y0, event.x, event.y, width=BRUSH, capstyle="round", joinstyle="round"
        )
        self._pen.line([(x0, y0), (event.x, event.y)], fill=0, width=BRUSH)
        self._dot(event.x, event.y)
        self._last_point = (event.x, event.y)

    def _pen_up(self, _event: Any) -> None:
        self._last_point = None

    def _dot(self, x: int, y: int) -> None:
        # Round ends and joints, on both surfaces (PIL lines have square ends).
        r = BRUSH / 2
        self.canvas.create_oval(x - r, y - r, x + r, y + r, fill="black", outline="")
        self._pen.ellipse([x - r, y - r, x + r, y + r], fill=0)

    def clear(self) -> None:
        self.canvas.delete("all")
        self._pen.rectangle([0, 0, CANVAS_SIZE, CANVAS_SIZE], fill=255)
        self.digit_var.set("?")
        self.result_var.set("Draw a digit, then press Recognise.")
        self.bars.delete("all")

    # ------------------------------------------------------------------ recognising

    def recognise(self) -> None:
        from dlcheck.draw.preprocess import preprocess

        if self.model is None:
            self._show_status("No model is loaded yet.", error=True)
            return
        try:
            field = preprocess(self.image, where="canvas")
        except NothingDrawn:
            self.digit_var.set("–")
            self.result_var.set("Nothing drawn: draw a digit first.")
            self.bars.delete("all")
            self.last_result = "nothing drawn"
            return
        prediction = self.model.predict(field)
        self.digit_var.set(str(prediction.digit))
        self.result_var.set(
            f"Recognised: {prediction.digit} ({prediction.confidence:.1%} confident)"
        )
        self._draw_bars(prediction.top3)
        self.last_result = prediction.summary()
        log.info("recognised: %s", self.last_result)

    def _draw_bars(self, top3: list[tuple[int, float]]) -> None:
        self.bars.delete("all")
        for row, (digit, p) in enumerate(top3):
            y = 6 + row * 26
            self.bars.create_text(4, y + 9, text=str(digit), anchor="w", font=("TkDefaultFont", 12))
            self.bars.create_rectangle(24, y, 24 + 140, y + 18, outline="#bbbbbb")
            colour = "#2e7d32" if row == 0 else "#7f9fbf"
            self.bars.create_rectangle(24, y, 24 + max(1, round(140 * p)), y + 18, fill=colour)
            self.bars.create_text(170, y + 9, text=f"{p:.1%}", anchor="w")

    # ------------------------------------------------------------------ the model

    def _start_loading(self) -> None:
        from dlcheck.draw.model import check_model_file

        try:
            check_model_file(self.model_path)
        except DlcheckError as exc:
            if self.model_is_default:
                self._offer_training()
            else:
                self._model_failed(exc)
            return
        self._show_status(f"Loading model {self.model_path} …")
        threading.Thread(target=self._load_worker, name="load-model", daemon=True).start()

    def _load_worker(self) -> None:
        from dlcheck.draw.model import load_model

        try:
            self._events.put(("loaded", load_model(self.model_path)))
        except DlcheckError as exc:
            self._events.put(("load-error", exc))
        except Exception as exc:  # noqa: BLE001 - a thread must hand every failure back
            self._events.put(("load-error", DlcheckError(f"{type(exc).__name__}: {exc}")))

    def _model_ready(self, model: Any) -> None:
        self.model = model
        self.model_error = None
        self.result_var.set("Draw a digit, then press Recognise.")
        self.recognise_button.state(["!disabled"])
        self._show_status(f"Model: {model.path.name} ({model.layout} input)")
        log.info("model ready: %s", model.path)

    def _model_failed(self, exc: DlcheckError) -> None:
        self.model_error = exc
        self.result_var.set("No usable model, so nothing can be recognised (see below).")
        text = exc.message + (f"\nhint: {exc.hint}" if exc.hint else "")
        self._show_status(text, error=True)
        self.on_message(f"error: {exc.message}" + (f"\n  hint: {exc.hint}" if exc.hint else ""))

    def _offer_training(self) -> None:
        from dlcheck.draw.model import TRAIN_HINT

        # Not an error: closing the window without training is a choice (exit 0).
        self._show_status(
            f"No saved model yet ({self.model_path}).\n"
            "Train the CNN now? It takes a few minutes on a CPU, less on a GPU."
        )
        self.on_message(
            f"no saved model at {self.model_path}: the window offers to train one ({TRAIN_HINT})"
        )
        self.train_button.grid(row=4, column=0, sticky="w", pady=(8, 0))
        self.root.after(100, self._log_layout)

    def train(self) -> None:
        """Train the CNN in a child process; show its progress; then load the model."""
        from dlcheck import paths

        target = paths.models_dir() / "draw-cnn.keras"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.unlink(missing_ok=True)  # success is judged by the file appearing
        self.train_button.state(["disabled"])
        self.progress.configure(mode="indeterminate", value=0)
        self.progress.grid(row=5, column=0, sticky="w", pady=(8, 0))
        self.progress_label.grid(row=6, column=0, sticky="w")
        self.progress.start(15)
        self._show_status("Training the CNN … the window stays usable meanwhile.")
        self._trainer = Trainer(target, lambda event: self._events.put(("train", event)))
        self._trainer.start()

    def _on_training(self, event: Progress | Output | Trained) -> None:
        if isinstance(event, Trained):
            self._training_done(event)
        elif isinstance(event, Progress):
            self._show_progress(event)
        else:
            self.progress_var.set(event.text[-200:])

    def _show_progress(self, p: Progress) -> None:
        if str(self.progress.cget("mode")) != "determinate":
            self.progress.stop()
            self.progress.configure(mode="determinate", maximum=1000)
        if p.epoch != self._train_epoch:
            self._train_epoch = p.epoch
            log.info("training: epoch %d/%d", p.epoch, p.epochs)
        self.progress.configure(value=round(1000 * p.fraction))
        self.progress_var.set(f"epoch {p.epoch}/{p.epochs}, batch {p.batch}/{p.batches}")

    def _training_done(self, done: Trained) -> None:
        self.progress.stop()
        self.progress.grid_remove()
        self._trainer = None
        rc, target = done.returncode, done.target
        if target.is_file():
            # The bench exits 1 when accuracy misses its target but still saves the model.
            if rc != 0:
                self.on_message(f"training finished with exit code {rc}; using {target}")
            self.model_path = target
            self.model_is_default = False
            self.progress_var.set("")
            self.train_button.grid_remove()
            self._start_loading()
            return
        self.train_button.state(["!disabled"])
        self._model_failed(
            DlcheckError(
                f"training failed (exit {rc}): " + (done.tail[-1] if done.tail else "no output"),
                hint="run `dlcheck bench --model cnn --save FILE.keras` in a terminal to see why",
            )
        )

    # ------------------------------------------------------------------ plumbing

    def _show_status(self, text: str, *, error: bool = False) -> None:
        self.status_var.set(text)
        self.status_label.configure(foreground="#b00020" if error else "#333333")

    def _poll(self) -> None:
        if self._closed:
            return
        try:
            while True:
                kind, payload = self._events.get_nowait()
                if kind == "loaded":
                    self._model_ready(payload)
                elif kind == "load-error":
                    self._model_failed(payload)
                elif kind == "train":
                    self._on_training(payload)
        except queue.Empty:
            pass
        self.root.after(POLL_MS, self._poll)

    def _log_layout(self) -> None:
        """Log where the canvas and buttons are on screen (-v): lets tests click them."""
        self.root.update_idletasks()
        if not self.canvas.winfo_ismapped():  # not on screen yet: ask again shortly
            self.root.after(50, self._log_layout)
            return
        parts = []
        for name, widget in (
            ("canvas", self.canvas),
            ("recognise", self.recognise_button),
            ("clear", self.clear_button),
            ("train", self.train_button),
        ):
            if not widget.winfo_ismapped():
                continue
            x, y = widget.winfo_rootx(), widget.winfo_rooty()
            parts.append(f"{name}={x},{y},{widget.winfo_width()},{widget.winfo_height()}")
        log.info("layout %s", " ".join(parts))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._trainer is not None:
            self._trainer.stop()
        if self._old_sigterm is not None:
            signal.signal(signal.SIGTERM, self._old_sigterm)
        self.root.destroy()

    @property
    def exit_code(self) -> int:
        """0, or the model error's code when the window never got a usable model."""
        if self.model is None and self.model_error is not None:
            return self.model_error.exit_code
        return 0


def run(
    model_path: Path,
    *,
    model_is_default: bool,
    on_message: Callable[[str], None] = lambda _msg: None,
) -> DrawApp:
    """Open the window and run it until it is closed; return the app (its result, exit code)."""
    try:
        import PIL  # noqa: F401 - fail before the window opens, with the fix
    except ImportError:
        from dlcheck.errors import MissingDependency

        raise MissingDependency(
            "Pillow is not installed", hint="pip install 'dlcheck[draw]'"
        ) from None
    root = open_root()
    app = DrawApp(root, model_path, model_is_default=model_is_default, on_message=on_message)
    with processes.stopped_on_interrupt():  # Ctrl-C in the terminal ends training too
        root.mainloop()
    return app
