"""Find, read and validate MNIST; never guess.

Search order (the first that exists wins; a path given explicitly that is bad is an
error, never a silent fall-through to the next source):

1. the ``path`` argument (``dlcheck bench --data PATH``): Keras's ``mnist.npz`` or a
   directory with the IDX files (gzip-compressed or raw);
2. ``$DLCHECK_DATA``, same forms;
3. Keras's cache, ``$KERAS_HOME/datasets/mnist.npz`` (default ``~/.keras/datasets``);
4. a download of Keras's ``mnist.npz`` into that cache (origin from
   ``$DLCHECK_MNIST_URL``, short timeout, sha256 checked for the default origin);
5. otherwise a DataError that says how to get the data and offers ``--synthetic``.

A directory holding only the official test set (``t10k-*``) is split, stratified by
class with a fixed seed, into a train part and a held-out part (8000/2000 for the
10,000 images); ``MnistData.note`` and ``MnistData.split`` say so.

numpy is imported inside functions so that importing this module stays cheap.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import struct
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlcheck.errors import DataError

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions
LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension
ROWS = COLS = 28
NUM_CLASSES = 10

#: Keras's own origin and checksum for mnist.npz (keras.datasets.mnist.load_data).
KERAS_MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
KERAS_MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
#: Seconds a download may wait on the network before giving up (per socket operation).
DEFAULT_DOWNLOAD_TIMEOUT = 10.0

#: The seeded split used when only the official test set is present.
SPLIT_SEED = 0
SPLIT_HELD_OUT_FRACTION = 0.2

NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")

GET_DATA_HINT = (
    "put Keras's mnist.npz in ~/.keras/datasets/ (or pass --data FILE.npz / a directory "
    "with the four IDX files, or set $DLCHECK_DATA), or run with --synthetic for a "
    "throughput-only run without an accuracy claim"
)


@dataclass
class MnistData:
    """MNIST as uint8 arrays: images (N, 28, 28), labels (N,) in 0..9."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    #: where it came from: a file or directory path, or "synthetic"
    source: str
    #: "real" or "synthetic"
    kind: str
    #: one human sentence on what this data is (and is not)
    note: str
    #: how it was found: "argument", "DLCHECK_DATA", "keras-cache", "download", "synthetic"
    found_by: str = "argument"
    #: the split applied when only the official test set was present, else None
    split: dict[str, Any] | None = field(default=None)

    @property
    def n_train(self) -> int:
        return int(self.x_train.shape[0])

    @property
    def n_test(self) -> int:
        return int(self.x_test.shape[0])


# --------------------------------------------------------------------------- IDX files


