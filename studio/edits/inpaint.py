"""The learned photo repair at the photo's own resolution: studio/models/inpaint.py's correction of a classical
fill, on a crop around the hole.

    net = open_inpainter("weights/inpaint-photos")
    rgb = inpaint_fill(net, rgb, hole)            # uint8 (H, W, 3), bool (H, W) -> uint8 (H, W, 3)

What runs (cost follows the hole, not the photo):
1. a crop around the hole's bounding box, with a margin of a quarter of the box's longer side (at least
   MIN_MARGIN px): the context the network looks at;
2. the network's classical base fill (Navier-Stokes) of that crop at full resolution;
3. when the crop is longer than the network's `size`, a copy reduced to it (area filter; a reduced pixel is
   hole when any of its source pixels is); the network's correction of the base fill is computed there and
   enlarged back (bilinear) — the missing content of a large hole is low-frequency, and the full-resolution
   base fill keeps the seam with the surrounding pixels exact;
4. base fill + correction inside the hole; every pixel outside the hole is the caller's to keep (repair.py
   keeps them exactly).
Sides are padded by reflection to the encoder's multiple of 32. Deterministic: eval mode, no sampling.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

MIN_MARGIN = 32
MARGIN = 0.25


def open_inpainter(folder: str | Path, device: str = "cpu"):
    """The InpaintNet in `folder` (config.json + safetensors), in eval mode."""
    from ..checkpoints import open_network
    from ..models.inpaint import InpaintNet

    if not (Path(folder) / "config.json").is_file():
        raise FileNotFoundError(f"no inpainting model at {folder}: train one with `python -m studio train inpaint`")
    return open_network(folder, InpaintNet, device=device)


def _crop_box(hole: np.ndarray) -> tuple[int, int, int, int]:
    rows, cols = np.flatnonzero(hole.any(1)), np.flatnonzero(hole.any(0))
    margin = max(MIN_MARGIN, round(MARGIN * max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1)))
    return (max(rows[0] - margin, 0), min(rows[-1] + margin + 1, hole.shape[0]),
            max(cols[0] - margin, 0), min(cols[-1] + margin + 1, hole.shape[1]))


def _correction(net, base: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """The network's correction (float32 (h, w, 3), 0..255 units) of `base` inside `hole`, at their size.
    (Averaging with the mirrored crop's correction was tried: no gain on training-split photo crops.)"""
    import torch

    from ..models.liteunet import MULTIPLE

    h, w = hole.shape
    pad_h, pad_w = -h % MULTIPLE, -w % MULTIPLE
    mode = "reflect" if min(h, w) > max(pad_h, pad_w) else "edge"
    x = np.pad(base, ((0, pad_h), (0, pad_w), (0, 0)), mode=mode)
    g = np.pad(hole, ((0, pad_h), (0, pad_w)))
    device = next(net.parameters()).device
    with torch.inference_mode():
        xt = torch.from_numpy(x).to(device).permute(2, 0, 1)[None].float() / 127.5 - 1
        gt = torch.from_numpy(g).to(device)[None, None].float()
        delta = ((net(xt, gt).clamp(-1, 1) - xt) * 127.5)[0].permute(1, 2, 0).cpu().numpy()
    return delta[:h, :w].astype(np.float32)


def inpaint_fill(net, rgb: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """rgb uint8 (H, W, 3) with hole bool (H, W) -> uint8 (H, W, 3) filled inside the hole (outside it the
    classical base fill leaves pixels as they were)."""
    from .repair import CLASSICAL, DEFAULT_RADIUS

    out = rgb.copy()
    if not hole.any():
        return out
    top, bottom, left, right = _crop_box(hole)
    crop, crop_hole = rgb[top:bottom, left:right], hole[top:bottom, left:right]
    base = CLASSICAL.get(net.config.base).fill(crop, crop_hole, DEFAULT_RADIUS)
    h, w = crop_hole.shape
    factor = min(1.0, net.config.size / max(h, w))
    if factor < 1:
        size = (max(1, round(w * factor)), max(1, round(h * factor)))
        small = cv2.resize(base, size, interpolation=cv2.INTER_AREA)
        small_hole = cv2.resize(crop_hole.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0
        delta = cv2.resize(_correction(net, small, small_hole), (w, h), interpolation=cv2.INTER_LINEAR)
    else:
        delta = _correction(net, base, crop_hole)
    filled = np.clip(base.astype(np.float32) + delta + 0.5, 0, 255).astype(np.uint8)
    out[top:bottom, left:right] = np.where(crop_hole[..., None], filled, crop)
    return out
