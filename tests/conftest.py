"""Shared fixtures: tiny generated data in the real formats, so behaviour is tested without Debian's
packages; tests on the real data are marked and skip when the package is absent."""

from __future__ import annotations

import gzip
import io
import os
import struct
import zipfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import numpy as np
import pytest
from PIL import Image

FASHION_ROOT = Path("/usr/share/datasets/fashion-mnist")
FURNITURE_ROOT = Path("/usr/share/sweethome3d/furniture")

needs_fashion = pytest.mark.skipif(not (FASHION_ROOT / "train-images-idx3-ubyte.gz").is_file(),
                                   reason="Debian package dataset-fashion-mnist not installed")
needs_furniture = pytest.mark.skipif(not any(FURNITURE_ROOT.glob("*.sh3f")) if FURNITURE_ROOT.is_dir() else True,
                                     reason="Debian package sweethome3d-furniture not installed")


@pytest.fixture(scope="session")
def pg_cluster():
    """A throwaway PostgreSQL server for the session (Debian's binaries; skipped, saying why, without them)."""
    from studio.review.pgcluster import TempCluster, unavailable_reason

    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    cluster = TempCluster().start()
    yield cluster
    cluster.remove()


@pytest.fixture(params=["sqlite", "postgresql"])
def board_url(request):
    """Each board test runs on both engines: None is the default (SQLite in the data dir), else a fresh
    PostgreSQL database."""
    if request.param == "sqlite":
        return None
    return request.getfixturevalue("pg_cluster").create_database()


# A cube two units wide standing on y=0, as OBJ text: its vertices, its +z (front) face and its other five faces.
CUBE_VERTICES = "".join(f"v {x} {y} {z}\n" for x, y, z in ((-1, 0, 1), (1, 0, 1), (1, 2, 1), (-1, 2, 1), (-1, 0, -1),
                                                          (1, 0, -1), (1, 2, -1), (-1, 2, -1)))
CUBE_FRONT = "f 1 2 3\nf 1 3 4\n"
CUBE_REST = "f 6 5 8\nf 6 8 7\nf 5 1 4\nf 5 4 8\nf 2 6 7\nf 2 7 3\nf 4 3 7\nf 4 7 8\nf 5 6 2\nf 5 2 1\n"


