"""Export: PNG, JPEG and WebP files a marketplace accepts, carrying how they were made.

    export(image, "out/boot.png", provenance=Provenance("generated", prompt="navy ankle boot", seed=7,
           model="gan-fashion", recipe=recipe))
    read_metadata("out/boot.png")      # {"prompt": ..., "seed": 7, "recipe": Recipe, "digital_source_type": ...}

What goes in every file:
- `parameters`, AUTOMATIC1111's "infotext" (prompt on line 1, then `Key: value, ...` with values holding
  `,` `:` or a newline JSON-quoted): a PNG tEXt/iTXt chunk, or the EXIF UserComment in JPEG and WebP;
- an XMP packet with the IPTC `Iptc4xmpExt:DigitalSourceType` when the pixels involve a trained model:
  `trainedAlgorithmicMedia` for a generated image (edited or not), `compositeWithTrainedAlgorithmicMedia`
  for an upload with a model-made region; none for an upload only adjusted classically (Google Merchant
  Center requires the tag on AI images and forbids stripping it);
- an sRGB ICC profile (pixels are sRGB: load_image converts an upload's embedded profile on the way in);
- PNG also gets the exact JSON (`studio` iTXt); every export can get a sidecar `<file>.json`.
JPEG keeps an APP1 segment under 64 KB, so a very large recipe (an embedded texture) is named there by
its SHA-256 and travels in full in the sidecar.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from PIL import Image, ImageCms, PngImagePlugin

from ..files import atomic_write
from ..images import flatten
from .recipe import Recipe

FORMATS = {"png": "PNG", "jpeg": "JPEG", "jpg": "JPEG", "webp": "WEBP"}
EXTENSIONS = {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp"}
ORIGINS = ("generated", "upload")
IPTC_TYPES = "http://cv.iptc.org/newscodes/digitalsourcetype/"
GENERATED = "trainedAlgorithmicMedia"
COMPOSITE = "compositeWithTrainedAlgorithmicMedia"
USER_COMMENT = 0x9286
EXIF_IFD = 0x8769
INLINE_RECIPE_LIMIT = 32_000      # characters of recipe JSON inlined into JPEG/WebP EXIF


def _version() -> str:
    from .. import __version__

    return f"studio {__version__}"


@dataclass(frozen=True)
class Provenance:
    origin: str = "upload"                  # "generated" (from a model) or "upload" (a merchant's photo)
    prompt: str | None = None
    seed: int | None = None
    model: str | None = None
    truncation: float | None = None
    steps: int | None = None                # a diffusion model's solver steps and guidance scale
    guidance: float | None = None
    recipe: Recipe = field(default_factory=Recipe)
    prior_source_type: str | None = None    # what the input file already declared (kept, never stripped)
    request: str | None = None              # the merchant's own words, when the model was given `prompt`
    variant: int | None = None              # a generated variant's place in its batch (0-based) ...
    batch: int | None = None                # ... and the batch's size: with prompt and seed, what remakes it
    parts: tuple[str, ...] = ()             # prompts composed with `prompt` in a diffusion model's guidance

    def __post_init__(self) -> None:
        if self.origin not in ORIGINS:
            raise ValueError(f"origin must be one of {', '.join(ORIGINS)}, got {self.origin!r}")
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, int)):
            raise ValueError(f"seed must be an integer, got {self.seed!r}")

    @property
    def digital_source_type(self) -> str | None:
        """The IPTC term for these pixels, or None for a classically edited photo."""
        if self.origin == "generated" or self.prior_source_type == GENERATED:
            return GENERATED
        return COMPOSITE if self.recipe.uses_model or self.prior_source_type == COMPOSITE else None

    @classmethod
    def inherit(cls, source, recipe: Recipe) -> "Provenance":
        """The provenance of editing a file with `recipe`: a file this studio generated keeps its prompt,
        seed, model and AI label; any other declared IPTC source type is carried over, never stripped."""
        try:
            found = read_metadata(source)
        except (OSError, ValueError):
            found = {}
        prior = found.get("digital_source_type")
        origin = "generated" if found.get("origin") == "generated" or prior == GENERATED else "upload"
        seed = found.get("seed")
        return cls(origin, prompt=found.get("prompt"), seed=seed if isinstance(seed, int) else None,
                   model=found.get("model"), recipe=recipe, prior_source_type=prior, request=found.get("request"),
                   parts=found.get("parts", ()))


def _quote(value) -> str:
    text = str(value)
    return json.dumps(text) if any(c in text for c in ",:\n\"") else text


def infotext(provenance: Provenance, size: tuple[int, int], inline_recipe: bool = True) -> str:
    pairs: list[tuple[str, object]] = []
    if provenance.seed is not None:
        pairs.append(("Seed", provenance.seed))
    pairs.append(("Size", f"{size[0]}x{size[1]}"))
    if provenance.model:
        pairs.append(("Model", provenance.model))
    if provenance.truncation is not None:
        pairs.append(("Truncation", provenance.truncation))
    if provenance.steps is not None:
        pairs.append(("Steps", provenance.steps))
    if provenance.guidance is not None:
        pairs.append(("CFG scale", provenance.guidance))
    if provenance.parts:
        pairs.append(("Composed with", " | ".join(p.replace("\n", " ") for p in provenance.parts)))
    if provenance.request and provenance.request != provenance.prompt:
        pairs.append(("Request", provenance.request.replace("\n", " ")))
    pairs.append(("Source", provenance.origin))
    if provenance.recipe.steps:
        recipe_json = provenance.recipe.to_json()
        if inline_recipe and len(recipe_json) <= INLINE_RECIPE_LIMIT:
            pairs.append(("Recipe", recipe_json))
        else:
            pairs.append(("Recipe sha256", hashlib.sha256(recipe_json.encode()).hexdigest()))
    pairs.append(("Version", _version()))
    prompt = (provenance.prompt or "").replace("\n", " ")
    return prompt + "\n" + ", ".join(f"{k}: {_quote(v)}" for k, v in pairs)


_PAIR = re.compile(r'\s*([\w][\w \-/]*):\s*("(?:\\.|[^\\"])*"|[^,]*)(?:,|$)')


def parse_infotext(text: str) -> dict:
    """Back from infotext: {"prompt": str, "Seed": "7", ...} (values as strings, JSON-quoted ones decoded)."""
    lines = text.strip("\n").split("\n")
    out: dict[str, str] = {"prompt": lines[0] if len(lines) > 1 else ""}
    for key, value in _PAIR.findall(lines[-1] if len(lines) > 1 else text):
        out[key.strip()] = json.loads(value) if value.startswith('"') else value.strip()
    return out


def xmp_packet(digital_source_type: str | None, description: str = "") -> str:
    source = (f"\n  <Iptc4xmpExt:DigitalSourceType>{IPTC_TYPES}{digital_source_type}</Iptc4xmpExt:DigitalSourceType>"
              if digital_source_type else "")
    described = description.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
            '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
            ' <rdf:Description rdf:about=""\n'
            '   xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"\n'
            '   xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f"{source}\n"
            f"  <xmp:CreatorTool>{_version()}</xmp:CreatorTool>\n"
            f'  <dc:description><rdf:Alt><rdf:li xml:lang="x-default">{described}</rdf:li></rdf:Alt></dc:description>\n'
            " </rdf:Description></rdf:RDF></x:xmpmeta>\n"
            '<?xpacket end="w"?>')


_SRGB_ICC: bytes | None = None


ICC_DATE = struct.pack(">6H", 2000, 1, 1, 0, 0, 0)       # header bytes 24-35 (ICC.1:2022, 7.2.8)


def srgb_profile() -> bytes:
    """LittleCMS's sRGB profile, with its creation date pinned: lcms stamps the current time into the header,
    which would make the same edit differ byte for byte between processes (a pool, a cluster). The profile
    ID (bytes 84-99, an MD5 that would cover the date) is left unset by lcms, as the spec allows."""
    global _SRGB_ICC
    if _SRGB_ICC is None:
        data = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
        data[24:36] = ICC_DATE
        if any(data[84:100]):
            raise RuntimeError("this LittleCMS sets the ICC profile ID; the date cannot be pinned without it")
        _SRGB_ICC = bytes(data)
    return _SRGB_ICC


def _user_comment(text: str) -> Image.Exif:
    exif = Image.Exif()
    exif.get_ifd(EXIF_IFD)[USER_COMMENT] = b"UNICODE\0" + text.encode("utf-16-be")
    return exif


def resolve_format(target, format: str | None) -> str:
    if format is None:
        suffix = Path(str(getattr(target, "name", target))).suffix.lower().lstrip(".")
        if suffix not in FORMATS:
            raise ValueError(f"cannot tell the format from {str(target)!r}: give format png, jpeg or webp")
        format = suffix
    if format.lower() not in FORMATS:
        raise ValueError(f"format must be png, jpeg or webp, got {format!r}")
    return FORMATS[format.lower()]


def export(image: Image.Image, target: str | Path | BinaryIO, *, format: str | None = None, quality: int = 95,
           provenance: Provenance | None = None, sidecar: bool = True) -> Path | None:
    """Write `image` with its metadata; returns the path written (None for a file object).

    quality: JPEG/WebP quality 1..100 (WebP 100 = lossless); PNG is always lossless. An RGBA image keeps
    its alpha in PNG and WebP and is flattened onto white for JPEG.
    """
    if image.mode not in ("RGB", "RGBA"):
        raise ValueError(f"export takes RGB or RGBA images, got mode {image.mode}")
    if isinstance(quality, bool) or not isinstance(quality, int) or not 1 <= quality <= 100:
        raise ValueError(f"quality must be a whole number in 1..100, got {quality!r}")
    kind = resolve_format(target, format)
    provenance = provenance or Provenance()
    source_type = provenance.digital_source_type
    description = {GENERATED: "AI-generated product image", COMPOSITE: "Product photo with AI-generated parts"
                   }.get(source_type, "Product photo")
    xmp = xmp_packet(source_type, description)
    options: dict = {"icc_profile": srgb_profile()}
    if kind == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_text("parameters", infotext(provenance, image.size))      # tEXt, or iTXt when not Latin-1
        info.add_itxt("studio", json.dumps(_exact(provenance, image.size)))
        info.add_itxt("XML:com.adobe.xmp", xmp)
        # zlib level 6 costs 2.4x the time of level 1 on a 12 MP photo for the same size (noise does not
        # compress); small or flat images still get the tighter level
        options.update(pnginfo=info, compress_level=6 if image.width * image.height <= 4_000_000 else 1)
    else:
        if kind == "JPEG":
            image = flatten(image) if image.mode == "RGBA" else image
            options.update(quality=quality, subsampling=0 if quality >= 90 else 2, optimize=False)
        else:
            options.update(quality=quality, lossless=quality == 100, method=4)
        text = infotext(provenance, image.size, inline_recipe=True)
        options.update(exif=_user_comment(text), xmp=xmp.encode("utf-8"))
    if isinstance(target, (str, Path)):
        path = Path(target)
        path.parent.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        image.save(buffer, format=kind, **options)
        # a failed encode, or a process killed mid-write, leaves no half-written file
        atomic_write(path, lambda f: f.write(buffer.getvalue()))
        if sidecar:
            text = json.dumps({"file": path.name, "format": kind.lower(), **_exact(provenance, image.size)}, indent=2)
            atomic_write(sidecar_path(path), lambda f: f.write(text.encode("utf-8")))
        return path
    image.save(target, format=kind, **options)
    return None


def sidecar_path(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(path.name + ".json")


def _exact(provenance: Provenance, size: tuple[int, int]) -> dict:
    return {"prompt": provenance.prompt, "request": provenance.request, "seed": provenance.seed,
            "model": provenance.model, "truncation": provenance.truncation, "steps": provenance.steps,
            "guidance": provenance.guidance, "parts": list(provenance.parts), "origin": provenance.origin,
            "digital_source_type": provenance.digital_source_type, "size": list(size),
            "recipe": provenance.recipe.to_dict(), "version": _version()}


_SOURCE_TYPE = re.compile(r"<Iptc4xmpExt:DigitalSourceType>\s*(?:" + re.escape(IPTC_TYPES) +
                          r")?([A-Za-z]+)\s*</Iptc4xmpExt:DigitalSourceType>")


def read_metadata(source: str | Path | BinaryIO | Image.Image) -> dict:
    """What an exported file says about itself: prompt, seed, model, origin, recipe (a Recipe or None),
    digital_source_type (None when absent) and the raw `parameters` text ("" when absent)."""
    image = source if isinstance(source, Image.Image) else Image.open(source)
    info = image.info
    text = info.get("parameters")
    if text is None:
        comment = image.getexif().get_ifd(EXIF_IFD).get(USER_COMMENT)
        if isinstance(comment, bytes) and comment.startswith(b"UNICODE\0"):
            text = comment[8:].decode("utf-16-be", errors="replace")
        elif isinstance(comment, str):
            text = comment
    xmp = info.get("xmp") or info.get("XML:com.adobe.xmp") or b""
    xmp = xmp.decode("utf-8", errors="replace") if isinstance(xmp, bytes) else xmp
    match = _SOURCE_TYPE.search(xmp)
    out = {"parameters": text or "", "digital_source_type": match.group(1) if match else None,
           "prompt": None, "request": None, "seed": None, "model": None, "origin": None, "recipe": None}
    if "studio" in info:                                      # PNG: the exact JSON
        exact = json.loads(info["studio"])
        out.update({k: exact.get(k) for k in ("prompt", "request", "seed", "model", "origin")})
        parts = exact.get("parts")
        if isinstance(parts, list) and all(isinstance(p, str) for p in parts):
            out["parts"] = tuple(parts)
        out["recipe"] = Recipe.from_json(exact["recipe"])
        return out
    if text:
        fields = parse_infotext(text)
        out["prompt"] = fields.get("prompt") or None
        out["seed"] = int(fields["Seed"]) if fields.get("Seed", "").lstrip("-").isdigit() else None
        out["model"] = fields.get("Model")
        out["request"] = fields.get("Request")
        out["origin"] = fields.get("Source")
        out["recipe"] = Recipe.from_json(fields["Recipe"]) if "Recipe" in fields else None
        if "Recipe sha256" in fields:
            out["recipe_sha256"] = fields["Recipe sha256"]
    return out