def _read_bytes(path: Path) -> bytes:
    """Whole file contents, gunzipped when the file is gzip (by its magic, not its name)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(2)
            fh.seek(0)
            if head != b"\x1f\x8b":
                return fh.read()
            with gzip.GzipFile(fileobj=fh) as gz:
                return gz.read()
    except FileNotFoundError:
        raise DataError(f"{path}: file does not exist") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, expected an IDX file") from None
    except PermissionError:
        raise DataError(f"{path}: permission denied") from None
    except EOFError:
        raise DataError(
            f"{path}: truncated gzip file (ends before the end-of-stream marker)",
            hint="download the file again",
        ) from None
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise DataError(
            f"{path}: corrupt gzip data ({exc})", hint="download the file again"
        ) from None


def _parse_idx(path: Path, expected_magic: int, what: str) -> tuple[tuple[int, ...], bytes]:
    """Check an IDX header and payload length; return (dims, payload)."""
    raw = _read_bytes(path)
    ndim = 3 if expected_magic == IMAGES_MAGIC else 1
    header_len = 4 + 4 * ndim
    if len(raw) < 4:
        raise DataError(f"{path}: short read: {len(raw)} bytes, too short for an IDX header")
    (magic,) = struct.unpack(">I", raw[:4])
    if magic != expected_magic:
        other = {IMAGES_MAGIC: "an images file", LABELS_MAGIC: "a labels file"}.get(magic)
        found = f" (that is {other})" if other else ""
        raise DataError(
            f"{path}: wrong magic number {magic}{found}; an IDX {what} file starts with "
            f"{expected_magic}",
            hint="check that the file is an MNIST IDX file and not swapped with another one",
        )
    if len(raw) < header_len:
        raise DataError(f"{path}: short read: {len(raw)} bytes, the IDX header needs {header_len}")
    dims = struct.unpack(f">{ndim}I", raw[4:header_len])
    expected = 1
    for d in dims:
        expected *= d
    payload = raw[header_len:]
    if len(payload) < expected:
        raise DataError(
            f"{path}: short read: header promises {expected} bytes of {what}, file has "
            f"{len(payload)} (truncated file)",
            hint="download the file again",
        )
    if len(payload) > expected:
        raise DataError(
            f"{path}: {len(payload) - expected} unexpected bytes after the {expected} bytes "
            f"the header describes"
        )
    return dims, payload


def read_idx_images(path: str | Path) -> np.ndarray:
    """Read an IDX images file (gz or raw); return uint8 (N, 28, 28). Raise DataError if bad."""
    import numpy as np

    path = Path(path)
    (count, rows, cols), payload = _parse_idx(path, IMAGES_MAGIC, "images")
    if (rows, cols) != (ROWS, COLS):
        raise DataError(f"{path}: images are {rows}x{cols}, MNIST images are {ROWS}x{COLS}")
    if count == 0:
        raise DataError(f"{path}: holds 0 images")
    return np.frombuffer(payload, dtype=np.uint8).reshape(count, rows, cols).copy()


def read_idx_labels(path: str | Path) -> np.ndarray:
    """Read an IDX labels file (gz or raw); return uint8 (N,) in 0..9. Raise DataError if bad."""
    import numpy as np

    path = Path(path)
    (count,), payload = _parse_idx(path, LABELS_MAGIC, "labels")
    if count == 0:
        raise DataError(f"{path}: holds 0 labels")
    labels = np.frombuffer(payload, dtype=np.uint8).copy()
    _check_label_range(labels, str(path))
    return labels


def _check_label_range(labels: np.ndarray, where: str) -> None:
    import numpy as np

    bad = np.flatnonzero((labels < 0) | (labels >= NUM_CLASSES))
    if bad.size:
        raise DataError(
            f"{where}: {bad.size} label(s) outside 0-9 (first: {int(labels[bad[0]])} at "
            f"index {int(bad[0])})"
        )


# IDX names: the official ones and the dotted variant some mirrors use.
_IDX_NAMES = {
    ("train", "images"): ("train-images-idx3-ubyte", "train-images.idx3-ubyte"),
    ("train", "labels"): ("train-labels-idx1-ubyte", "train-labels.idx1-ubyte"),
    ("t10k", "images"): ("t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"),
    ("t10k", "labels"): ("t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"),
}


def _find_idx(directory: Path, part: str, kind: str) -> Path | None:
    for stem in _IDX_NAMES[(part, kind)]:
        for name in (stem + ".gz", stem):
            candidate = directory / name
            if candidate.is_file():
                return candidate
    return None


def _read_pair(directory: Path, part: str) -> tuple[np.ndarray, np.ndarray, Path] | None:
    images = _find_idx(directory, part, "images")
    labels = _find_idx(directory, part, "labels")
    if images is None and labels is None:
        return None
    if images is None or labels is None:
        have = images if labels is None else labels
        missing = "labels" if labels is None else "images"
        missing_name = _IDX_NAMES[(part, missing)][0]
        raise DataError(f"{directory}: has {have.name} but no {missing} file ({missing_name}[.gz])")
    x = read_idx_images(images)
    y = read_idx_labels(labels)
    if x.shape[0] != y.shape[0]:
        raise DataError(
            f"{directory}: {images.name} holds {x.shape[0]} images but {labels.name} holds "
            f"{y.shape[0]} labels"
        )
    return x, y, images


def stratified_split(
    y: np.ndarray, held_out_fraction: float = SPLIT_HELD_OUT_FRACTION, seed: int = SPLIT_SEED
) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, held_out): each class split in the same proportion, seeded.

    Per-class held-out counts are floor(fraction * class size), then the remainder
    goes to the classes with the largest fractional parts, so the total is exact.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    classes = np.unique(y)
    sizes = np.array([np.count_nonzero(y == c) for c in classes])
    want = held_out_fraction * sizes
    counts = np.floor(want).astype(int)
    total = round(held_out_fraction * len(y))
    for i in np.argsort(-(want - counts), kind="stable")[: total - counts.sum()]:
        counts[i] += 1
    train_parts, held_parts = [], []
    for c, k in zip(classes, counts, strict=True):
        idx = rng.permutation(np.flatnonzero(y == c))
        held_parts.append(idx[:k])
        train_parts.append(idx[k:])
    return rng.permutation(np.concatenate(train_parts)), rng.permutation(np.concatenate(held_parts))


def load_idx_dir(directory: str | Path, *, seed: int = SPLIT_SEED) -> MnistData:
    """Load a directory with the IDX files; only-t10k directories get the seeded split."""
    directory = Path(directory)
    train = _read_pair(directory, "train")
    test = _read_pair(directory, "t10k")
    if train is None and test is None:
        raise DataError(
            f"{directory}: no MNIST IDX files here (expected t10k-images-idx3-ubyte.gz and "
            "t10k-labels-idx1-ubyte.gz, and train-* for the full set)",
            hint=GET_DATA_HINT,
        )
    if train is not None and test is not None:
        x_tr, y_tr, _ = train
        x_te, y_te, _ = test
        return MnistData(
            x_tr,
            y_tr,
            x_te,
            y_te,
            source=str(directory),
            kind="real",
            note=f"MNIST from IDX files: {len(y_tr)} train / {len(y_te)} official test images",
        )
    # One part only: split it, stratified and seeded, and say so.
    x, y, images_file = test if test is not None else train  # type: ignore[misc]
    part = "test" if test is not None else "training"
    train_idx, held_idx = stratified_split(y, SPLIT_HELD_OUT_FRACTION, seed)
    split = {
        "of": f"official {part} set ({images_file.name})",
        "method": "stratified by class",
        "seed": seed,
        "held_out_fraction": SPLIT_HELD_OUT_FRACTION,
        "n_train": int(train_idx.size),
        "n_held_out": int(held_idx.size),
    }
    note = (
        f"only the official {part} set was found: split (stratified, seed {seed}) into "
        f"{train_idx.size} train / {held_idx.size} held-out images; test accuracy is on the "
        f"held-out part, not on the official test set"
    )
    return MnistData(
        x[train_idx],
        y[train_idx],
        x[held_idx],
        y[held_idx],
        source=str(directory),
        kind="real",
        note=note,
        split=split,
    )


# --------------------------------------------------------------------------- npz files


def load_npz(path: str | Path) -> MnistData:
    """Load and validate Keras's mnist.npz (keys x_train, y_train, x_test, y_test)."""
    import numpy as np

    path = Path(path)
    arrays: dict[str, np.ndarray] = {}
    try:
        with np.load(path, allow_pickle=False) as npz:
            if not hasattr(npz, "files"):
                raise DataError(f"{path}: is a single .npy array, not an .npz archive")
            missing = [k for k in NPZ_KEYS if k not in npz.files]
            if missing:
                raise DataError(
                    f"{path}: not an MNIST npz: missing key(s) {', '.join(missing)} "
                    f"(has: {', '.join(npz.files) or 'nothing'})"
                )
            for key in NPZ_KEYS:
                value = npz[key]
                if not isinstance(value, np.ndarray):
                    raise DataError(f"{path}: corrupt npz: member {key} is not a numpy array")
                arrays[key] = value
    except DataError:
        raise
    except FileNotFoundError:
        raise DataError(f"{path}: file does not exist") from None
    except (zipfile.BadZipFile, EOFError, zlib.error, ValueError, OSError) as exc:
        raise DataError(
            f"{path}: corrupt npz ({type(exc).__name__}: {exc})",
            hint="delete it and download Keras's mnist.npz again",
        ) from None
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        where = f"{path}: x_{split}"
        if x.ndim != 3 or x.shape[1:] != (ROWS, COLS):
            raise DataError(f"{where} has shape {x.shape}, expected (N, {ROWS}, {COLS})")
        if y.ndim != 1:
            raise DataError(f"{path}: y_{split} has shape {y.shape}, expected (N,)")
        if x.shape[0] != y.shape[0]:
            raise DataError(
                f"{path}: x_{split} holds {x.shape[0]} images but y_{split} {y.shape[0]} labels"
            )
        if x.shape[0] == 0:
            raise DataError(f"{where} holds 0 images")
        if x.dtype != np.uint8:
            raise DataError(f"{where} has dtype {x.dtype}, expected uint8 pixels")
        if not np.issubdtype(y.dtype, np.integer):
            raise DataError(f"{path}: y_{split} has dtype {y.dtype}, expected integer labels")
        _check_label_range(y, f"{path}: y_{split}")
    return MnistData(
        arrays["x_train"],
        arrays["y_train"].astype(np.uint8),
        arrays["x_test"],
        arrays["y_test"].astype(np.uint8),
        source=str(path),
        kind="real",
        note=(
            f"MNIST from {path.name}: {arrays['x_train'].shape[0]} train / "
            f"{arrays['x_test'].shape[0]} official test images"
        ),
    )


