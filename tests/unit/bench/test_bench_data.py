"""MNIST finding, reading and validation: real files, and files broken on purpose."""

from __future__ import annotations

import gzip
import shutil
import zipfile

import numpy as np
import pytest
from bench_helpers import idx_bytes, write_idx, write_idx_pair
from local_http import serving

from dlcheck.bench import data as mnist
from dlcheck.errors import DataError

# Class counts of the official MNIST test set (its README) and 20 % of each, rounded so
# that the held-out part is exactly 2000.
CLASS_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
HELD_OUT_COUNTS = [196, 227, 206, 202, 196, 178, 192, 206, 195, 202]


# --------------------------------------------------------------------------- the real set


def test_real_idx_files_read(mnist_dir):
    x = mnist.read_idx_images(mnist_dir / "t10k-images-idx3-ubyte.gz")
    y = mnist.read_idx_labels(mnist_dir / "t10k-labels-idx1-ubyte.gz")
    assert x.shape == (10000, 28, 28) and x.dtype == np.uint8
    assert y.shape == (10000,) and y.dtype == np.uint8
    assert np.bincount(y).tolist() == CLASS_COUNTS
    assert x.max() == 255 and x.min() == 0


def test_real_test_set_only_is_split_stratified_and_seeded(mnist_dir, real_split):
    d = real_split
    assert d.kind == "real"
    assert (d.n_train, d.n_test) == (8000, 2000)
    assert np.bincount(d.y_test, minlength=10).tolist() == HELD_OUT_COUNTS
    train_counts = np.bincount(d.y_train, minlength=10)
    assert (train_counts + HELD_OUT_COUNTS).tolist() == CLASS_COUNTS
    assert d.split is not None and d.split["seed"] == 0 and d.split["n_held_out"] == 2000
    assert "held-out" in d.note and "seed 0" in d.note
    again = mnist.load_mnist(mnist_dir, allow_download=False)
    assert np.array_equal(again.x_test, d.x_test) and np.array_equal(again.y_train, d.y_train)


def test_split_indices_are_disjoint_and_complete():
    y = np.repeat(np.arange(10), 37)
    train, held = mnist.stratified_split(y, 0.2, seed=3)
    assert len(np.intersect1d(train, held)) == 0
    assert sorted(np.concatenate([train, held]).tolist()) == list(range(len(y)))
    assert len(held) == round(0.2 * len(y))
    other_train, _ = mnist.stratified_split(y, 0.2, seed=4)
    assert not np.array_equal(np.sort(train), np.sort(other_train))


def test_raw_and_gz_idx_read_the_same(tmp_path, mnist_dir):
    raw = tmp_path / "t10k-labels-idx1-ubyte"
    raw.write_bytes(gzip.decompress((mnist_dir / "t10k-labels-idx1-ubyte.gz").read_bytes()))
    assert np.array_equal(
        mnist.read_idx_labels(raw), mnist.read_idx_labels(mnist_dir / "t10k-labels-idx1-ubyte.gz")
    )


def test_full_idx_directory_is_not_split(tmp_path, real_split):
    d = tmp_path / "full"
    write_idx_pair(d, real_split.x_train[:300], real_split.y_train[:300], prefix="train", gz=False)
    write_idx_pair(d, real_split.x_test[:100], real_split.y_test[:100], prefix="t10k")
    data = mnist.load_mnist(d)
    assert (data.n_train, data.n_test, data.split) == (300, 100, None)
    assert np.array_equal(data.x_test, real_split.x_test[:100])


# --------------------------------------------------------------------------- broken IDX


def _images(n=5):
    return np.arange(n * 28 * 28, dtype=np.uint32).astype(np.uint8).tobytes()


def test_wrong_magic_names_the_file(tmp_path):
    # A labels header where an images file belongs: the classic swapped files.
    bad = write_idx(tmp_path / "t10k-images-idx3-ubyte", idx_bytes(2049, (5, 28, 28), _images()))
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte: wrong magic number 2049"):
        mnist.read_idx_images(bad)


def test_short_read_is_a_truncated_file(tmp_path):
    data = idx_bytes(2051, (5, 28, 28), _images())[:-100]
    bad = write_idx(tmp_path / "imgs.gz", data)
    with pytest.raises(DataError, match=r"imgs.gz: short read.*truncated"):
        mnist.read_idx_images(bad)


