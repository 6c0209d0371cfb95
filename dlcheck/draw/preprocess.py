"""MNIST's own normalisation for a drawn or scanned digit, in one function: `preprocess`.

MNIST's digits were size-normalised to fit a 20x20 box (aspect ratio kept, with
anti-aliasing) and then placed in a 28x28 field so that their centre of mass sits at
the centre (LeCun et al., "The MNIST database of handwritten digits"). The models of
`dlcheck bench` learn exactly that distribution, as float32 in [0, 1], white digit on
black. A drawing fed to them raw (large, off-centre, black on white) is often misread;
`preprocess` makes it look like MNIST first.

numpy and Pillow are imported inside the functions so that importing this module is cheap.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from dlcheck.draw.errors import NothingDrawn

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

#: side of the field the models take
FIELD = 28
#: side of the box the digit's longer side is scaled to
BOX = 20
#: where the centre of mass goes, in pixel-index coordinates. Measured on the 10,000
#: official test digits: mean centre of mass (13.99, 14.01), std 0.29 px.
CENTRE = 14.0
#: a pixel is ink when it is this far (fraction of the full range) from the background.
#: Low enough that MNIST's own faint anti-aliased edges count (so an MNIST digit keeps
#: its 20 px box), high enough to ignore JPEG noise and paper grain.
INK_THRESHOLD = 0.05


def to_gray(image: Any) -> np.ndarray:
    """A 2-D float32 array in [0, 1] from a PIL image or a numpy array.

    PIL images of any mode are converted to 8-bit grey; transparency is laid over white
    first (ink drawn on a transparent background must not vanish into black). Arrays:
    uint8 (and other integers) are divided by 255, bool maps to {0, 1}, floats are taken
    as [0, 1]; a trailing channel axis (1, 3 or 4) is averaged away (alpha dropped).
    """
    import numpy as np

    if hasattr(image, "convert") and hasattr(image, "mode"):  # a PIL image, without importing PIL
        from PIL import Image

        if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
            rgba = image.convert("RGBA")
            white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            image = Image.alpha_composite(white, rgba)
        arr = np.asarray(image.convert("L"), dtype=np.float32) / 255.0
        return arr
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[-1] in (1, 3, 4):
        arr = arr[..., : min(arr.shape[-1], 3)].mean(axis=-1) if arr.shape[-1] > 1 else arr[..., 0]
    if arr.ndim != 2:
        raise ValueError(f"expected a 2-D grey image, got an array of shape {arr.shape}")
    if arr.dtype == np.bool_:
        return arr.astype(np.float32)
    if np.issubdtype(arr.dtype, np.integer):
        return arr.astype(np.float32) / 255.0
    return np.clip(arr.astype(np.float32), 0.0, 1.0)


def to_mnist_polarity(gray: np.ndarray) -> np.ndarray:
    """Ink as bright on a zero background: MNIST's polarity, whatever the input's.

    The background is the median pixel (a digit covers well under half of its image:
    19 % of MNIST's pixels are non-zero). A bright background (ink on paper, a white
    canvas) is inverted; then the background level is subtracted and the range restored.
    """
    import numpy as np

    background = float(np.median(gray))
    ink = gray
    if background > 0.5:
        ink = 1.0 - gray
        background = 1.0 - background
    ink = (ink - background) / max(1.0 - background, 1e-6)
    return np.clip(ink, 0.0, 1.0).astype(np.float32)


def _ink_box(ink: np.ndarray, where: str) -> tuple[slice, slice]:
    """Rows and columns that hold ink; NothingDrawn if there is none."""
    import numpy as np

    mask = ink > INK_THRESHOLD
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        raise NothingDrawn(where)
    cols = np.flatnonzero(mask.any(axis=0))
    return slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1)


def _resize(ink: np.ndarray, height: int, width: int) -> np.ndarray:
    """Anti-aliased resize of a float image (Lanczos, as smooth as MNIST's own)."""
    import numpy as np
    from PIL import Image

    if ink.shape == (height, width):
        return ink.copy()
    img = Image.fromarray(np.ascontiguousarray(ink, dtype=np.float32))
    out = img.resize((width, height), Image.Resampling.LANCZOS)
    # Lanczos rings slightly below 0 and above 1 next to sharp edges.
    return np.clip(np.asarray(out, dtype=np.float32), 0.0, 1.0)


def preprocess(image: Any, *, where: str = "image") -> np.ndarray:
    """Normalise one digit image the way MNIST was made; return float32 (28, 28) in [0, 1].

    1. grey, white ink on black (any input polarity; see `to_mnist_polarity`);
    2. crop to the ink's bounding box;
    3. scale the longer side to 20 px, keeping the aspect ratio (anti-aliased);
    4. paste into a 28x28 field so that the centre of mass is at the centre (shifted by
       whole pixels as MNIST did, and never past the field's edge);
    5. stretch to the full [0, 1] range (MNIST's digits all peak at 254-255).

    An image with no ink raises NothingDrawn (`where` names it in the message): there is
    no digit, so there must be no guess.
    """
    import numpy as np

    ink = to_mnist_polarity(to_gray(image))
    rows, cols = _ink_box(ink, where)
    crop = ink[rows, cols]
    h, w = crop.shape
    scale = BOX / max(h, w)
    new_h = min(BOX, max(1, round(h * scale)))
    new_w = min(BOX, max(1, round(w * scale)))
    digit = _resize(crop, new_h, new_w)
    peak = float(digit.max())
    if peak <= 0.0:  # only possible for a speck that vanished in the resize
        raise NothingDrawn(where)
    digit /= peak

    ys, xs = np.indices(digit.shape, dtype=np.float64)
    mass = float(digit.sum())
    cy = float((digit * ys).sum()) / mass
    cx = float((digit * xs).sum()) / mass
    top = int(np.clip(np.floor(CENTRE - cy + 0.5), 0, FIELD - new_h))
    left = int(np.clip(np.floor(CENTRE - cx + 0.5), 0, FIELD - new_w))
    field = np.zeros((FIELD, FIELD), dtype=np.float32)
    field[top : top + new_h, left : left + new_w] = digit
    log.debug(
        "%s: ink box %dx%d -> %dx%d, centre of mass (%.2f, %.2f) placed at (%d, %d)",
        where, h, w, new_h, new_w, cy, cx, top, left,
    )  # fmt: skip
    return field


def resize_only(image: Any, *, where: str = "image") -> np.ndarray:
    """The raw baseline (`predict --no-preprocess`): the whole image squashed to 28x28.

    Only the polarity is normalised (so the comparison measures cropping, scaling and
    centring, not an inverted background). An image with no ink still raises
    NothingDrawn: no guess without a digit.
    """
    ink = to_mnist_polarity(to_gray(image))
    _ink_box(ink, where)
    return _resize(ink, FIELD, FIELD)