def load_path(path: str | Path) -> MnistData:
    """Load MNIST from an npz file or an IDX directory, with full validation."""
    p = Path(path).expanduser()
    if not p.exists():
        raise DataError(
            f"data path {p} does not exist",
            hint="pass Keras's mnist.npz or a directory with the MNIST IDX files",
        )
    if p.is_dir():
        return load_idx_dir(p)
    return load_npz(p)


# --------------------------------------------------------------------------- search order


def keras_cache_path() -> Path:
    """Where Keras keeps mnist.npz: $KERAS_HOME/datasets, else ~/.keras/datasets."""
    home = os.environ.get("KERAS_HOME") or os.path.join(Path.home(), ".keras")
    return Path(home).expanduser() / "datasets" / "mnist.npz"


def download_mnist(dest: Path, url: str | None = None, timeout: float | None = None) -> Path:
    """Download mnist.npz to `dest` (atomically), as Keras's downloader would.

    Own code instead of keras.utils.get_file: that has no network timeout, and an
    offline machine must fail in seconds, not hang. The sha256 is checked when the
    origin is Keras's own; any other origin is still fully validated on load.
    """
    url = url or os.environ.get("DLCHECK_MNIST_URL") or KERAS_MNIST_URL
    if timeout is None:
        try:
            timeout = float(os.environ.get("DLCHECK_DOWNLOAD_TIMEOUT", DEFAULT_DOWNLOAD_TIMEOUT))
        except ValueError:
            timeout = DEFAULT_DOWNLOAD_TIMEOUT
    expected_sha = KERAS_MNIST_SHA256 if url == KERAS_MNIST_URL else None
    log.info("downloading %s to %s (timeout %.0fs)", url, dest, timeout)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(
            f"cannot create {dest.parent}: {exc.strerror}", hint=GET_DATA_HINT
        ) from None
    digest = hashlib.sha256()
    tmp_name = None
    try:
        with (
            urllib.request.urlopen(url, timeout=timeout) as resp,
            tempfile.NamedTemporaryFile(dir=dest.parent, prefix=".mnist-", delete=False) as tmp,
        ):
            tmp_name = tmp.name
            while chunk := resp.read(1 << 16):
                digest.update(chunk)
                tmp.write(chunk)
        if expected_sha and digest.hexdigest() != expected_sha:
            raise DataError(
                f"download from {url}: sha256 {digest.hexdigest()} does not match Keras's "
                f"{expected_sha}",
                hint=GET_DATA_HINT,
            )
        os.replace(tmp_name, dest)
        tmp_name = None
    except DataError:
        raise
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise DataError(
            f"no MNIST found locally and the download from {url} failed ({reason})",
            hint=GET_DATA_HINT,
        ) from None
    finally:
        if tmp_name is not None:
            Path(tmp_name).unlink(missing_ok=True)
    return dest