def test_short_header(tmp_path):
    bad = write_idx(tmp_path / "labels", b"\x00\x00")
    with pytest.raises(DataError, match="short read"):
        mnist.read_idx_labels(bad)


def test_labels_out_of_range(tmp_path):
    bad = write_idx(tmp_path / "labels", idx_bytes(2049, (4,), bytes([1, 2, 12, 3])))
    with pytest.raises(DataError, match=r"labels: 1 label\(s\) outside 0-9 \(first: 12 at index 2"):
        mnist.read_idx_labels(bad)


def test_wrong_image_size(tmp_path):
    bad = write_idx(tmp_path / "imgs", idx_bytes(2051, (2, 32, 32), bytes(2 * 32 * 32)))
    with pytest.raises(DataError, match="32x32"):
        mnist.read_idx_images(bad)


def test_trailing_bytes(tmp_path):
    bad = write_idx(tmp_path / "labels", idx_bytes(2049, (3,), bytes([1, 2, 3, 4])))
    with pytest.raises(DataError, match="1 unexpected bytes"):
        mnist.read_idx_labels(bad)


def test_truncated_gzip(tmp_path, mnist_dir):
    whole = (mnist_dir / "t10k-labels-idx1-ubyte.gz").read_bytes()
    bad = tmp_path / "t10k-labels-idx1-ubyte.gz"
    bad.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(DataError, match="truncated gzip"):
        mnist.read_idx_labels(bad)


def test_corrupt_gzip(tmp_path, mnist_dir):
    whole = bytearray((mnist_dir / "t10k-labels-idx1-ubyte.gz").read_bytes())
    whole[20:60] = b"\xff" * 40  # garbage inside the deflate stream
    bad = tmp_path / "t10k-labels-idx1-ubyte.gz"
    bad.write_bytes(bytes(whole))
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte.gz: (corrupt gzip|truncated)"):
        mnist.read_idx_labels(bad)


def test_image_and_label_counts_must_match(tmp_path, real_split):
    d = tmp_path / "mismatch"
    write_idx_pair(d, real_split.x_test[:50], real_split.y_test[:50])
    write_idx(
        d / "t10k-labels-idx1-ubyte.gz", idx_bytes(2049, (49,), real_split.y_test[:49].tobytes())
    )
    with pytest.raises(DataError, match="holds 50 images but t10k-labels-idx1-ubyte.gz holds 49"):
        mnist.load_mnist(d)


def test_directory_without_labels(tmp_path, real_split):
    d = tmp_path / "half"
    img, lab = write_idx_pair(d, real_split.x_test[:10], real_split.y_test[:10])
    lab.unlink()
    with pytest.raises(DataError, match="no labels file"):
        mnist.load_mnist(d)


def test_empty_directory(tmp_path):
    with pytest.raises(DataError, match="no MNIST IDX files") as exc:
        mnist.load_mnist(tmp_path)
    assert "--synthetic" in exc.value.hint


# --------------------------------------------------------------------------- npz


def test_valid_npz(small_npz):
    data = mnist.load_mnist(small_npz())
    assert (data.n_train, data.n_test, data.kind, data.split) == (600, 200, "real", None)
    assert data.x_train.shape == (600, 28, 28)


def test_npz_that_is_not_a_zip(tmp_path):
    bad = tmp_path / "mnist.npz"
    bad.write_bytes(b"this is not a zip archive at all" * 10)
    with pytest.raises(DataError, match=r"mnist.npz: corrupt npz"):
        mnist.load_mnist(bad)


