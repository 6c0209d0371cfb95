"""Group 5: every decoder checks what a file claims against what it can hold, before it
allocates; inputs that would block are refused; a bad download never enters the cache."""

from __future__ import annotations

import gzip
import io
import json
import os
import struct
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hostile_helpers import assert_clean_failure, doctor_report, run_as_nobody
from local_http import serving
from PIL import Image

from dlcheck.bench import data as mnist
from dlcheck.draw import predict as predict_mod
from dlcheck.errors import DataError
from dlcheck.report import load as report_load

# --------------------------------------------------------------------------- IDX


def _idx_header(magic: int, dims: tuple[int, ...]) -> bytes:
    return struct.pack(f">I{len(dims)}I", magic, *dims)


def test_gzip_bomb_fails_on_its_header_without_decompressing(tmp_path):
    # A 60,000,000-image header: 47 GB promised by a file of a few KB.
    bomb = tmp_path / "t10k-images-idx3-ubyte.gz"
    with gzip.open(bomb, "wb") as gz:
        gz.write(_idx_header(mnist.IMAGES_MAGIC, (60_000_000, 28, 28)))
        gz.write(bytes(10_000_000))  # 10 MB of zeros: compresses to ~10 KB
    assert bomb.stat().st_size < 100_000
    with pytest.raises(DataError, match="more than a .*-byte gzip file can hold") as exc:
        mnist.read_idx_images(bomb)
    assert "download it again" in exc.value.hint


def test_gzip_stream_longer_than_its_header_stops_after_the_payload(tmp_path):
    # An honest header, then far more data than it describes: read stops one byte past.
    path = tmp_path / "labels.gz"
    with gzip.open(path, "wb") as gz:
        gz.write(_idx_header(mnist.LABELS_MAGIC, (4,)) + bytes([1, 2, 3, 4]))
        gz.write(bytes(50_000_000))
    with pytest.raises(DataError, match="unexpected bytes after the 4 bytes"):
        mnist.read_idx_labels(path)


def test_raw_idx_header_is_checked_against_the_file_size(tmp_path):
    path = tmp_path / "images"
    path.write_bytes(_idx_header(mnist.IMAGES_MAGIC, (4_000_000_000, 28, 28)) + bytes(100))
    with pytest.raises(DataError, match=r"short read: header promises \d+ bytes.*file has 100"):
        mnist.read_idx_images(path)


# --------------------------------------------------------------------------- npz


def _npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, array)
    return buf.getvalue()


def _npz(path: Path, members: dict[str, bytes], compression=zipfile.ZIP_STORED) -> Path:
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, blob in members.items():
            zf.writestr(f"{name}.npy", blob)
    return path


def _good_members() -> dict[str, bytes]:
    x = np.zeros((3, 28, 28), np.uint8)
    y = np.array([1, 2, 3], np.uint8)
    return {k: _npy_bytes(v) for k, v in zip(mnist.NPZ_KEYS, (x, y, x, y), strict=True)}


def test_single_npy_renamed_npz_is_named(tmp_path):
    path = tmp_path / "mnist.npz"
    np.save(path.with_suffix(".npy"), np.zeros(3))
    path.with_suffix(".npy").rename(path)
    with pytest.raises(DataError, match="is a single .npy array, not an .npz archive"):
        mnist.load_npz(path)


def test_npz_holding_one_array_is_named(tmp_path):
    path = tmp_path / "one.npz"
    np.savez(path, np.zeros(3))
    with pytest.raises(DataError, match=r"missing key\(s\) x_train.*\(has: arr_0\)"):
        mnist.load_npz(path)


def test_npz_header_declaring_a_huge_shape_fails_before_allocating(tmp_path):
    members = _good_members()
    # A valid .npy header claiming 10**12 images, followed by three images' worth of data.
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "|u1", "fortran_order": False, "shape": (10**12, 28, 28)}
    )
    members["x_train"] = header.getvalue() + bytes(3 * 784)
    path = _npz(tmp_path / "huge.npz", members)
    with pytest.raises(DataError, match=r"member x_train declares shape \(1000000000000, 28, 28\)"):
        mnist.load_npz(path)


