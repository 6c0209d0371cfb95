"""IDX file writers for the bench tests (valid files, and deliberately broken ones)."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path


def idx_bytes(magic: int, dims: tuple[int, ...], payload: bytes) -> bytes:
    return struct.pack(f">I{len(dims)}I", magic, *dims) + payload


def write_idx(path: Path, data: bytes, gz: bool | None = None) -> Path:
    """Write IDX bytes, gzip-compressed when the name ends in .gz."""
    if gz is None:
        gz = path.suffix == ".gz"
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def write_idx_pair(directory: Path, images, labels, prefix: str = "t10k", gz: bool = True):
    """A valid IDX images + labels pair from numpy arrays."""
    directory.mkdir(parents=True, exist_ok=True)
    ext = ".gz" if gz else ""
    n, rows, cols = images.shape
    img = write_idx(
        directory / f"{prefix}-images-idx3-ubyte{ext}",
        idx_bytes(2051, (n, rows, cols), images.astype("uint8").tobytes()),
    )
    lab = write_idx(
        directory / f"{prefix}-labels-idx1-ubyte{ext}",
        idx_bytes(2049, (len(labels),), labels.astype("uint8").tobytes()),
    )
    return img, lab
