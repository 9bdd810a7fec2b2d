import io

import numpy as np
import pytest
from PIL import Image, ImageCms

from studio.images import ImageLoadError, fit, load_image, to_pil, to_tensor


def encode(image: Image.Image, fmt: str = "PNG", **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


@pytest.mark.parametrize("mode, fmt, expected", [
    ("1", "PNG", "RGB"), ("L", "PNG", "RGB"), ("LA", "PNG", "RGBA"), ("P", "PNG", "RGB"),
    ("RGB", "JPEG", "RGB"), ("RGBA", "PNG", "RGBA"), ("RGBA", "WEBP", "RGBA"), ("CMYK", "JPEG", "RGB"),
    ("CMYK", "TIFF", "RGB"), ("I;16", "PNG", "RGB"), ("I", "TIFF", "RGB"), ("F", "TIFF", "RGB"),
    ("RGB", "BMP", "RGB"), ("P", "GIF", "RGB"),
])
def test_every_mode_becomes_rgb_or_rgba(mode, fmt, expected):
    image = load_image(encode(Image.new(mode, (12, 7)), fmt))
    assert image.mode == expected and image.size == (12, 7)


def test_sixteen_bit_is_scaled_not_clipped():
    ramp = np.tile(np.linspace(0, 65535, 64), (4, 1)).astype(np.uint16)
    image = load_image(encode(Image.fromarray(ramp), "PNG"))
    values = np.asarray(image)[..., 0]
    assert values.min() == 0 and values.max() == 255
    assert 100 < values[0, 32] < 155          # mid-range stays mid-grey (clipping would give 255)


def test_palette_transparency_and_alpha_kept_or_flattened():
    palette = Image.new("P", (4, 4), 0)
    palette.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    data = encode(palette, "PNG", transparency=0)
    assert load_image(data).mode == "RGBA"
    assert load_image(data).getpixel((0, 0))[3] == 0
    flat = load_image(data, keep_alpha=False)
    assert flat.mode == "RGB" and flat.getpixel((0, 0)) == (255, 255, 255)


def test_exif_orientation_is_applied():
    image = Image.new("RGB", (40, 20), (0, 0, 255))
    exif = image.getexif()
    exif[0x0112] = 6                          # rotate 90° clockwise on display
    assert load_image(encode(image, "JPEG", exif=exif)).size == (20, 40)


def test_cmyk_colour_is_converted():
    red = load_image(encode(Image.new("CMYK", (8, 8), (0, 255, 255, 0)), "TIFF")).getpixel((3, 3))
    assert red[0] > 200 and red[1] < 60 and red[2] < 60


def test_embedded_icc_profile_is_applied_and_removed():
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    image = load_image(encode(Image.new("RGB", (8, 8), (10, 120, 230)), "PNG", icc_profile=srgb))
    assert "icc_profile" not in image.info
    assert all(abs(a - b) <= 2 for a, b in zip(image.getpixel((1, 1)), (10, 120, 230)))


def test_first_frame_of_an_animation():
    frames = [Image.new("RGB", (6, 6), c) for c in ((255, 0, 0), (0, 255, 0))]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])
    pixel = load_image(buffer.getvalue()).getpixel((0, 0))
    assert pixel[0] > 200 and pixel[1] < 50


def test_truncated_and_corrupt_files_are_rejected_clearly():
    jpeg = encode(Image.new("RGB", (64, 64), (200, 10, 10)), "JPEG")
    png = encode(Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)))
    with pytest.raises(ImageLoadError, match="truncated or corrupt"):
        load_image(png[:len(png) // 2])
    with pytest.raises(ImageLoadError, match="corrupt"):
        load_image(jpeg[:200])
    with pytest.raises(ImageLoadError, match="not an image format"):
        load_image(b"this is a text file, not a picture")
    with pytest.raises(ImageLoadError, match="empty"):
        load_image(b"")


def test_pixel_limit_and_decompression_bomb():
    data = encode(Image.new("RGB", (300, 200)), "PNG")
    with pytest.raises(ImageLoadError, match="300x200 = 60,000 pixels, above the limit of 50,000"):
        load_image(data, max_pixels=50_000)
    bomb = encode(Image.new("1", (20000, 20000)), "PNG")      # 48 KB file, 400 MP canvas
    assert len(bomb) < 100_000
    with pytest.raises(ImageLoadError, match="pixels|bomb"):
        load_image(bomb)


def test_paths_and_file_objects(tmp_path):
    with pytest.raises(ImageLoadError, match="no such file"):
        load_image(tmp_path / "missing.png")
    with pytest.raises(ImageLoadError, match="not a file"):
        load_image(tmp_path)
    path = tmp_path / "shirt.png"
    path.write_bytes(encode(Image.new("RGB", (5, 5), (1, 2, 3))))
    assert load_image(path).getpixel((0, 0)) == (1, 2, 3)
    with open(path, "rb") as f:
        assert load_image(f).size == (5, 5)
    with pytest.raises(ImageLoadError, match="larger than|above"):
        load_image(path, max_bytes=10)
    with pytest.raises(TypeError):
        load_image(12345)  # type: ignore[arg-type]


def test_tensor_round_trip_is_exact_and_inputs_untouched():
    rng = np.random.default_rng(0)
    images = [Image.fromarray(rng.integers(0, 256, (9, 11, 3), dtype=np.uint8)) for _ in range(3)]
    before = [np.asarray(im).copy() for im in images]
    tensor = to_tensor(images)
    assert tuple(tensor.shape) == (3, 3, 9, 11)
    assert float(tensor.min()) >= -1.0 and float(tensor.max()) <= 1.0
    back = to_pil(tensor)
    for original, restored, snapshot in zip(images, back, before):
        assert np.array_equal(np.asarray(original), np.asarray(restored))
        assert np.array_equal(np.asarray(original), snapshot)
    with pytest.raises(ValueError, match="share a size"):
        to_tensor([Image.new("RGB", (4, 4)), Image.new("RGB", (5, 4))])


def test_fit_letterboxes_to_a_square():
    wide = Image.new("RGB", (200, 100), (255, 0, 0))
    square = fit(wide, 64)
    assert square.size == (64, 64)
    assert square.getpixel((32, 32)) == (255, 0, 0)
    assert square.getpixel((32, 2)) == (255, 255, 255)
    assert wide.size == (200, 100)


@pytest.mark.parametrize("fmt", ["PPM", "ICO", "PCX", "TGA", "SGI", "IM"])
def test_formats_outside_the_upload_list_are_refused_before_decoding(fmt):
    """Pillow reads many more formats than an upload may be (an EPS would go to Ghostscript): each is refused
    with the list of the formats the studio reads."""
    with pytest.raises(ImageLoadError, match="PNG, JPEG, WebP, GIF, BMP or TIFF"):
        load_image(encode(Image.new("RGB", (16, 16), "red"), fmt))


def test_an_eps_upload_never_reaches_ghostscript():
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nnewpath 0 0 moveto 10 10 lineto stroke\nshowpage\n"
    with pytest.raises(ImageLoadError, match="not an image format"):
        load_image(eps)


def test_a_phone_cameras_mpo_jpeg_still_loads():
    first, second = Image.new("RGB", (20, 10), "red"), Image.new("RGB", (20, 10), "blue")
    data = encode(first, "MPO", save_all=True, append_images=[second])
    assert Image.open(io.BytesIO(data)).format == "MPO"
    image = load_image(data)
    assert image.size == (20, 10) and np.asarray(image)[5, 10, 0] > 200          # the first frame
