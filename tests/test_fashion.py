import gzip

import numpy as np
import pytest

from conftest import FASHION_ROOT, needs_fashion, synthetic_products
from studio.data import CatalogError, FashionCatalog, open_catalog
from studio.data.captions import parse
from studio.data.fashion import colorway, load_source, product_alpha, read_idx
from studio.data.vocab import BACKGROUNDS, COLORS, CATEGORIES, hex_to_rgb, is_visible, srgb_to_lab


@pytest.mark.parametrize("size", [32, 64])
def test_shapes_counts_and_labels(tiny_fashion_root, size):
    train = FashionCatalog("train", size=size, root=tiny_fashion_root)
    val = FashionCatalog("val", size=size, root=tiny_fashion_root)
    test = FashionCatalog("test", size=size, root=tiny_fashion_root)
    assert (len(train), len(val), len(test)) == (200, 5000, 40)
    sample = train[3]
    assert sample.image.mode == "RGB" and sample.image.size == (size, size)
    assert set(sample.labels) == {"category", "color", "background"}
    assert sample.labels["category"] in CATEGORIES
    assert is_visible(sample.labels["color"], sample.labels["background"])
    assert sample.key.startswith("fashion/train/")


def test_val_is_carved_from_train_and_disjoint(tiny_fashion_root):
    train = FashionCatalog("train", root=tiny_fashion_root)
    val = FashionCatalog("val", root=tiny_fashion_root)
    train_keys = {train[i].key.split("/")[-1] for i in range(len(train))}
    val_keys = {val[i].key.split("/")[-1] for i in range(0, len(val), 10)}
    assert not train_keys & val_keys
    per_class = np.bincount([CATEGORIES.index(val.label(i)["category"]) for i in range(len(val))])
    assert per_class.tolist() == [500] * 10


def test_same_seed_same_pixels_other_seed_other_colourways(tiny_fashion_root):
    a = FashionCatalog("train", size=64, seed=5, root=tiny_fashion_root)
    b = FashionCatalog("train", size=64, seed=5, root=tiny_fashion_root)
    c = FashionCatalog("train", size=64, seed=6, root=tiny_fashion_root)
    for i in (0, 17, 199):
        assert np.array_equal(np.asarray(a[i].image), np.asarray(b[i].image))
        assert a[i].caption == b[i].caption and a[i].labels == b[i].labels
    differ = sum(a.label(i)["color"] != c.label(i)["color"] for i in range(len(a)))
    assert differ > len(a) // 2
    assert a.label(3)["category"] == c.label(3)["category"]       # seed changes colourway, not product


def test_caption_matches_labels(tiny_fashion_root):
    catalog = FashionCatalog("test", root=tiny_fashion_root)
    for i in range(len(catalog)):
        sample = catalog[i]
        parsed = parse(sample.caption)
        for key, value in parsed.items():
            if value is not None:
                assert value == sample.labels[key], (sample.caption, sample.labels)
        assert parsed["category"] == sample.labels["category"]


def _nearest_color(rgb: np.ndarray) -> str:
    lab = srgb_to_lab(rgb)
    return min(COLORS, key=lambda c: np.linalg.norm(lab - srgb_to_lab(np.array(hex_to_rgb(COLORS[c])))))


@pytest.mark.parametrize("color", list(COLORS))
def test_colourway_reads_as_its_colour_and_keeps_shading(color):
    images, _ = synthetic_products(3, seed=3)
    gray = images[0]
    background = "black" if color == "white" else "white"
    out = colorway(gray, color, background, 32).astype(np.float64)
    product = out[2:30, 2:30][product_alpha(gray) > 0.99]
    assert _nearest_color(np.median(product, axis=0)) == color
    # the left-to-right ramp in the photo survives as a lightness ramp (for all but the extremes)
    lightness = srgb_to_lab(out[14, 2:30])[:, 0]
    inside = np.flatnonzero(product_alpha(gray)[12] > 0.99)
    left, right = lightness[inside[:3]].mean(), lightness[inside[-3:]].mean()
    assert right > left + 2
    # the frame outside the product box is exactly the background colour
    assert tuple(out[0, 0].astype(int)) == hex_to_rgb(BACKGROUNDS[background])


def test_silhouette_fills_small_prints_but_not_the_background():
    images, _ = synthetic_products(1, seed=4)
    alpha = product_alpha(images[0])
    assert alpha[0, 0] == 0 and alpha[27, 27] == 0
    dark = np.argwhere(images[0] == 0)
    inner = [tuple(p) for p in dark if 3 < p[0] < 24 and 3 < p[1] < 24 and alpha[tuple(p)] > 0]
    assert inner, "the dark 2x2 print inside the product should count as product"


def test_render_any_colourway_and_reject_unknown(tiny_fashion_root):
    catalog = FashionCatalog("test", root=tiny_fashion_root)
    image = catalog.render(0, "navy", "cream")
    assert image.getpixel((0, 0)) == hex_to_rgb(BACKGROUNDS["cream"])
    with pytest.raises(ValueError, match="unknown colour"):
        catalog.render(0, "mauve", "cream")
    with pytest.raises(IndexError):
        catalog[len(catalog)]


def test_bad_arguments_and_missing_or_broken_files(tmp_path, tiny_fashion_root):
    with pytest.raises(ValueError, match="unknown split"):
        FashionCatalog("validation", root=tiny_fashion_root)
    with pytest.raises(ValueError, match="size"):
        FashionCatalog("train", size=4, root=tiny_fashion_root)
    with pytest.raises(CatalogError, match="apt-get install dataset-fashion-mnist"):
        FashionCatalog("train", root=tmp_path)
    broken = tmp_path / "broken.gz"
    with gzip.open(broken, "wb") as f:
        f.write(b"\x00\x00\x08\x03" + (10).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2 + b"\x00" * 100)
    with pytest.raises(CatalogError, match="truncated"):
        read_idx(broken)
    not_idx = tmp_path / "text.gz"
    with gzip.open(not_idx, "wb") as f:
        f.write(b"hello world, not idx")
    with pytest.raises(CatalogError, match="not an unsigned-byte IDX"):
        read_idx(not_idx)


@needs_fashion
def test_real_fashion_mnist_splits():
    images, labels = load_source(str(FASHION_ROOT), "train")
    assert images.shape == (60000, 28, 28) and np.bincount(labels).tolist() == [6000] * 10
    train, val, test = (open_catalog("fashion", split=s) for s in ("train", "val", "test"))
    assert (len(train), len(val), len(test)) == (55000, 5000, 10000)
    colors = {train.label(i)["color"] for i in range(len(train))}
    backgrounds = {train.label(i)["background"] for i in range(len(train))}
    assert colors == set(COLORS) and backgrounds == set(BACKGROUNDS)
    sample = test[123]
    assert sample.image.size == (32, 32) and parse(sample.caption)["category"] == sample.labels["category"]


def test_image_is_the_sample_image_without_its_caption(tiny_fashion_root):
    catalog = FashionCatalog("train", size=64, seed=2, root=tiny_fashion_root)
    for i in (0, 5, 199):
        assert np.array_equal(np.asarray(catalog.image(i)), np.asarray(catalog[i].image))