def load_mnist(path: str | Path | None = None, *, allow_download: bool = True) -> MnistData:
    """Find and load real MNIST in the documented order; DataError when there is none.

    An explicitly named source (argument or $DLCHECK_DATA) that is missing or bad is an
    error: falling through to another source would hide the user's mistake.
    """
    if path is not None and str(path) != "":
        data = load_path(path)
        data.found_by = "argument"
        return data
    env = os.environ.get("DLCHECK_DATA")
    if env:
        try:
            data = load_path(env)
        except DataError as exc:
            raise DataError(f"$DLCHECK_DATA: {exc.message}", hint=exc.hint) from None
        data.found_by = "DLCHECK_DATA"
        return data
    cache = keras_cache_path()
    if cache.is_file():
        data = load_npz(cache)
        data.found_by = "keras-cache"
        return data
    if not allow_download:
        raise DataError(
            f"no MNIST data found (no --data, no $DLCHECK_DATA, nothing at {cache})",
            hint=GET_DATA_HINT,
        )
    download_mnist(cache)
    data = load_npz(cache)
    data.found_by = "download"
    return data


def synthetic_mnist(n_train: int = 60000, n_test: int = 10000, seed: int = 0) -> MnistData:
    """Random images and labels of MNIST's shapes: for throughput only, nothing to learn."""
    import numpy as np

    rng = np.random.default_rng(seed)
    return MnistData(
        rng.integers(0, 256, size=(n_train, ROWS, COLS), dtype=np.uint8),
        rng.integers(0, NUM_CLASSES, size=n_train, dtype=np.uint8),
        rng.integers(0, 256, size=(n_test, ROWS, COLS), dtype=np.uint8),
        rng.integers(0, NUM_CLASSES, size=n_test, dtype=np.uint8),
        source="synthetic",
        kind="synthetic",
        note=(
            "synthetic random data of MNIST's shapes: throughput only, accuracy is "
            "meaningless and not judged"
        ),
        found_by="synthetic",
    )
