"""`dlcheck predict` with a CNN trained in this session on real MNIST, and its bad inputs."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from dlcheck.cli import main
from dlcheck.draw.model import load_model
from dlcheck.draw.preprocess import preprocess

pytestmark = pytest.mark.slow  # trains a CNN once per session (15-30 s here)

#: held-out digits rendered to PNG for the agreement test
N_RENDERED = 300
#: Measured agreement of the preprocessed pipeline with the model on the raw arrays:
#: 1.000 on all 2000 held-out digits for each of 3 training seeds (MNIST digits already
#: fill a 20 px box with their centre of mass at 14, so preprocessing is ~identity).
#: The floor allows a few borderline digits to flip under another seed or backend.
AGREEMENT_FLOOR = 0.99


def invoke(*args: str):
    return CliRunner().invoke(main, ["predict", *args])


@pytest.fixture(scope="module")
def rendered(trained_model, tmp_path_factory):
    """The first N held-out digits as PNG files, exactly as the arrays hold them."""
    folder = tmp_path_factory.mktemp("png")
    data = trained_model.data
    files = []
    for i in range(N_RENDERED):
        path = folder / f"{i:04d}-label{int(data.y_test[i])}.png"
        Image.fromarray(data.x_test[i], "L").save(path)
        files.append(str(path))
    return files


@pytest.fixture(scope="module")
def model_on_arrays(trained_model):
    """The model's own predictions on the raw held-out arrays (as the bench feeds them)."""
    model = load_model(trained_model.path)
    x = trained_model.data.x_test[:N_RENDERED].astype(np.float32) / 255.0
    return model.probabilities(x).argmax(axis=1)


def test_the_model_trained_here_is_usable(trained_model):
    assert trained_model.held_out_accuracy > 0.95


def test_loaded_model_keeps_its_layout_and_gives_probabilities(trained_model):
    model = load_model(trained_model.path)
    assert model.layout == "image"
    probs = model.probabilities(trained_model.data.x_test[:5].astype(np.float32) / 255.0)
    assert probs.shape == (5, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-4)


def test_predict_json_agrees_with_the_model_on_the_arrays(trained_model, rendered, model_on_arrays):
    result = invoke("--model", str(trained_model.path), "--json", *rendered)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["schema"] == "dlcheck.predict/1"
    assert doc["preprocess"] is True
    digits = np.array([r["digit"] for r in doc["results"]])
    assert [r["file"] for r in doc["results"]] == rendered
    agreement = float((digits == model_on_arrays).mean())
    assert agreement >= AGREEMENT_FLOOR, f"agreement {agreement:.3f}"
    labels = trained_model.data.y_test[:N_RENDERED]
    assert float((digits == labels).mean()) > 0.93


def test_no_preprocess_on_mnist_pngs_is_the_arrays(trained_model, rendered, model_on_arrays):
    # PNG is lossless and an MNIST field is already 28x28 white-on-black: the raw path
    # must hand the model the very same tensor, so every answer matches.
    result = invoke("--model", str(trained_model.path), "--json", "--no-preprocess", *rendered)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["preprocess"] is False
    digits = np.array([r["digit"] for r in doc["results"]])
    assert (digits == model_on_arrays).all()


def test_preprocessing_mnist_digits_is_close_to_identity(trained_model):
    x = trained_model.data.x_test[:200]
    raw = x.astype(np.float32) / 255.0
    done = np.stack([preprocess(img) for img in x])
    # Measured on these 200: mean |difference| 0.0001 per pixel, and no pixel of any digit
    # off by more than 0.043 (a peak of 254 stretched to 255): none shifted or rescaled.
    assert float(np.abs(done - raw).mean()) < 0.005
    assert float(np.abs(done - raw).max()) < 0.1


def test_text_output_is_one_line_per_file(trained_model, rendered):
    result = invoke("--model", str(trained_model.path), *rendered[:3])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 3
    for line, path in zip(lines, rendered[:3], strict=True):
        assert line.startswith(f"{path}: ")
        assert "top-3:" in line and "%" in line


