"""The one preprocessing function, on constructed images (numpy only, no model)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from dlcheck.draw.errors import NothingDrawn
from dlcheck.draw.preprocess import BOX, CENTRE, FIELD, preprocess, resize_only


def canvas(size: int = 280) -> np.ndarray:
    """A white canvas, as the window's in-memory image starts (uint8, ink = 0)."""
    return np.full((size, size), 255, dtype=np.uint8)


def seven(top: int, left: int, scale: int = 10) -> np.ndarray:
    """A '7' (a bar and a slanted leg), black on white, at (top, left)."""
    img = canvas()
    shape = np.zeros((20, 14), dtype=bool)
    shape[0:3, :] = True
    for r in range(3, 20):
        c = 13 - (r - 3) * 9 // 16
        shape[r, max(0, c - 2) : c + 1] = True
    big = np.kron(shape, np.ones((scale, scale), dtype=bool))
    img[top : top + big.shape[0], left : left + big.shape[1]][big] = 0
    return img


def centre_of_mass(field: np.ndarray) -> tuple[float, float]:
    ys, xs = np.indices(field.shape)
    m = field.sum()
    return float((field * ys).sum() / m), float((field * xs).sum() / m)


def ink_box(field: np.ndarray, threshold: float = 0.05) -> tuple[int, int]:
    rows = np.flatnonzero((field > threshold).any(axis=1))
    cols = np.flatnonzero((field > threshold).any(axis=0))
    return int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)


def test_output_is_a_28x28_float32_field_in_0_1_peaking_at_1():
    field = preprocess(seven(40, 60))
    assert field.shape == (FIELD, FIELD)
    assert field.dtype == np.float32
    assert field.min() >= 0.0
    assert field.max() == pytest.approx(1.0)


def test_centred_and_off_centre_stroke_give_the_same_tensor():
    centred = canvas()
    centred[40:240, 130:150] = 0  # a vertical "1" in the middle
    corner = canvas()
    corner[0:200, 0:20] = 0  # the same stroke in the top-left corner
    a, b = preprocess(centred), preprocess(corner)
    np.testing.assert_allclose(a, b, atol=1e-6)
    assert a.sum() > 10  # and it is not an empty field


def test_off_centre_digit_gives_the_same_tensor_as_the_centred_one():
    a = preprocess(seven(40, 70))
    b = preprocess(seven(75, 135))  # moved right and down, near the edge
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_scale_invariance_small_and_large_drawing_agree():
    small = preprocess(seven(10, 10, scale=5))  # 100x70 px
    large = preprocess(seven(30, 50, scale=12))  # 240x168 px
    assert np.abs(small - large).max() < 0.1
    assert np.abs(small - large).mean() < 0.01


def test_longer_side_scaled_to_20_px_keeping_the_aspect_ratio():
    img = canvas()
    img[100:140, 40:240] = 0  # a 200x40 horizontal bar: aspect 5:1
    h, w = ink_box(preprocess(img))
    assert w == BOX
    assert h == 4


def test_centre_of_mass_lands_at_mnist_centre():
    img = canvas()
    img[10:60, 200:270] = 0
    img[60:110, 200:215] = 0  # an asymmetric "L" far off-centre
    cy, cx = centre_of_mass(preprocess(img))
    assert abs(cy - CENTRE) <= 0.5
    assert abs(cx - CENTRE) <= 0.5


def test_polarity_ink_on_white_and_white_on_black_agree():
    dark_on_light = seven(40, 70)
    light_on_dark = 255 - dark_on_light
    np.testing.assert_allclose(preprocess(dark_on_light), preprocess(light_on_dark), atol=1e-6)


def aligned_difference(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference after the best whole-pixel shift of up to 1 px.

    A centre of mass close to a half pixel may round either way, so tensors of the
    same digit under a small perturbation can legitimately differ by a 1 px shift.
    """
    return min(
        float(np.abs(np.roll(a, (dy, dx), axis=(0, 1)) - b).mean())
        for dy in (-1, 0, 1)
        for dx in (-1, 0, 1)
    )


def test_grey_background_and_faint_noise_do_not_move_the_crop():
    clean = seven(40, 70).astype(np.float32) / 255.0
    rng = np.random.default_rng(0)
    paper = clean * 0.8 + 0.1  # grey paper (0.9), dark-grey ink (0.1)
    paper += rng.uniform(-0.02, 0.02, size=paper.shape).astype(np.float32)
    a, b = preprocess(clean), preprocess(np.clip(paper, 0, 1))
    assert ink_box(a) == ink_box(b)
    assert aligned_difference(a, b) < 0.02


def test_pil_image_with_transparent_background_keeps_its_ink():
    rgba = np.zeros((280, 280, 4), dtype=np.uint8)  # fully transparent black
    ink = seven(40, 70) == 0
    rgba[ink] = (0, 0, 0, 255)  # opaque black ink
    field = preprocess(Image.fromarray(rgba, "RGBA"))
    np.testing.assert_allclose(field, preprocess(seven(40, 70)), atol=1e-6)


@pytest.mark.parametrize(
    "blank",
    [
        np.full((280, 280), 255, np.uint8),  # an untouched white canvas
        np.zeros((28, 28), np.uint8),  # a black MNIST-style field
        np.full((50, 80), 128, np.uint8),  # uniform grey
        np.full((280, 280), 250, np.uint8) + np.eye(280, dtype=np.uint8) * 4,  # faint specks
    ],
    ids=["white-canvas", "black-field", "grey", "below-threshold-specks"],
)
def test_empty_image_is_nothing_drawn_not_a_guess(blank):
    with pytest.raises(NothingDrawn, match="nothing drawn"):
        preprocess(blank, where="canvas")
    with pytest.raises(NothingDrawn):
        resize_only(blank)


def test_nothing_drawn_names_where_and_is_a_usage_level_error():
    with pytest.raises(NothingDrawn) as info:
        preprocess(canvas(), where="my.png")
    assert info.value.message.startswith("my.png: nothing drawn")
    assert info.value.exit_code == 2


def test_a_single_dot_is_ink_not_nothing():
    img = canvas()
    img[100:110, 100:110] = 0
    field = preprocess(img)
    assert field.max() == pytest.approx(1.0)
    assert ink_box(field) == (BOX, BOX)


def test_resize_only_squashes_the_whole_image_without_centring():
    img = canvas()
    img[0:100, 0:20] = 0  # a stroke in the top-left corner stays there
    field = resize_only(img)
    assert field.shape == (FIELD, FIELD)
    cy, cx = centre_of_mass(field)
    assert cy < 7 and cx < 3


def test_an_already_normalised_field_is_left_as_it_is():
    # Preprocessing its own output must change (almost) nothing: it is idempotent.
    once = preprocess(seven(40, 70))
    twice = preprocess(once)
    assert ink_box(twice) == ink_box(once)
    assert np.abs(twice - once).max() < 0.05


def test_rejects_a_non_image_array():
    with pytest.raises(ValueError, match="2-D"):
        preprocess(np.zeros((2, 3, 4, 5)))
