"""Train the upscaler (studio/models/upscaler.py) on the installed photos; write weights/upscaler-x<scale>/.

    python -m studio train upscaler --scale 2 --steps 6000 --max-minutes 40
    python -m studio train upscaler --scale 4 --width 32 --blocks 6 --steps 6000 --out weights/upscaler-x4
    python -m studio train upscaler --scale 2 --dry-run

The procedure (degrade, then learn to restore; SRCNN/ESPCN/EDSR's recipe):
- every epoch draws `epoch_patches` high-resolution crops of (patch x scale) pixels from the training split
  of studio/data/photos.py, `photo_share` of them from the real photos and the rest from art, graphics and
  textures in proportion to their area; each is flipped and turned at random;
- its low-resolution input is the crop reduced by PIL's bicubic filter (antialiased), the degradation
  `eval upscale` measures against;
- L1 loss (EDSR: sharper than L2 at the same PSNR), Adam with a one-cycle schedule, on the shared Accelerate
  scaffold (resumable legs, prepared DataLoader). The held-out photos are never read here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..data.photos import NATURE, training_pool
from ..models.upscaler import Upscaler
from .common import EpochData, Run, write_trained
from .configs import UpscalerTrainConfig

CATALOGS = ("photos",)


def _weights(pool: list[np.ndarray], is_photo: np.ndarray, photo_share: float) -> np.ndarray:
    """Sampling weight per image: area within each group, `photo_share` for the photos as a group."""
    area = np.array([a.shape[0] * a.shape[1] for a in pool], np.float64)
    weights = np.zeros_like(area)
    for group, share in ((is_photo, photo_share), (~is_photo, 1 - photo_share)):
        if group.any():
            weights[group] = share * area[group] / area[group].sum()
    if weights.sum() == 0:                       # only one group present and its share is 0
        weights = area
    return weights / weights.sum()


def draw_patches(pool: list[np.ndarray], weights: np.ndarray, n: int, patch: int, scale: int,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n (low-res (n, patch, patch, 3), high-res (n, patch*scale, patch*scale, 3)) uint8 pairs: random
    crops, flips and quarter turns; the low-res one is the crop reduced by bicubic."""
    side = patch * scale
    usable = np.array([min(a.shape[:2]) >= side for a in pool])
    if not usable.any():
        raise ValueError(f"no training image is at least {side} px on its short side")
    p = np.where(usable, weights, 0.0)
    p = p / p.sum()
    low = np.empty((n, patch, patch, 3), np.uint8)
    high = np.empty((n, side, side, 3), np.uint8)
    for i, k in enumerate(rng.choice(len(pool), size=n, p=p)):
        image = pool[k]
        y = rng.integers(image.shape[0] - side + 1)
        x = rng.integers(image.shape[1] - side + 1)
        crop = np.rot90(image[y:y + side, x:x + side], k=int(rng.integers(4)))
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        high[i] = crop
        low[i] = np.asarray(Image.fromarray(np.ascontiguousarray(crop)).resize((patch, patch), Image.Resampling.BICUBIC))
    return low, high


def _to_unit(batch: torch.Tensor, device) -> torch.Tensor:
    """uint8 (B, H, W, 3) -> float (B, 3, H, W) in [-1, 1]."""
    return batch.to(device).permute(0, 3, 1, 2).float() / 127.5 - 1.0


def train_upscaler(cfg: UpscalerTrainConfig, log=print) -> dict:
    run = Run(cfg, "upscaler", log, catalogs=CATALOGS)
    device = run.device
    # 1. the training images, once; patches re-drawn every epoch (the same on every process)
    found = training_pool(cfg.max_side, Path(cfg.root), limit=cfg.limit)
    files, pool = [f for f, _ in found], [a for _, a in found]
    is_photo = np.array([f.parent.as_posix().endswith(NATURE) for f in files])
    weights = _weights(pool, is_photo, cfg.photo_share)
    data = EpochData(lambda epoch: draw_patches(pool, weights, cfg.epoch_patches, cfg.patch, cfg.scale,
                                                np.random.default_rng([cfg.seed, epoch])))
    run.log_line(f"{len(pool)} training images ({int(is_photo.sum())} photos), {len(data)} patches per epoch, "
                 f"{cfg.patch} -> {cfg.patch * cfg.scale} px")
    # 2. network, optimiser, one-cycle schedule
    model = Upscaler(scale=cfg.scale, width=cfg.width, blocks=cfg.blocks)
    optimiser = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=cfg.lr, total_steps=max(1, cfg.steps),
                                                   pct_start=0.05)
    model, optimiser, schedule = run.prepare(model, optimiser, schedule)
    loader = run.loader(data)
    run.resume()
    # 3. the loop
    for low, high in run.batches(data, loader):
        x, target = _to_unit(low, device), _to_unit(high, device)
        loss = (model(x) - target).abs().mean()
        optimiser.zero_grad(set_to_none=True)
        run.accelerator.backward(loss)
        optimiser.step()
        schedule.step()
        if run.due():
            run.log(l1=loss.item(), lr=schedule.get_last_lr()[0])
    # 4. the folder the app loads
    net = run.unwrap(model).eval()
    return write_trained(run, net, run.record(sources=[str(f) for f in files]))
