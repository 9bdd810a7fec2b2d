"""Train the photo inpainter (studio/models/inpaint.py) on the installed photos; write weights/inpaint-photos/.

    python -m studio train inpaint --steps 3000 --max-minutes 100
    python -m studio train inpaint --steps 3000 --max-minutes 100 --resume
    python -m studio train inpaint --dry-run

The procedure (damage, fill classically, learn the correction):
- every epoch draws `epoch_images` crops from the training split of studio/data/photos.py (`photo_share` of
  them from the real photos, the rest from art, graphics and textures by area; the held-out photos are never
  read here): a square of size..zoom x size source pixels at a random place, reduced to `size`, flipped and
  turned at random — so the network sees the photos at more than one scale;
- each gets a LaMa-style hole (studio/eval/masks.py: thin, medium or thick by `mask_shares`), filled with
  the classical `base` method exactly as the repair tool fills it (studio/edits/repair.py);
- the loss: L1 (or, with `--loss l2`, the squared error PSNR measures) inside the hole (mean over hole
  pixels) plus `perceptual_weight` x the L1 between EfficientNet-Lite0 feature maps (blocks 0, 2, 4: edges
  and texture) of the result and the photo — early blocks only; the pooled head features fd_effnet measures
  with are not part of the loss;
- AdamW with a one-cycle schedule; the fine-tuned encoder blocks learn at a tenth of the decoder's rate;
  the shared Accelerate scaffold (resumable legs, prepared DataLoader).
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from ..edits.repair import CLASSICAL, DEFAULT_RADIUS
from ..eval.masks import random_mask
from ..models.inpaint import InpaintNet
from .bank import to_unit
from .common import EpochData, Run, write_trained
from .configs import InpaintTrainConfig
from .upscale import photo_pool

CATALOGS = ("photos",)
MASK_KINDS = ("thin", "medium", "thick")
FEATURE_BLOCKS = (0, 2, 4)


def draw_holes(pool: list[np.ndarray], weights: np.ndarray, n: int, size: int, zoom: float,
               mask_shares: np.ndarray, base: str, rng: np.random.Generator
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n (filled, photo, hole): uint8 (n, size, size, 3) crops with their hole filled by the classical
    `base` method, the crops themselves, and bool (n, size, size) holes."""
    usable = np.array([min(a.shape[:2]) >= size for a in pool])
    if not usable.any():
        raise ValueError(f"no training image is at least {size} px on its short side")
    p = np.where(usable, weights, 0.0)
    p = p / p.sum()
    fill = CLASSICAL.get(base)
    filled = np.empty((n, size, size, 3), np.uint8)
    photos = np.empty((n, size, size, 3), np.uint8)
    holes = np.empty((n, size, size), bool)
    for i, k in enumerate(rng.choice(len(pool), size=n, p=p)):
        image = pool[k]
        side = int(rng.integers(size, max(size, min(int(size * zoom), *image.shape[:2])) + 1))
        y, x = rng.integers(image.shape[0] - side + 1), rng.integers(image.shape[1] - side + 1)
        crop = image[y:y + side, x:x + side]
        if side != size:
            crop = cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)
        crop = np.rot90(crop, k=int(rng.integers(4)))
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        crop = np.ascontiguousarray(crop)
        hole = random_mask(MASK_KINDS[int(rng.choice(3, p=mask_shares))], size, rng)
        damaged = crop.copy()
        damaged[hole] = 0
        photos[i], holes[i] = crop, hole
        filled[i] = np.where(hole[..., None], fill.fill(damaged, hole, DEFAULT_RADIUS), crop)
    return filled, photos, holes


def _initial_weights(model: InpaintNet, source: str, log) -> None:
    from ..checkpoints import open_network

    start = open_network(source, InpaintNet)
    c, own = start.config, model.config
    if (c.width, c.base) != (own.width, own.base):
        raise ValueError(f"{source} has width {c.width} over {c.base}; this run has {own.width} over {own.base}")
    model.load_state_dict(start.state_dict())
    log(f"starting from the weights of {source}")


def hole_psnr(a: torch.Tensor, b: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of the PSNR inside the hole, images in [-1, 1] (peak-to-peak 2)."""
    mse = ((a.clamp(-1, 1) - b) ** 2 * hole).sum((1, 2, 3)) / (3 * hole.sum((1, 2, 3))).clamp(min=1)
    return (10 * torch.log10(4 / mse.clamp(min=1e-10))).mean()


def train_inpaint(cfg: InpaintTrainConfig, log=print) -> dict:
    run = Run(cfg, "inpaint", log, catalogs=CATALOGS)
    device = run.device
    # 1. the training images, once; crops and holes re-drawn every epoch (the same on every process)
    files, pool, is_photo, weights = photo_pool(cfg)
    shares = np.array([float(v) for v in cfg.mask_shares.split(",")])
    shares = shares / shares.sum()
    data = EpochData(lambda epoch: draw_holes(pool, weights, cfg.epoch_images, cfg.size, cfg.zoom, shares, cfg.base,
                                              np.random.default_rng([cfg.seed, epoch])))
    run.log_line(f"{len(pool)} training images ({int(is_photo.sum())} photos), {len(data)} crops per epoch at "
                 f"{cfg.size} px, holes thin/medium/thick {cfg.mask_shares}, corrections of {cfg.base}")
    # 2. network: ImageNet encoder (or an earlier folder), optimiser with a slower encoder
    model = InpaintNet(size=cfg.run_size, width=cfg.width, tune_from=cfg.tune_from, base=cfg.base)
    if cfg.init_from and not cfg.resume:
        _initial_weights(model, cfg.init_from, run.log_line)
    else:
        model.load_imagenet_encoder()
    optimiser, schedule = model.optimiser(cfg.lr, cfg.steps)
    from ..models.effnet import load_efficientnet_lite0

    features = load_efficientnet_lite0().to(device).eval().requires_grad_(False)
    model, optimiser, schedule = run.prepare(model, optimiser, schedule)
    loader = run.loader(data)
    run.resume()
    # 3. the loop
    for filled, photos, holes in run.batches(data, loader):
        x, target = to_unit(filled, device), to_unit(photos, device)
        hole = holes.to(device).unsqueeze(1).float()
        out = model(x, hole)
        error = (out - target).abs() if cfg.loss == "l1" else (out - target) ** 2
        pixel = (error * hole).sum() / (3 * hole.sum()).clamp(min=1)
        feat = sum((a - b).abs().mean() for a, b in zip(features.feature_maps(out.clamp(-1, 1), FEATURE_BLOCKS),
                                                         features.feature_maps(target, FEATURE_BLOCKS)))
        loss = pixel + cfg.perceptual_weight * feat
        optimiser.zero_grad(set_to_none=True)
        run.accelerator.backward(loss)
        optimiser.step()
        schedule.step()
        if run.due():
            with torch.no_grad():
                gain = hole_psnr(out, target, hole) - hole_psnr(x, target, hole)
            run.log(loss=loss.item(), **{cfg.loss: pixel.item()}, feature=feat.item(), gain_db=gain.item(),
                    lr=schedule.get_last_lr()[0])
    # 4. the folder the app loads
    net = run.unwrap(model).eval()
    return write_trained(run, net, run.record(sources=[str(f) for f in files], init_from=cfg.init_from))