def test_jpeg_ink_on_white_is_recognised_like_the_png(trained_model, rendered, tmp_path):
    # The same digit, inverted to black-on-white, enlarged and saved as JPEG.
    png = Image.open(rendered[0])
    jpeg = tmp_path / "scan.jpg"
    Image.eval(png, lambda v: 255 - v).resize((280, 280), Image.Resampling.BICUBIC).save(
        jpeg, quality=85
    )
    out = json.loads(invoke("--model", str(trained_model.path), "--json", rendered[0]).stdout)
    out_jpg = json.loads(invoke("--model", str(trained_model.path), "--json", str(jpeg)).stdout)
    assert out_jpg["results"][0]["digit"] == out["results"][0]["digit"]


def test_default_model_is_the_last_saved_one(trained_model, rendered, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    last = tmp_path / "dlcheck" / "models" / "last.keras"
    missing = invoke(rendered[0])
    assert missing.exit_code == 2
    assert f"{last}: no such model file" in missing.output
    assert "dlcheck bench --model cnn --save" in missing.output
    last.parent.mkdir(parents=True)
    shutil.copy(trained_model.path, last)
    found = invoke(rendered[0])
    assert found.exit_code == 0, found.output
    assert found.stdout.startswith(f"{rendered[0]}: ")


# ---------------------------------------------------------------- bad input


def test_not_an_image_names_the_file_and_exits_2(trained_model, tmp_path):
    fake = tmp_path / "digit.png"
    fake.write_text("this is a text file, not a PNG\n")
    result = invoke("--model", str(trained_model.path), str(fake))
    assert result.exit_code == 2
    assert f"error: {fake}: not an image" in result.output
    assert "Traceback" not in result.output


def test_bad_file_gets_its_own_json_entry_and_the_rest_still_runs(
    trained_model, rendered, tmp_path
):
    fake = tmp_path / "notes.jpg"
    fake.write_bytes(b"\xff\xd8\xff\xe0 truncated jpeg")
    result = invoke("--model", str(trained_model.path), "--json", rendered[0], str(fake))
    assert result.exit_code == 2
    doc = json.loads(result.stdout)
    good, bad = doc["results"]
    assert good["error"] is None and isinstance(good["digit"], int)
    assert bad["file"] == str(fake)
    assert "digit" not in bad
    assert bad["error"].startswith(f"{fake}: ")


def test_blank_png_is_nothing_drawn_not_a_guess(trained_model, tmp_path):
    blank = tmp_path / "blank.png"
    Image.new("L", (280, 280), 255).save(blank)
    result = invoke("--model", str(trained_model.path), "--json", str(blank))
    assert result.exit_code == 2
    entry = json.loads(result.stdout)["results"][0]
    assert entry["error"] == f"{blank}: nothing drawn (no ink found)"
    assert "digit" not in entry
    raw = invoke("--model", str(trained_model.path), "--no-preprocess", str(blank))
    assert raw.exit_code == 2
    assert "nothing drawn" in raw.output


def test_missing_image_file_is_named(trained_model, tmp_path):
    result = invoke("--model", str(trained_model.path), str(tmp_path / "nope.png"))
    assert result.exit_code == 2
    assert f"{tmp_path / 'nope.png'}: no such file" in result.output


def test_model_path_that_does_not_exist(rendered, tmp_path):
    missing = tmp_path / "missing.keras"
    result = invoke("--model", str(missing), rendered[0])
    assert result.exit_code == 2
    assert f"error: {missing}: no such model file" in result.output
    assert "hint:" in result.output
    assert "Traceback" not in result.output


def test_model_with_the_wrong_input_shape(wrong_shape_model, rendered):
    result = invoke("--model", str(wrong_shape_model), rendered[0])
    assert result.exit_code == 2
    assert "takes input of shape (None, 32, 32, 3)" in result.output
    assert "(None, 28, 28, 1)" in result.output
    assert "Traceback" not in result.output


def test_corrupt_model_file(rendered, tmp_path):
    corrupt = tmp_path / "model.keras"
    corrupt.write_bytes(b"PK\x03\x04 not really a zip archive")
    result = invoke("--model", str(corrupt), rendered[0])
    assert result.exit_code == 2
    assert f"error: {corrupt}: cannot be loaded as a Keras model" in result.output
    assert "Traceback" not in result.output