def test_npz_zip_sizes_are_checked_against_the_file(tmp_path):
    path = _npz(tmp_path / "lying.npz", _good_members())
    blob = bytearray(path.read_bytes())
    # Patch the central directory's uncompressed size of the first member to 3 GB.
    at = blob.find(b"PK\x01\x02")  # the first central directory entry: x_train
    struct.pack_into("<I", blob, at + 24, 3_000_000_000)
    path.write_bytes(bytes(blob))
    with pytest.raises(DataError, match=r"corrupt npz: member x_train claims 3000000000 bytes"):
        mnist.load_npz(path)


def test_npz_of_python_objects_is_refused(tmp_path):
    members = _good_members()
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    members["y_train"] = buf.getvalue()
    path = _npz(tmp_path / "pickle.npz", members)
    with pytest.raises(DataError, match="member y_train holds Python objects"):
        mnist.load_npz(path)


def test_valid_small_npz_still_loads(tmp_path):
    data = mnist.load_npz(_npz(tmp_path / "ok.npz", _good_members(), zipfile.ZIP_DEFLATED))
    assert (data.n_train, data.n_test) == (3, 3)


# --------------------------------------------------------------------------- blocking inputs


def test_fifo_as_data_is_refused(cli, fifo):
    result = cli("bench", "--data", fifo, "--epochs", "1")
    assert_clean_failure(result, 2, f"{fifo}: is a FIFO (named pipe), not a data file")


def test_fifo_as_model_is_refused(cli, fifo, tmp_path):
    image = tmp_path / "digit.png"
    Image.new("L", (28, 28)).save(image)
    result = cli("predict", image, "--model", fifo)
    assert_clean_failure(result, 2, "is a FIFO (named pipe), not a saved model")


def test_fifo_and_device_as_images_are_refused_one_by_one():
    with tempfile.TemporaryDirectory() as folder:
        pipe = Path(folder) / "pipe.png"
        os.mkfifo(pipe)
        for path in (pipe, Path("/dev/zero")):
            with pytest.raises(DataError, match="not a image file|not an image file"):
                predict_mod.load_image(path)


def test_fifo_as_report_is_refused(cli, fifo):
    result = cli("report", fifo)
    assert_clean_failure(result, 2, "is a FIFO (named pipe), not a report file")


def test_unreadable_data_directory_is_a_clean_error(mnist_dir):
    # Root reads everything: the unprivileged user meets the permission check.
    folder = Path(tempfile.mkdtemp(prefix="dlcheck-unreadable-"))
    try:
        for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
            (folder / name).write_bytes((mnist_dir / name).read_bytes())
        folder.chmod(0o700)
        result = run_as_nobody(["bench", "--data", str(folder), "--epochs", "1"])
        assert_clean_failure(result, 2, f"data directory {folder}: permission denied")
    finally:
        folder.chmod(0o700)
        for child in folder.iterdir():
            child.unlink()
        folder.rmdir()


# --------------------------------------------------------------------------- images


def test_image_bomb_is_refused_from_its_header(tmp_path, recwarn):
    # A few-KB PNG of 12000 x 12000 pixels: decoding it would cost gigabytes.
    path = tmp_path / "bomb.png"
    Image.new("1", (12000, 12000)).save(path, optimize=True)
    assert path.stat().st_size < 100_000
    with pytest.raises(DataError, match=r"image is 12000x12000 = 144000000 pixels") as exc:
        predict_mod.load_image(path)
    assert "scale the image down" in exc.value.hint
    assert not [w for w in recwarn if "DecompressionBomb" in type(w.message).__name__]


def test_image_far_past_the_limit_is_refused_too(tmp_path):
    path = tmp_path / "huge.png"
    Image.new("1", (20000, 20000)).save(path, optimize=True)
    with pytest.raises(DataError, match="image is 20000x20000"):
        predict_mod.load_image(path)


# --------------------------------------------------------------------------- report JSON


