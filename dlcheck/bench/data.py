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
import math
import os
import struct
import urllib.error
import urllib.request
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlcheck.errors import DataError
from dlcheck.host.files import check_source, replacing

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

#: Most bytes one data file may expand to. Full MNIST is 55 MB (47 MB of training
#: images); this leaves room for MNIST-shaped sets (EMNIST's largest is 0.55 GB) and
#: stops a gzip or zip bomb long before memory runs out.
MAX_DATA_BYTES = 1 << 30
#: DEFLATE (gzip, zip) never expands more than 1032:1, so a compressed file of n bytes
#: that claims more than 1032 * n bytes of content is lying (zlib's technical details,
#: https://www.zlib.net/zlib_tech.html, "Maximum Compression Factor").
DEFLATE_MAX_RATIO = 1032

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


def _open_idx(path: Path) -> tuple[Any, int, bool]:
    """Open an IDX file: (binary stream, size on disk, is gzip), by magic, not by name."""
    blocked = check_source(path, "data file")
    if blocked:
        raise DataError(blocked)
    try:
        fh = open(path, "rb")  # noqa: SIM115 - returned to the caller, closed there
    except FileNotFoundError:
        raise DataError(f"{path}: file does not exist") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, expected an IDX file") from None
    except PermissionError:
        raise DataError(f"{path}: permission denied") from None
    size = os.fstat(fh.fileno()).st_size
    compressed = fh.read(2) == b"\x1f\x8b"
    fh.seek(0)
    return (gzip.GzipFile(fileobj=fh) if compressed else fh), size, compressed