def test_truncated_npz(tmp_path, small_npz):
    good = small_npz().read_bytes()
    bad = tmp_path / "cut.npz"
    bad.write_bytes(good[: len(good) // 2])
    with pytest.raises(DataError, match=r"cut.npz: corrupt npz"):
        mnist.load_mnist(bad)


def test_npz_missing_keys(tmp_path):
    bad = tmp_path / "other.npz"
    np.savez(bad, x_train=np.zeros((2, 28, 28), np.uint8), y_train=np.zeros(2, np.uint8))
    with pytest.raises(DataError, match="missing key.*x_test, y_test"):
        mnist.load_mnist(bad)


def test_npz_labels_out_of_range(tmp_path, real_split):
    bad = tmp_path / "labels.npz"
    y = real_split.y_test[:20].copy()
    y[7] = 10
    x = real_split.x_test[:20]
    np.savez(bad, x_train=x, y_train=y, x_test=x, y_test=y)
    with pytest.raises(DataError, match=r"y_train: 1 label\(s\) outside 0-9"):
        mnist.load_mnist(bad)


def test_npz_bad_member_is_corrupt(tmp_path, small_npz):
    # A zip whose member is not a valid .npy: np.load opens it, reading the key fails.
    bad = tmp_path / "member.npz"
    with zipfile.ZipFile(bad, "w") as zf:
        for key in mnist.NPZ_KEYS:
            zf.writestr(f"{key}.npy", b"garbage")
    with pytest.raises(DataError, match="corrupt npz"):
        mnist.load_mnist(bad)


def test_missing_path():
    with pytest.raises(DataError, match="does not exist"):
        mnist.load_mnist("/nonexistent/mnist.npz")


# --------------------------------------------------------------------------- search order


def test_search_order_argument_then_env_then_keras_cache(tmp_path, small_npz, monkeypatch):
    home = tmp_path / "home"
    cache = small_npz("mnist.npz", 100, home / ".keras" / "datasets")
    env = small_npz("env.npz", 200)
    arg = small_npz("arg.npz", 300)

    assert mnist.keras_cache_path() == cache
    got = mnist.load_mnist(allow_download=False)
    assert (got.found_by, got.n_train) == ("keras-cache", 100)

    monkeypatch.setenv("DLCHECK_DATA", str(env))
    got = mnist.load_mnist(allow_download=False)
    assert (got.found_by, got.n_train) == ("DLCHECK_DATA", 200)

    got = mnist.load_mnist(arg, allow_download=False)
    assert (got.found_by, got.n_train, got.source) == ("argument", 300, str(arg))


def test_keras_home_moves_the_cache(tmp_path, small_npz, monkeypatch):
    keras_home = tmp_path / "kh"
    small_npz("mnist.npz", 150, keras_home / "datasets")
    monkeypatch.setenv("KERAS_HOME", str(keras_home))
    got = mnist.load_mnist(allow_download=False)
    assert (got.found_by, got.n_train) == ("keras-cache", 150)


def test_bad_env_path_does_not_fall_through(tmp_path, small_npz, monkeypatch):
    small_npz("mnist.npz", 100, tmp_path / "home" / ".keras" / "datasets")
    monkeypatch.setenv("DLCHECK_DATA", str(tmp_path / "missing"))
    with pytest.raises(DataError, match=r"\$DLCHECK_DATA: data path .*missing does not exist"):
        mnist.load_mnist(allow_download=False)


def test_nothing_found_offers_synthetic():
    with pytest.raises(DataError, match="no MNIST data found") as exc:
        mnist.load_mnist(allow_download=False)
    assert "--synthetic" in exc.value.hint


def test_failed_download_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match=r"download from http://127.0.0.1:9/mnist.npz failed"):
        mnist.load_mnist()
    assert not mnist.keras_cache_path().exists()


def test_download_from_a_configured_origin(tmp_path, small_npz, monkeypatch):
    """The real downloader against a local HTTP server: fetched into Keras's cache."""
    served = tmp_path / "www"
    small_npz("mnist.npz", 120, served)

    with serving(served) as base:
        monkeypatch.setenv("DLCHECK_MNIST_URL", f"{base}/mnist.npz")
        got = mnist.load_mnist()
    assert (got.found_by, got.n_train) == ("download", 120)
    assert mnist.keras_cache_path().is_file()
    # The cached copy is used next time, without the network.
    shutil.rmtree(served)
    assert mnist.load_mnist(allow_download=False).found_by == "keras-cache"


def test_synthetic_is_labelled():
    s = mnist.synthetic_mnist(50, 10, seed=1)
    assert s.kind == "synthetic" and "throughput only" in s.note
    assert s.x_train.shape == (50, 28, 28) and s.y_test.max() <= 9
