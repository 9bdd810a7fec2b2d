"""The image contract: one safe way in (`load_image`), and the PIL <-> tensor conversions, in one place.

At public boundaries images are PIL RGB (or RGBA when the upload has transparency), in sRGB. Inside
networks they are float tensors (B, 3, H, W) in [-1, 1]. Nothing here mutates its argument.
"""

from __future__ import annotations

import io
import struct
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Sequence, Union

import numpy as np
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

if TYPE_CHECKING:
    import torch

ImageSource = Union[str, Path, bytes, BinaryIO]

# 64 megapixels: above any phone or DSLR photo a merchant uploads (50 MP phones exist), far below what
# would exhaust memory (64 MP RGBA float32 is 1 GiB). The check reads the header, before any decoding.
DEFAULT_MAX_PIXELS = 64_000_000
DEFAULT_MAX_BYTES = 200 * 1024 * 1024
FLATTEN_BACKGROUND = (255, 255, 255)
# the formats an upload may be (JPEG includes the MPO files phone cameras write: Pillow's JPEG opener returns
# them). Pillow opens many more (EPS through Ghostscript, PSD, ICO, PCX...): an upload never reaches their decoders
UPLOAD_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF")


class ImageLoadError(ValueError):
    """An upload cannot be used: missing, empty, not an image, corrupt, truncated or too large."""


def load_image(source: ImageSource, *, max_pixels: int = DEFAULT_MAX_PIXELS, keep_alpha: bool = True,
               max_bytes: int = DEFAULT_MAX_BYTES) -> Image.Image:
    """Read an upload into a PIL image in sRGB: RGB, or RGBA when it has transparency and keep_alpha.

    Applies EXIF orientation, converts an embedded ICC profile to sRGB, maps every PIL mode (1, L, LA,
    P, PA, I;16, I, F, CMYK, YCbCr, LAB, HSV, ...) to RGB/RGBA, takes the first frame of an animation.
    Raises ImageLoadError with a message fit to show a merchant.
    """
    if max_pixels <= 0:
        raise ValueError(f"max_pixels must be positive, got {max_pixels}")
    name, data = _read_bytes(source, max_bytes)
    # 1. identify from the header only; refuse huge canvases before decoding a single pixel
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=UPLOAD_FORMATS)
    except UnidentifiedImageError:
        raise ImageLoadError(f"{name} is not an image format this studio reads "
                             "(PNG, JPEG, WebP, GIF, BMP or TIFF)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageLoadError(f"{name} is larger than the limit of {max_pixels:,} pixels "
                             f"(about {max_pixels / 1e6:.0f} megapixels); downscale it before uploading") from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error):
        raise ImageLoadError(f"{name} is corrupt: its header cannot be read") from None
    width, height = image.size
    if width <= 0 or height <= 0:
        raise ImageLoadError(f"{name} has an empty canvas ({width}x{height})")
    if width * height > max_pixels:
        raise ImageLoadError(f"{name} is {width}x{height} = {width * height:,} pixels, above the limit of "
                             f"{max_pixels:,} (about {max_pixels / 1e6:.0f} megapixels); downscale it before "
                             "uploading")
    # 2. decode fully now, so truncated or corrupt data fails here and not later in an edit
    try:
        image.seek(0)
        image.load()
    except (OSError, SyntaxError, ValueError, EOFError):
        raise ImageLoadError(f"{name} is truncated or corrupt and cannot be decoded") from None
    # 3. orientation, colour management, mode
    image = ImageOps.exif_transpose(image)
    image = _to_srgb(image, name)
    return _normalise_mode(image, keep_alpha)


SMALL_SIDE = 64
WIDE_ASPECT = 8


def upload_notes(source: str | Path, image: Image.Image) -> list[str]:
    """What a merchant should be told about an upload that loaded fine: only the first frame of an
    animation is used, a tiny image is shown enlarged, an extreme aspect ratio previews as a strip."""
    notes = []
    try:
        with Image.open(source) as opened:
            frames = getattr(opened, "n_frames", 1)
    except (OSError, ValueError):
        frames = 1
    if frames > 1:
        notes.append(f"{Path(str(source)).name} is animated ({frames} frames): only the first frame is edited")
    if max(image.size) < SMALL_SIDE:
        notes.append(f"this image is only {image.width}x{image.height} px: it is shown enlarged, and a "
                     "marketplace will want a larger photo")
    if max(image.size) > WIDE_ASPECT * min(image.size):
        notes.append(f"this image is {image.width}x{image.height} px, a very long strip: previews show it small")
    return notes