def _parse_idx(path: Path, expected_magic: int, what: str) -> tuple[tuple[int, ...], bytes]:
    """Check an IDX header against the file's real size, then read the payload.

    Nothing is allocated beyond what the header promises, and the header is believed
    only as far as the file can hold it: a raw file must be that long, a gzip file can
    expand at most DEFLATE_MAX_RATIO times and never past MAX_DATA_BYTES. A gzip bomb
    therefore fails on its header or after MAX_DATA_BYTES at most.
    """
    stream, size, compressed = _open_idx(path)
    try:
        with stream:
            return _read_idx(stream, size, compressed, path, expected_magic, what)
    except EOFError:
        raise DataError(
            f"{path}: truncated gzip file (ends before the end-of-stream marker)",
            hint="download the file again",
        ) from None
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise DataError(
            f"{path}: corrupt gzip data ({exc})", hint="download the file again"
        ) from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _read_idx(
    stream: Any, size: int, compressed: bool, path: Path, expected_magic: int, what: str
) -> tuple[tuple[int, ...], bytes]:
    ndim = 3 if expected_magic == IMAGES_MAGIC else 1
    header_len = 4 + 4 * ndim
    head = stream.read(header_len)
    if len(head) < 4:
        raise DataError(f"{path}: short read: {len(head)} bytes, too short for an IDX header")
    (magic,) = struct.unpack(">I", head[:4])
    if magic != expected_magic:
        other = {IMAGES_MAGIC: "an images file", LABELS_MAGIC: "a labels file"}.get(magic)
        found = f" (that is {other})" if other else ""
        raise DataError(
            f"{path}: wrong magic number {magic}{found}; an IDX {what} file starts with "
            f"{expected_magic}",
            hint="check that the file is an MNIST IDX file and not swapped with another one",
        )
    if len(head) < header_len:
        raise DataError(f"{path}: short read: {len(head)} bytes, the IDX header needs {header_len}")
    dims = struct.unpack(f">{ndim}I", head[4:header_len])
    expected = math.prod(dims)
    if compressed and expected > min(MAX_DATA_BYTES, size * DEFLATE_MAX_RATIO):
        raise DataError(
            f"{path}: header promises {expected} bytes of {what}, more than a {size}-byte "
            f"gzip file can hold (or than dlcheck reads: {MAX_DATA_BYTES})",
            hint="the file is corrupt or not MNIST; download it again",
        )
    if not compressed and expected > size - header_len:
        raise DataError(
            f"{path}: short read: header promises {expected} bytes of {what}, file has "
            f"{size - header_len} (truncated file)",
            hint="download the file again",
        )
    payload = stream.read(expected + 1)  # one more: is there anything after the payload?
    if len(payload) < expected:
        raise DataError(
            f"{path}: short read: header promises {expected} bytes of {what}, file has "
            f"{len(payload)} (truncated file)",
            hint="download the file again",
        )
    if len(payload) > expected:
        extra = f"{size - header_len - expected} " if not compressed else ""
        raise DataError(
            f"{path}: {extra}unexpected bytes after the {expected} bytes the header describes"
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


def _npz_arrays(path: Path) -> dict[str, np.ndarray]:
    """The four arrays of an MNIST npz, each header checked before its data is read.

    An npz is a zip of .npy files. The zip's directory says how long each member is,
    compressed and not; those sizes are checked against the file's real size, and each
    array's header (shape, dtype) against its member's size, before numpy allocates.
    """
    import numpy as np

    size = path.stat().st_size
    with open(path, "rb") as fh:
        magic = fh.read(6)
        if magic == b"\x93NUMPY":
            raise DataError(f"{path}: is a single .npy array, not an .npz archive")
        fh.seek(0)
        with zipfile.ZipFile(fh) as zf:
            members = {info.filename.removesuffix(".npy"): info for info in zf.infolist()}
            missing = [k for k in NPZ_KEYS if k not in members]
            if missing:
                raise DataError(
                    f"{path}: not an MNIST npz: missing key(s) {', '.join(missing)} "
                    f"(has: {', '.join(members) or 'nothing'})"
                )
            arrays: dict[str, np.ndarray] = {}
            for key in NPZ_KEYS:
                info = members[key]
                _check_npz_member(path, key, zf, info, size)
                with zf.open(info) as member:
                    arrays[key] = np.lib.format.read_array(member, allow_pickle=False)
    return arrays


def _check_npz_member(
    path: Path, key: str, zf: zipfile.ZipFile, info: zipfile.ZipInfo, size: int
) -> None:
    import numpy as np

    ratio = 1 if info.compress_type == zipfile.ZIP_STORED else DEFLATE_MAX_RATIO
    if info.compress_size > size or info.file_size > min(
        MAX_DATA_BYTES, info.compress_size * ratio
    ):
        raise DataError(
            f"{path}: corrupt npz: member {key} claims {info.file_size} bytes "
            f"({info.compress_size} compressed) in a {size}-byte file",
            hint="delete it and download Keras's mnist.npz again",
        )
    with zf.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(member)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(member)
        else:
            raise DataError(f"{path}: member {key} is a .npy of version {version}, not 1.0 or 2.0")
    if dtype.hasobject:
        raise DataError(f"{path}: member {key} holds Python objects, not numbers")
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > info.file_size:
        raise DataError(
            f"{path}: corrupt npz: member {key} declares shape {shape} of {dtype} "
            f"({nbytes} bytes) but holds {info.file_size} bytes",
            hint="delete it and download Keras's mnist.npz again",
        )


def load_npz(path: str | Path) -> MnistData:
    """Load and validate Keras's mnist.npz (keys x_train, y_train, x_test, y_test)."""
    import numpy as np

    path = Path(path)
    blocked = check_source(path, "data file")
    if blocked:
        raise DataError(blocked)
    try:
        arrays = _npz_arrays(path)
    except DataError:
        raise
    except FileNotFoundError:
        raise DataError(f"{path}: file does not exist") from None
    except PermissionError:
        raise DataError(f"{path}: permission denied") from None
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
    try:
        exists, is_dir = p.exists(), p.is_dir()
    except PermissionError:
        raise DataError(f"data path {p}: permission denied (a folder above it)") from None
    if not exists:
        raise DataError(
            f"data path {p} does not exist",
            hint="pass Keras's mnist.npz or a directory with the MNIST IDX files",
        )
    if not is_dir:
        return load_npz(p)
    if not os.access(p, os.R_OK | os.X_OK):
        raise DataError(
            f"data directory {p}: permission denied (cannot list it)",
            hint="make it readable (chmod u+rx), or run as its owner",
        )
    try:
        return load_idx_dir(p)
    except PermissionError as exc:
        raise DataError(f"data directory {p}: permission denied ({exc.filename})") from None


# --------------------------------------------------------------------------- search order


def keras_cache_path() -> Path:
    """Where Keras keeps mnist.npz: $KERAS_HOME/datasets, else ~/.keras/datasets."""
    home = os.environ.get("KERAS_HOME") or os.path.join(Path.home(), ".keras")
    return Path(home).expanduser() / "datasets" / "mnist.npz"


def _download_timeout() -> float:
    raw = os.environ.get("DLCHECK_DOWNLOAD_TIMEOUT")
    try:
        timeout = float(raw) if raw else DEFAULT_DOWNLOAD_TIMEOUT
    except ValueError:
        timeout = math.nan
    if not (0 < timeout < math.inf):
        log.warning(
            "$DLCHECK_DOWNLOAD_TIMEOUT=%r is not a positive number of seconds; using %.0f",
            raw,
            DEFAULT_DOWNLOAD_TIMEOUT,
        )
        timeout = DEFAULT_DOWNLOAD_TIMEOUT
    return timeout


def download_mnist(dest: Path, url: str | None = None, timeout: float | None = None) -> MnistData:
    """Download mnist.npz into `dest`, as Keras's downloader would, and load it.

    Own code instead of keras.utils.get_file: that has no network timeout, and an
    offline machine must fail in seconds, not hang. The download goes to a temporary
    file beside `dest` and is fully validated there (the sha256 too, when the origin is
    Keras's own); only a good file is renamed into the cache, so a bad download never
    stays behind to fail every later run.
    """
    url = url or os.environ.get("DLCHECK_MNIST_URL") or KERAS_MNIST_URL
    timeout = _download_timeout() if timeout is None else timeout
    expected_sha = KERAS_MNIST_SHA256 if url == KERAS_MNIST_URL else None
    log.info("downloading %s to %s (timeout %.0fs)", url, dest, timeout)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(
            f"cannot create {dest.parent}: {exc.strerror}", hint=GET_DATA_HINT
        ) from None
    digest = hashlib.sha256()
    with replacing(dest, what="MNIST download") as tmp:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as resp, open(tmp, "wb") as out:
                received = 0
                while chunk := resp.read(1 << 16):
                    received += len(chunk)
                    if received > MAX_DATA_BYTES:
                        raise DataError(
                            f"download from {url}: more than {MAX_DATA_BYTES} bytes; "
                            "mnist.npz is 11 MB",
                            hint=GET_DATA_HINT,
                        )
                    digest.update(chunk)
                    out.write(chunk)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise DataError(
                f"no MNIST found locally and the download from {url} failed ({reason})",
                hint=GET_DATA_HINT,
            ) from None
        if expected_sha and digest.hexdigest() != expected_sha:
            raise DataError(
                f"download from {url}: sha256 {digest.hexdigest()} does not match Keras's "
                f"{expected_sha}",
                hint=GET_DATA_HINT,
            )
        try:
            data = load_npz(tmp)
        except DataError as exc:
            raise DataError(
                f"download from {url} is not a usable MNIST npz: "
                f"{exc.message.removeprefix(f'{tmp}: ')}",
                hint=f"check $DLCHECK_MNIST_URL; nothing was put into {dest.parent}",
            ) from None
    data.source = str(dest)
    data.note = data.note.replace(tmp.name, dest.name)
    return data


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
    data = download_mnist(cache)
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
