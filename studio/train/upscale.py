"""Train the upscaler (studio/models/upscaler.py) on the installed photos; write weights/upscaler-x<scale>/.

    python -m studio train upscaler --scale 2 --steps 6000 --max-minutes 40
    python -m studio train upscaler --scale 4 --width 32 --blocks 6 --steps 6000 --out weights/upscaler-x4
    python -m studio train upscaler --scale 2 --dry-run
    python -m studio train upscaler --catalog furniture-views --patch 32 --init-from weights/upscaler-x2 \
        --out runs/upscaler-views        # the second stage of a 32 px generator of the multi-view catalog

The procedure (degrade, then learn to restore; SRCNN/ESPCN/EDSR's recipe):
- every epoch draws `epoch_patches` high-resolution crops of (patch x scale) pixels from the training split
  of studio/data/photos.py, `photo_share` of them from the real photos and the rest from art, graphics and
  textures in proportion to their area; each is flipped and turned at random;
- its low-resolution input is the crop reduced by PIL's bicubic filter (antialiased), the degradation
  `eval upscale` measures against;
- L1 loss (EDSR: sharper than L2 at the same PSNR), Adam with a one-cycle schedule, on the shared Accelerate
  scaffold (resumable legs, prepared DataLoader). The held-out photos are never read here;
- the perceptual flavour (`--flavour perceptual --init-from weights/upscaler-x4`) adds SRGAN's two terms
  (Ledig et al. 2017) at light weights: an L1 between EfficientNet-Lite0 feature maps of the result and the
  target (early blocks: edges and texture; the only ImageNet network here) and the hinge loss of a patch
  critic trained alongside. It trades some PSNR for texture, measured by fd_effnet.

`--catalog furniture-views` learns the step from a generator's size to the next instead: every epoch draws
`epoch_patches` training renders (whole images, training items only) on backgrounds re-drawn for the epoch;
the input is the catalog's own image at `patch` px (the render reduced as the generator's training images
were), the target the same render at `patch x scale` (64 or 128 px). No flips or turns: the renders are lit
from one side and stand on the ground. A pipeline holds the result as its `upscaler` (pipelines.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ..data.photos import NATURE, training_pool
from ..models.upscaler import PatchCritic, Upscaler
from .bank import to_unit
from .common import EpochData, Run, write_trained
from .configs import UpscalerTrainConfig

CATALOGS = ("photos", "furniture-views")
RENDER_SEED = 7919                        # spaces the epochs' background draws apart from the generators' seeds


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


def photo_pool(cfg) -> tuple[list[Path], list[np.ndarray], np.ndarray, np.ndarray]:
    """The training images once, for trainers on the photos (`cfg`: max_side, root, limit, photo_share):
    (files, uint8 arrays, which are real photos, sampling weight per image)."""
    found = training_pool(cfg.max_side, Path(cfg.root), limit=cfg.limit)
    files, pool = [f for f, _ in found], [a for _, a in found]
    is_photo = np.array([f.parent.as_posix().endswith(NATURE) for f in files])
    return files, pool, is_photo, _weights(pool, is_photo, cfg.photo_share)


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


def render_pairs(cfg, epoch: int) -> tuple[np.ndarray, np.ndarray]:
    """furniture-views: `epoch_patches` (low (n, patch, patch, 3), high (n, patch*scale, ..., 3)) uint8 pairs,
    one training render (item and view) each at both sizes on the same background, drawn for `epoch`."""
    from ..data import open_catalog

    seed = RENDER_SEED * (cfg.seed + 1) + epoch
    low_catalog = open_catalog("furniture-views", split="train", size=cfg.patch, seed=seed)
    high_catalog = open_catalog("furniture-views", split="train", size=cfg.patch * cfg.scale, seed=seed)
    n = len(low_catalog) if cfg.limit is None else min(cfg.limit, len(low_catalog))
    picks = np.random.default_rng([cfg.seed, epoch]).choice(n, size=cfg.epoch_patches, replace=n < cfg.epoch_patches)
    low = np.stack([np.asarray(low_catalog.image(int(i))) for i in picks])
    high = np.stack([np.asarray(high_catalog.image(int(i))) for i in picks])
    return low, high


def _initial_weights(model: Upscaler, source: str, log) -> None:
    from ..edits.upscale import open_upscaler

    start = open_upscaler(source)
    c, own = start.config, model.config
    if (c.scale, c.width, c.blocks) != (own.scale, own.width, own.blocks):
        raise ValueError(f"{source} is an x{c.scale} upscaler of width {c.width} with {c.blocks} blocks; this run "
                         f"is x{own.scale}, width {own.width}, {own.blocks} blocks: pass the same --scale, --width "
                         f"and --blocks")
    model.load_state_dict(start.state_dict())
    log(f"starting from the weights of {source}")


def train_upscaler(cfg: UpscalerTrainConfig, log=print) -> dict:
    run = Run(cfg, "upscaler", log, catalogs=CATALOGS)
    device = run.device
    # 1. the training images, once; patches re-drawn every epoch (the same on every process)
    if cfg.catalog == "furniture-views":
        files = []
        data = EpochData(lambda epoch: render_pairs(cfg, epoch))
        run.log_line(f"{len(data)} training renders per epoch, {cfg.patch} -> {cfg.patch * cfg.scale} px")
    else:
        files, pool, is_photo, weights = photo_pool(cfg)
        data = EpochData(lambda epoch: draw_patches(pool, weights, cfg.epoch_patches, cfg.patch, cfg.scale,
                                                    np.random.default_rng([cfg.seed, epoch])))
        run.log_line(f"{len(pool)} training images ({int(is_photo.sum())} photos), {len(data)} patches per epoch, "
                     f"{cfg.patch} -> {cfg.patch * cfg.scale} px")
    # 2. network (from an earlier folder's weights when asked), optimiser, one-cycle schedule
    model = Upscaler(scale=cfg.scale, width=cfg.width, blocks=cfg.blocks, flavour=cfg.flavour)
    if cfg.init_from and not cfg.resume:
        _initial_weights(model, cfg.init_from, run.log_line)
    optimiser = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=cfg.lr, total_steps=max(1, cfg.steps),
                                                   pct_start=0.05)
    perceptual = cfg.flavour == "perceptual"
    if perceptual:
        from ..models.effnet import load_efficientnet_lite0

        features = load_efficientnet_lite0().to(device).requires_grad_(False)
        critic = PatchCritic()
        opt_c = torch.optim.Adam(critic.parameters(), lr=cfg.lr, betas=(0.0, 0.9))
        model, optimiser, schedule, critic, opt_c = run.prepare(model, optimiser, schedule, critic, opt_c)
    else:
        model, optimiser, schedule = run.prepare(model, optimiser, schedule)
    loader = run.loader(data)
    run.resume()
    # 3. the loop
    for low, high in run.batches(data, loader):
        x, target = to_unit(low, device), to_unit(high, device)
        out = model(x)
        l1 = (out - target).abs().mean()
        loss, extra = l1, {}
        if perceptual:
            # 3a. the critic: real patches vs the current results (hinge)
            real_logit, fake_logit = critic(torch.cat([target, out.detach()])).chunk(2)
            loss_c = F.relu(1 - real_logit).mean() + F.relu(1 + fake_logit).mean()
            opt_c.zero_grad(set_to_none=True)
            run.accelerator.backward(loss_c)
            opt_c.step()
            # 3b. the upscaler: L1 + feature L1 + the critic's opinion
            blocks = (0, 2, 4)
            feat = sum((a - b).abs().mean() for a, b in zip(features.feature_maps(out.clamp(-1, 1), blocks),
                                                             features.feature_maps(target, blocks)))
            adv = -critic(out).mean()
            loss = l1 + cfg.perceptual_weight * feat + cfg.adv_weight * adv
            extra = {"feature": feat.item(), "adv": adv.item(), "critic": loss_c.item()}
        optimiser.zero_grad(set_to_none=True)
        run.accelerator.backward(loss)
        optimiser.step()
        schedule.step()
        if run.due():
            run.log(l1=l1.item(), lr=schedule.get_last_lr()[0], **extra)
    # 4. the folder the app loads
    net = run.unwrap(model).eval()
    return write_trained(run, net, run.record(sources=[str(f) for f in files], init_from=cfg.init_from))
