"""`dlcheck predict`: the drawing pipeline for image files (PNG, JPEG, anything Pillow reads).

Each file is read, normalised by the same `preprocess` the window uses (or only
squashed to 28x28 with `--no-preprocess`, the baseline of the accuracy comparison),
and all good files go through the model in one batch. A bad file does not stop the
others: it gets its own error entry naming it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlcheck.draw.errors import NotAnImage
from dlcheck.errors import DataError, DlcheckError, MissingDependency
from dlcheck.host.files import check_source

if TYPE_CHECKING:
    import numpy as np

    from dlcheck.draw.model import DigitModel, Prediction

log = logging.getLogger(__name__)

#: version of the `--json` document; bump on an incompatible change
SCHEMA = "dlcheck.predict/1"
#: Largest image decoded: a 50-megapixel photo. Preprocessing keeps a few float32 copies
#: of the image (4 bytes a pixel each), so this bounds it near 1 GB; a PNG of a few KB
#: can declare 12000x12000 pixels, and would otherwise cost gigabytes.
MAX_IMAGE_PIXELS = 50_000_000
PIXELS_HINT = "a digit needs no more than a few hundred pixels a side: scale the image down"


def _check_pixels(path: Path, width: int, height: int) -> None:
    if width * height > MAX_IMAGE_PIXELS:
        raise NotAnImage(
            f"{path}: image is {width}x{height} = {width * height} pixels, more than "
            f"dlcheck's limit of {MAX_IMAGE_PIXELS}",
            hint=PIXELS_HINT,
        )


def _import_pil() -> Any:
    try:
        from PIL import Image
    except ImportError:
        raise MissingDependency(
            "Pillow is not installed", hint="pip install 'dlcheck[draw]'"
        ) from None
    return Image


def load_image(path: str | Path) -> Any:
    """Open and fully decode an image file; NotAnImage / DataError naming the file if bad.

    The size is read from the header first (Pillow opens lazily) and an image of more
    than MAX_IMAGE_PIXELS is refused before a single pixel is decoded.
    """
    image_mod = _import_pil()
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if path.is_dir():
        raise DataError(f"{path}: is a directory, not an image")
    blocked = check_source(path, "image file")
    if blocked:
        raise DataError(blocked)
    # dlcheck checks the size itself, below, from the header Image.open reads (it decodes
    # lazily), with one clear message. Pillow's own check would instead warn between its
    # limit and twice that, and raise past it without the size: it is off meanwhile.
    pillow_limit, image_mod.MAX_IMAGE_PIXELS = image_mod.MAX_IMAGE_PIXELS, None
    try:
        with image_mod.open(path) as img:
            _check_pixels(path, img.width, img.height)
            img.load()  # decode now: a truncated file fails here, not later
            return img.copy()
    except image_mod.UnidentifiedImageError:
        raise NotAnImage(
            f"{path}: not an image (Pillow cannot identify its format)",
            hint="pass PNG or JPEG files of a digit",
        ) from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise NotAnImage(
            f"{path}: unreadable image ({type(exc).__name__}: {exc})",
            hint="the file is truncated or corrupt; save it again as PNG or JPEG",
        ) from None
    finally:
        image_mod.MAX_IMAGE_PIXELS = pillow_limit


def prepare(image: Any, *, preprocess: bool = True, where: str = "image") -> np.ndarray:
    """An image (PIL or array) -> the (28, 28) float32 field the model takes."""
    from dlcheck.draw.preprocess import preprocess as mnist_preprocess
    from dlcheck.draw.preprocess import resize_only

    if preprocess:
        return mnist_preprocess(image, where=where)
    return resize_only(image, where=where)


@dataclass
class FileResult:
    """The answer for one file: a prediction, or the error that prevented one."""

    file: str
    prediction: Prediction | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"file": self.file}
        if self.prediction is not None:
            out.update(self.prediction.to_dict())
        out["error"] = self.error
        return out


@dataclass
class PredictReport:
    """All files of one `dlcheck predict` run; `--json` is `to_dict()`."""

    model: str
    preprocess: bool
    results: list[FileResult]

    @property
    def n_errors(self) -> int:
        return sum(1 for r in self.results if r.error is not None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "model": self.model,
            "preprocess": self.preprocess,
            "results": [r.to_dict() for r in self.results],
        }


def predict_files(
    files: list[str | Path], model: DigitModel, *, preprocess: bool = True
) -> PredictReport:
    """Recognise the digit in each file; bad files get an error entry, the rest a prediction."""
    import numpy as np

    from dlcheck.draw.model import prediction_from_probabilities

    _import_pil()  # a missing Pillow is one error for the run, not one per file
    results = [FileResult(str(f)) for f in files]
    fields: list[np.ndarray] = []
    good: list[FileResult] = []
    for result in results:
        try:
            image = load_image(result.file)
            fields.append(prepare(image, preprocess=preprocess, where=result.file))
            good.append(result)
        except DlcheckError as exc:
            log.info("%s", exc.message)
            result.error = exc.message
    if fields:
        probs = model.probabilities(np.stack(fields))
        for result, p in zip(good, probs, strict=True):
            result.prediction = prediction_from_probabilities(p)
    return PredictReport(model=str(model.path), preprocess=preprocess, results=results)