def write_idx(path: Path, array: np.ndarray) -> None:
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(">" + "I" * array.ndim, *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def synthetic_products(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Bright shaded blobs on black, like Fashion-MNIST: a rectangle per sample with a gradient and a
    dark 2x2 'print' inside (which the silhouette must fill)."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 28, 28), np.uint8)
    labels = np.arange(n) % 10
    for i in range(n):
        top, left = rng.integers(2, 8, size=2)
        bottom, right = rng.integers(20, 26, size=2)
        ramp = np.linspace(120, 230, right - left)[None, :]
        images[i, top:bottom, left:right] = ramp.astype(np.uint8)
        cy, cx = (top + bottom) // 2, (left + right) // 2
        images[i, cy:cy + 2, cx:cx + 2] = 0
    return images, labels.astype(np.uint8)


@pytest.fixture(scope="session")
def tiny_fashion_root(tmp_path_factory) -> Path:
    """A folder with the four Fashion-MNIST .gz files: 5,200 train (520 per class) and 40 test."""
    root = tmp_path_factory.mktemp("fashion")
    train_x, train_y = synthetic_products(5200, seed=1)
    test_x, test_y = synthetic_products(40, seed=2)
    write_idx(root / "train-images-idx3-ubyte.gz", train_x)
    write_idx(root / "train-labels-idx1-ubyte.gz", train_y)
    write_idx(root / "t10k-images-idx3-ubyte.gz", test_x)
    write_idx(root / "t10k-labels-idx1-ubyte.gz", test_y)
    return root


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def icon(color: tuple[int, int, int]) -> Image.Image:
    """A 128x128 RGBA render: an opaque disc on transparency."""
    yy, xx = np.mgrid[:128, :128]
    alpha = (((yy - 64) ** 2 + (xx - 64) ** 2) < 50 ** 2).astype(np.uint8) * 255
    rgba = np.zeros((128, 128, 4), np.uint8)
    rgba[..., :3] = color
    rgba[..., 3] = alpha
    return Image.fromarray(rgba, "RGBA")


SH3F_PROPERTIES = """# PluginFurnitureCatalog.properties
id=Test#Library
name=Blend Swap Test
license=Creative Commons Attribution 3.0 license
! a bang comment
id#1=Test#chair
name#1=Office chair
tags#1=Blend Swap, Seat, Office chair
category#1=Office
icon#1=/test/chair.png
creator#1=Alice

id#2=Test#lamp
name#2=Lamp \\u20ac deluxe
tags#2=Light, \\
    Desk
category#2=Lights
icon#2=/test/lamp.png
creator#2=Bob

id#3=Test#person
name#3=Person
category#3=Characters
icon#3=/test/person.png
creator#3=Carol
"""


@pytest.fixture(scope="session")
def tiny_furniture_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("furniture")
    with zipfile.ZipFile(root / "Test.sh3f", "w") as z:
        z.writestr("PluginFurnitureCatalog.properties", SH3F_PROPERTIES.encode("latin-1"))
        z.writestr("test/chair.png", png_bytes(icon((200, 30, 30))))
        z.writestr("test/lamp.png", png_bytes(icon((240, 240, 240))))
        z.writestr("test/person.png", png_bytes(icon((90, 60, 40))))
    return root


def product_photo(size=(160, 120), product=(40, 70, 170), background=(246, 246, 246), seed=0,
                  box=(0.3, 0.25, 0.7, 0.8)) -> Image.Image:
    """A product-photo stand-in: a shaded, slightly noisy ellipse on a plain backdrop with mild noise."""
    w, h = size
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = (box[0] + box[2]) / 2 * w, (box[1] + box[3]) / 2 * h
    rx, ry = (box[2] - box[0]) / 2 * w, (box[3] - box[1]) / 2 * h
    inside = ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2 <= 1
    shade = 0.75 + 0.5 * (xx - cx + rx) / (2 * rx)                    # left-to-right shading
    rgb = np.empty((h, w, 3), np.float32)
    rgb[:] = background
    rgb[inside] = (np.array(product, np.float32)[None] * shade[inside][:, None])
    rgb += rng.normal(0, 1.5, rgb.shape)
    return Image.fromarray(np.clip(np.rint(rgb), 0, 255).astype(np.uint8), "RGB")


# ---- tiny generator folders in the shipped layout (diffusers' save_pretrained)
TINY_TEXT = {"text_width": 16, "text_queries": 2, "text_heads": 2}
TINY_GAN = {"size": 16, "width": 8, "z_dim": 16, "cond_dim": 16, **TINY_TEXT}
TINY_VAE = {"size": 16, "width": 8, "z_dim": 8, **TINY_TEXT}


def write_gan(folder: Path, seed: int = 0, **overrides) -> Path:
    """A randomly initialised GAN pipeline folder (seeded)."""
    import torch

    from studio.models.gan import Generator
    from studio.pipelines import GANPipeline

    torch.manual_seed(seed)
    GANPipeline(Generator(**{**TINY_GAN, **overrides})).save_pretrained(str(folder))
    return Path(folder)


def write_vae(folder: Path, seed: int = 0, sharpen: bool = True, **overrides) -> Path:
    """A randomly initialised VAE pipeline folder (seeded); `sharpen`: a decoder that reacts to z clearly,
    as a trained one does."""
    import torch

    from studio.models.vae import ConditionalVAE
    from studio.pipelines import VAEPipeline

    torch.manual_seed(seed)
    model = ConditionalVAE(**{**TINY_VAE, **overrides})
    if sharpen:
        with torch.no_grad():
            model.from_latent.weight.mul_(20)
    VAEPipeline(model).save_pretrained(str(folder))
    return Path(folder)


def write_inpainter(folder: Path, seed: int = 0) -> Path:
    """A tiny photo inpainter folder (seeded) whose correction is not zero, as after training."""
    import torch

    from studio.models.inpaint import InpaintNet

    torch.manual_seed(seed)
    net = InpaintNet(size=64, width=16)
    with torch.no_grad():
        net.out.weight.normal_(std=0.05)
    net.save_pretrained(str(folder))
    return Path(folder)


def write_upscaler(folder: Path, scale: int = 2, seed: int = 0) -> Path:
    """A small upscaler folder (seeded) whose residual is not zero, as after training."""
    import torch

    from studio.models.upscaler import Upscaler

    torch.manual_seed(seed)
    net = Upscaler(scale=scale, width=8, blocks=1)
    with torch.no_grad():
        net.tail.weight.normal_(std=0.05)
    net.save_pretrained(str(folder))
    return Path(folder)


def write_stylenet(folder: Path, seed: int = 0) -> Path:
    """A small live style decoder folder (seeded, untrained)."""
    import torch

    from studio.models.stylenet import StyleDecoder

    torch.manual_seed(seed)
    StyleDecoder(width=8).save_pretrained(str(folder))
    return Path(folder)
