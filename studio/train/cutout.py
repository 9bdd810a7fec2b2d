"""Train the learned cut-out (studio/models/cutout.py) on composites; write weights/cutout/.

    python -m studio data cutout-objects                        # the object banks, once (minutes)
    python -m studio train cutout --steps 3000 --max-minutes 100
    python -m studio train cutout --steps 3000 --max-minutes 100 --resume
    python -m studio train cutout --dry-run

The procedure:
- every epoch draws `epoch_images` fresh composites (studio/data/composites.py): a training object with its
  true alpha over a training background (photo crop, texture, plain, gradient or clutter), with shadows,
  colour jitter, blur, noise and JPEG artefacts; the held-out objects and backgrounds are never read here;
- objects are drawn by source, not by count (clip art is most of the bank but least like a product photo):
  renders 45%, icons 15%, clip art 40%;
- the loss is per-pixel binary cross-entropy against the alpha plus a soft-IoU (Dice) term, which weighs a
  small product as much as a large one; optionally (--boundary-weight) the cross-entropy weighs pixels near
  the true edge more, and --background-shares draws busy backgrounds more often than the defaults;
  --wallpapers adds the desktop-wallpaper packages' photos and artwork to the training backgrounds;
  --photo-fill gives some objects a photographed surface and --overscale makes some close-ups the frame cuts
  (studio/data/composites.py: compose);
- AdamW with a one-cycle schedule; the fine-tuned encoder blocks learn at a tenth of the decoder's rate;
  the shared Accelerate scaffold (resumable legs, prepared DataLoader).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..data.base import CatalogError
from ..data.composites import (WALLPAPER_PACKAGES, BackgroundPool, ObjectBank, background_shares, draw_composites,
                               wallpaper_files)
from ..models.cutout import CutoutNet
from .common import EpochData, Run, write_trained
from .configs import CutoutTrainConfig

CATALOGS = ("composites",)
KIND_SHARES = {"render": 0.45, "icon": 0.15, "clipart": 0.4}


def object_weights(kinds: list[str]) -> np.ndarray:
    """Sampling probability per object: each source gets its share, split evenly among its objects."""
    kinds_arr = np.array(kinds)
    weights = np.zeros(len(kinds), np.float64)
    present = [k for k in KIND_SHARES if (kinds_arr == k).any()]
    for k in present:
        chosen = kinds_arr == k
        weights[chosen] = KIND_SHARES[k] / chosen.sum()
    return weights / weights.sum()


def edge_band(alpha: torch.Tensor, radius: int) -> torch.Tensor:
    """1.0 on pixels within `radius` of the boundary of the alpha's opaque part (alpha >= 0.5), else 0.0."""
    inside = (alpha >= 0.5).float()
    k = 2 * radius + 1
    grown = F.max_pool2d(inside, k, stride=1, padding=radius)
    shrunk = -F.max_pool2d(-inside, k, stride=1, padding=radius)
    return grown - shrunk


def cutout_loss(logits: torch.Tensor, alpha: torch.Tensor, dice_weight: float, boundary_weight: float = 0.0,
                boundary_px: int = 3) -> tuple[torch.Tensor, dict]:
    """BCE against the (soft) alpha + dice_weight * (1 - soft Dice) per image, averaged. With a
    boundary_weight, pixels within boundary_px of the true edge count 1 + boundary_weight times in the BCE
    (a weighted mean, so its scale stays that of the plain BCE): the edge is where a matte is wrong."""
    if boundary_weight:
        weights = 1 + boundary_weight * edge_band(alpha, boundary_px)
        per_pixel = F.binary_cross_entropy_with_logits(logits, alpha, reduction="none")
        bce = (weights * per_pixel).sum() / weights.sum()
    else:
        bce = F.binary_cross_entropy_with_logits(logits, alpha)
    p = torch.sigmoid(logits)
    inter = (p * alpha).sum((1, 2, 3))
    dice = 1 - (2 * inter + 1) / (p.sum((1, 2, 3)) + alpha.sum((1, 2, 3)) + 1)
    return bce + dice_weight * dice.mean(), {"bce": bce.item(), "dice": dice.mean().item()}


def _initial_weights(model: CutoutNet, source: str, log) -> None:
    from ..checkpoints import open_network

    start = open_network(source, CutoutNet)
    if start.config.width != model.config.width:
        raise ValueError(f"{source} has decoder width {start.config.width}; this run has {model.config.width}")
    model.load_state_dict(start.state_dict())
    log(f"starting from the weights of {source}")


def train_cutout(cfg: CutoutTrainConfig, log=print) -> dict:
    run = Run(cfg, "cutout", log, catalogs=CATALOGS)
    device = run.device
    # 1. objects (memory-mapped) and backgrounds (in memory), training split only
    bank = ObjectBank.open("train", cfg.cache)
    if cfg.limit:
        bank = ObjectBank(bank.array[:cfg.limit], bank.kinds[:cfg.limit])
    bank.weights = object_weights(bank.kinds)
    pool = BackgroundPool("train", cfg.max_side, root=Path(cfg.root), limit=cfg.limit, wallpapers=cfg.wallpapers)
    if cfg.wallpapers and not wallpaper_files(Path(cfg.root)):
        raise CatalogError(f"--wallpapers: none is installed; `apt-get install {WALLPAPER_PACKAGES}`")
    shares = background_shares(cfg.background_shares)
    data = EpochData(lambda epoch: draw_composites(bank, pool, cfg.epoch_images, cfg.size, [cfg.seed, epoch],
                                                   shares=shares, photo_fill=cfg.photo_fill,
                                                   overscale=cfg.overscale))
    run.log_line(f"{len(bank)} training objects ({', '.join(f'{bank.kinds.count(k)} {k}' for k in KIND_SHARES)}), "
                 f"{len(pool)} backgrounds, {len(data)} composites per epoch at {cfg.size} px")
    # 2. network: ImageNet encoder (or an earlier folder), optimiser with a slower encoder
    model = CutoutNet(size=cfg.run_size, width=cfg.width, tune_from=cfg.tune_from)
    if cfg.init_from and not cfg.resume:
        _initial_weights(model, cfg.init_from, run.log_line)
    else:
        model.load_imagenet_encoder()
    optimiser, schedule = model.optimiser(cfg.lr, cfg.steps)
    model, optimiser, schedule = run.prepare(model, optimiser, schedule)
    loader = run.loader(data)
    run.resume()
    # 3. the loop
    for images, alphas in run.batches(data, loader):
        x = images.to(device).permute(0, 3, 1, 2).float() / 127.5 - 1
        target = alphas.to(device).unsqueeze(1).float() / 255
        logits = model(x)
        loss, parts = cutout_loss(logits, target, cfg.dice_weight, cfg.boundary_weight, cfg.boundary_px)
        optimiser.zero_grad(set_to_none=True)
        run.accelerator.backward(loss)
        optimiser.step()
        schedule.step()
        if run.due():
            with torch.no_grad():
                hard, truth = logits > 0, target >= 0.5
                iou = ((hard & truth).sum((1, 2, 3)) / (hard | truth).sum((1, 2, 3)).clamp(min=1)).mean()
            run.log(loss=loss.item(), iou=iou.item(), lr=schedule.get_last_lr()[0], **parts)
    # 4. the folder the app loads
    net = run.unwrap(model).eval()
    return write_trained(run, net, run.record(objects=len(bank), backgrounds=[str(f) for f in pool.files],
                                              init_from=cfg.init_from))