def _read_bytes(source: ImageSource, max_bytes: int) -> tuple[str, bytes]:
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.exists():
            raise ImageLoadError(f"no such file: {path.name}")
        if not path.is_file():
            raise ImageLoadError(f"{path.name} is not a file")
        size = path.stat().st_size
        if size > max_bytes:
            raise ImageLoadError(f"{path.name} is {size / 2**20:.0f} MB, above the {max_bytes / 2**20:.0f} MB limit")
        name, data = path.name, path.read_bytes()
    elif isinstance(source, (bytes, bytearray, memoryview)):
        name, data = "the upload", bytes(source)
    elif hasattr(source, "read"):
        name, data = getattr(source, "name", "the upload"), source.read(max_bytes + 1)
        if not isinstance(data, (bytes, bytearray)):
            raise ImageLoadError(f"{name} was opened in text mode; open it with 'rb'")
        name = Path(str(name)).name
    else:
        raise TypeError(f"load_image takes a path, bytes or a binary file, not {type(source).__name__}")
    if not data:
        raise ImageLoadError(f"{name} is empty (0 bytes)")
    if len(data) > max_bytes:
        raise ImageLoadError(f"{name} is larger than the {max_bytes / 2**20:.0f} MB limit")
    return name, bytes(data)


_SRGB = None


def _to_srgb(image: Image.Image, name: str) -> Image.Image:
    """Convert pixels with an embedded ICC profile into sRGB, so colours survive edits and export."""
    global _SRGB
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "RGBA", "CMYK", "L"):
        return image
    try:
        source_profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if _SRGB is None:
            _SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
        out_mode = "RGBA" if image.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(image, source_profile, _SRGB, outputMode=out_mode)
    except (ImageCms.PyCMSError, OSError, ValueError) as exc:
        warnings.warn(f"{name}: its embedded colour profile could not be applied ({exc}); "
                      "pixels are read as sRGB", stacklevel=3)
        return image
    converted.info = {k: v for k, v in image.info.items() if k != "icc_profile"}
    return converted


def _normalise_mode(image: Image.Image, keep_alpha: bool) -> Image.Image:
    mode = image.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        values = np.asarray(image, dtype=np.float64)
        if mode.startswith("I;16") or (mode == "I" and values.max(initial=0) > 255):
            values = values / 257.0                      # 16-bit range to 8-bit
        elif mode == "F" and values.max(initial=0) <= 1.0:
            values = values * 255.0                      # float images in [0, 1]
        image = Image.fromarray(np.clip(np.round(values), 0, 255).astype(np.uint8), "L")
        mode = "L"
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in image.info) \
        or (mode in ("L", "RGB") and "transparency" in image.info)
    if has_alpha:
        rgba = image.convert("RGBA")
        return rgba if keep_alpha else flatten(rgba)
    return image.convert("RGB") if mode != "RGB" else image.copy()


def flatten(image: Image.Image, background: tuple[int, int, int] = FLATTEN_BACKGROUND) -> Image.Image:
    """RGB copy of an RGB/RGBA image, transparency composited onto `background`."""
    if image.mode == "RGB":
        return image.copy()
    rgba = image.convert("RGBA")
    flat = Image.new("RGB", rgba.size, background)
    flat.paste(rgba, mask=rgba.getchannel("A"))
    return flat


def fit(image: Image.Image, size: int, background: tuple[int, int, int] = FLATTEN_BACKGROUND) -> Image.Image:
    """Letterbox into a size x size RGB square, keeping the aspect ratio (product centred)."""
    if size <= 0:
        raise ValueError(f"size must be positive, got {size}")
    flat = flatten(image, background)
    scale = size / max(flat.size)
    new = (max(1, round(flat.width * scale)), max(1, round(flat.height * scale)))
    resized = flat.resize(new, Image.Resampling.LANCZOS)
    canvas = Image.new("RGB", (size, size), background)
    canvas.paste(resized, ((size - new[0]) // 2, (size - new[1]) // 2))
    return canvas


def to_tensor(images: Image.Image | Sequence[Image.Image]) -> "torch.Tensor":
    """PIL image(s), all the same size, -> float32 (B, 3, H, W) in [-1, 1]; alpha flattened onto white."""
    import torch

    batch = [images] if isinstance(images, Image.Image) else list(images)
    if not batch:
        raise ValueError("to_tensor needs at least one image")
    sizes = {im.size for im in batch}
    if len(sizes) != 1:
        raise ValueError(f"images in one batch must share a size, got {sorted(sizes)}")
    array = np.stack([np.asarray(flatten(im), dtype=np.uint8) for im in batch])      # (B, H, W, 3)
    tensor = torch.from_numpy(array).permute(0, 3, 1, 2).float()                      # (B, 3, H, W)
    return tensor / 127.5 - 1.0


def to_pil(tensor: "torch.Tensor") -> list[Image.Image]:
    """(B, 3, H, W) or (3, H, W) float in [-1, 1] (values outside are clipped) -> list of PIL RGB."""
    import torch

    if tensor.ndim == 3:
        tensor = tensor.unsqueeze(0)
    if tensor.ndim != 4 or tensor.shape[1] != 3:
        raise ValueError(f"expected (B, 3, H, W), got {tuple(tensor.shape)}")
    array = ((tensor.detach().float().cpu().clamp(-1, 1) + 1.0) * 127.5).round().to(torch.uint8)
    return [Image.fromarray(a) for a in array.permute(0, 2, 3, 1).numpy()]