def _report_file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"a":' * 100_000 + "1" + "}" * 100_000, "nested deeper than 32 levels"),
        ('{"a":' * 40 + "1" + "}" * 40, "nested deeper than 32 levels"),
        ('{"n": ' + "9" * 5000 + "}", "an integer of 5000 digits"),
        ('{"n": 1e999}', "the number 1e999 is out of range"),
    ],
)
def test_hostile_report_json_is_skipped_with_a_reason(cli, tmp_path, text, reason):
    bad = _report_file(tmp_path, "bad.json", text)
    good = _report_file(tmp_path, "good.json", json.dumps(doctor_report(hostname="ws01")))
    result = cli("report", bad, good)
    assert result.exit_code in (0, 1), result.output
    assert f"skipped {bad}: past dlcheck's limits for a report: {reason}" in result.stderr
    assert "Traceback" not in result.output and "ws01" in result.stdout


def test_nan_and_infinity_become_null_and_the_output_is_strict_json(cli, tmp_path):
    doc = doctor_report(hostname="ws01")
    doc["checks"][0]["facts"]["ratio"] = float("nan")
    doc["checks"][0]["facts"]["load"] = float("inf")
    path = _report_file(tmp_path, "nan.json", json.dumps(doc))  # Python writes NaN, Infinity
    assert "NaN" in path.read_text() and "Infinity" in path.read_text()
    result = cli("report", "--json", path)
    assert result.exit_code in (0, 1), result.output

    def refuse(name):
        raise AssertionError(f"{name} in the output")

    fleet = json.loads(result.stdout, parse_constant=refuse)
    facts = fleet["hosts"][0]["doctor"]["checks"][0]["facts"]
    assert facts["ratio"] is None and facts["load"] is None
    assert f"note: {path}: NaN read as null" in result.stderr
    assert f"note: {path}: Infinity read as null" in result.stderr


def test_nan_where_the_schema_wants_a_number_skips_the_report(cli, tmp_path):
    doc = doctor_report(hostname="ws01")
    doc["duration_s"] = float("nan")
    path = _report_file(tmp_path, "nan.json", json.dumps(doc))
    result = cli("report", path)
    assert_clean_failure(result, 2, "duration_s: expected a number, found null")


def test_parse_report_accepts_dlchecks_own_reports():
    doc, notes = report_load.parse_report(json.dumps(doctor_report()))
    assert doc["schema"] == "dlcheck.doctor" and notes == []


# --------------------------------------------------------------------------- downloads


@pytest.fixture
def serve(tmp_path):
    """Serve a folder over HTTP on 127.0.0.1; yields a function name -> URL."""
    folder = tmp_path / "www"
    folder.mkdir()

    with serving(folder) as base:
        yield folder, lambda name: f"{base}/{name}"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"<html>404 from a captive portal</html>", "corrupt npz"),
        (None, "missing key(s) x_test, y_test"),
    ],
)
def test_bad_download_never_enters_the_cache(serve, monkeypatch, content, reason):
    folder, url = serve
    served = folder / "mnist.npz"
    if content is None:
        members = _good_members()
        del members["x_test"], members["y_test"]
        _npz(served, members)
    else:
        served.write_bytes(content)
    monkeypatch.setenv("DLCHECK_MNIST_URL", url("mnist.npz"))
    with pytest.raises(DataError, match="is not a usable MNIST npz") as exc:
        mnist.load_mnist()
    assert reason in exc.value.message
    cache = mnist.keras_cache_path()
    assert not cache.exists()
    assert list(cache.parent.iterdir()) == []  # no temporary file left either


def test_good_download_enters_the_cache(serve, monkeypatch):
    folder, url = serve
    _npz(folder / "mnist.npz", _good_members())
    monkeypatch.setenv("DLCHECK_MNIST_URL", url("mnist.npz"))
    data = mnist.load_mnist()
    assert (data.found_by, data.source) == ("download", str(mnist.keras_cache_path()))
    assert mnist.keras_cache_path().is_file()
    assert [p.name for p in mnist.keras_cache_path().parent.iterdir()] == ["mnist.npz"]
