import numpy as np
import pytest
from PIL import Image

from studio.checkpoints import WEIGHTS_DIR
from studio.edits.repair import CLASSICAL as CLASSICAL_METHODS
from studio.edits.repair import repair

# the classical methods, and the shipped VAE as a learned one when it is there (it loads on first use)
SHIPPED_VAE = WEIGHTS_DIR / "vae-fashion"
METHODS = CLASSICAL_METHODS.with_model("vae:vae-fashion", SHIPPED_VAE) if (SHIPPED_VAE / "model_index.json").is_file() \
    else CLASSICAL_METHODS
CLASSICAL = list(CLASSICAL_METHODS)                      # the OpenCV pitfalls below are theirs


def gradient(size=25) -> np.ndarray:
    ramp = np.add.outer(np.arange(size) * 8, np.arange(size) * 2).clip(0, 255).astype(np.uint8)
    return np.dstack([ramp, np.zeros_like(ramp), ramp])                # magenta-ish, varies smoothly


@pytest.mark.parametrize("method", list(METHODS))
def test_unmasked_pixels_and_alpha_are_untouched(method):
    rng = np.random.default_rng(0)
    rgba = rng.integers(0, 256, (40, 30, 4), dtype=np.uint8)
    image = Image.fromarray(rgba, "RGBA")
    hole = np.zeros((40, 30), bool)
    hole[10:20, 5:15] = True
    out = np.asarray(repair(image, hole, method, methods=METHODS))
    assert out.shape == rgba.shape
    assert np.array_equal(out[~hole], rgba[~hole])
    assert np.array_equal(out[..., 3], rgba[..., 3])
    assert np.array_equal(np.asarray(image), rgba)                    # input not mutated


@pytest.mark.parametrize("method", CLASSICAL)
def test_border_holes_on_a_flat_background_fill_exactly(method):
    """opencv#25389: holes touching the top/left border were filled with wrong values."""
    grey = np.full((5, 5, 3), 128, np.uint8)
    grey[0:3, 0:3] = 0
    hole = np.zeros((5, 5), bool)
    hole[0:3, 0:3] = True
    assert np.all(np.asarray(repair(Image.fromarray(grey), hole, method, radius=2)) == 128)


@pytest.mark.parametrize("method", CLASSICAL)
def test_one_pixel_corner_holes_are_not_saturated(method):
    """opencv#28648: Telea filled one-pixel corner holes with saturated colour on OpenCV >= 4.10."""
    clean = gradient()
    damaged = clean.copy()
    hole = np.zeros(clean.shape[:2], bool)
    for x, y in [(0, 0), (24, 0), (1, 1), (23, 1), (1, 23), (23, 23), (0, 24), (24, 24)]:
        damaged[y, x] = 0
        hole[y, x] = True
    out = np.asarray(repair(Image.fromarray(damaged), hole, method)).astype(int)
    for y, x in zip(*np.nonzero(hole)):
        window = (slice(max(y - 1, 0), y + 2), slice(max(x - 1, 0), x + 2))
        known = clean[window][~hole[window]].astype(int)
        assert known.min(0)[0] - 12 <= out[y, x, 0] <= known.max(0)[0] + 12, (x, y, out[y, x])
        assert out[y, x, 1] <= 12


def test_bad_inputs():
    image = Image.new("RGB", (8, 8))
    with pytest.raises(ValueError, match="unknown repair method"):
        repair(image, np.ones((8, 8), bool), "lama")
    with pytest.raises(ValueError, match="mask is 4x4 but the image is 8x8"):
        repair(image, np.ones((4, 4), bool))
    with pytest.raises(ValueError, match="RGB or RGBA"):
        repair(image.convert("L"), np.ones((8, 8), bool))
    assert repair(image, np.zeros((8, 8), bool)).tobytes() == image.tobytes()
    mask_image = Image.new("L", (8, 8), 0)
    mask_image.putpixel((3, 3), 255)
    assert repair(image, mask_image).size == (8, 8)


def test_the_editing_engine_imports_without_torch_and_registers_nothing_at_import():
    """`studio.edits` (repair included) loads no torch and no model; the registry a recipe gets by default
    is the classical one whatever was imported before (the app passes its Studio's own)."""
    import subprocess
    import sys

    probe = ("import sys; import studio.edits, studio.edits.repair as r; "
             "print('torch' in sys.modules, 'studio.pipelines' in sys.modules, list(r.CLASSICAL))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["False", "False", "['telea',", "'ns']"], done.stderr
    # the other way round: the pipelines import the engine, the engine imports them only inside a fill
    again = subprocess.run([sys.executable, "-c", "import studio.pipelines, studio.edits.repair as r; "
                            "print(list(r.CLASSICAL))"], capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and again.stdout.strip() == "['telea', 'ns']", again.stderr
