"""Train the live style network's decoder (studio/models/stylenet.py); write weights/style-live/.

    python -m studio train stylenet --steps 3000 --max-minutes 90
    python -m studio train stylenet --dry-run

The procedure (AdaIN's, Huang & Belongie 2017, with EfficientNet-Lite0 as the fixed encoder):
- every epoch draws `epoch_pairs` (content, style) crops of `patch` px: content from the training photos and
  artwork of studio/data/photos.py, style from the same pool at a random scale (textures at several sizes);
  the held-out photos and `eval style`'s held-out references are never read;
- the content's maps after blocks 0, 2, 4 get the style's moments (AdaIN) and the decoder draws them;
- losses, each normalised by its target's scale so the weights read alike: content (the result's block-4
  maps against the moved ones), style (the result's per-channel mean and spread at blocks 0, 2, 4, 7 against
  the style's), SWAG Gram matrices at the same blocks (the texture statistics the quality method matches;
  `eval style` measures at blocks 1, 3, 5), and a reconstruction term: with the content's own maps the
  decoder must give back the photo (pixel L1), which keeps edges and makes strength 0 the identity;
- Adam with a one-cycle schedule on the shared Accelerate scaffold (resumable legs, prepared DataLoader).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..data.photos import load_photo, photo_files, picture, style_references, style_validation
from ..edits.neural_style import gram, swag
from ..models.stylenet import BLOCKS, StyleDecoder, adain, moments
from .bank import to_unit
from .common import EpochData, Run, write_trained
from .configs import StyleNetTrainConfig

CATALOGS = ("photos",)
STYLE_AT = (0, 2, 4, 7)            # blocks whose moments and SWAG Gram matrices the result must match
CONTENT_AT = 4                     # block whose moved maps the result must keep


def training_images(root: Path, max_side: int, limit: int | None = None, hold_val: bool = False
                    ) -> tuple[list[Path], list[np.ndarray]]:
    """The training photos and artwork, without `eval style`'s held-out references (in any of their sizes);
    with `hold_val`, without its validation photos and references too."""
    held_out = {picture(p) for p in style_references(root=root)[1]}
    if hold_val:
        photos, refs = style_validation(root=root)
        held_out |= {picture(p) for p in photos + refs}
    files = [p for p in photo_files("train", root) if picture(p) not in held_out][:limit]
    images = [np.asarray(load_photo(p, max_side)) for p in files]
    keep = [i for i, a in enumerate(images) if min(a.shape[:2]) >= 64]
    return [files[i] for i in keep], [images[i] for i in keep]


def _crop(image: np.ndarray, side: int, rng: np.random.Generator, zoom: float = 1.0) -> np.ndarray:
    """A random side x side crop (after reducing the image by `zoom` <= 1), flipped at random."""
    from PIL import Image

    if zoom < 1 or min(image.shape[:2]) < side:
        factor = max(zoom, side / min(image.shape[:2]))
        size = (max(side, round(image.shape[1] * factor)), max(side, round(image.shape[0] * factor)))
        image = np.asarray(Image.fromarray(image).resize(size, Image.Resampling.BICUBIC))
    y, x = rng.integers(image.shape[0] - side + 1), rng.integers(image.shape[1] - side + 1)
    crop = image[y:y + side, x:x + side]
    return crop[:, ::-1] if rng.random() < 0.5 else crop


def draw_pairs(pool: list[np.ndarray], n: int, side: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n (content, style) uint8 crop pairs; the style at a random zoom from 1/3 to 1."""
    contents = np.stack([_crop(pool[k], side, rng) for k in rng.integers(len(pool), size=n)])
    styles = np.stack([_crop(pool[k], side, rng, zoom=float(rng.uniform(1 / 3, 1)))
                       for k in rng.integers(len(pool), size=n)])
    return np.ascontiguousarray(contents), np.ascontiguousarray(styles)


def style_losses(encoder, out: torch.Tensor, style_maps: list[torch.Tensor], target: torch.Tensor
                 ) -> dict[str, torch.Tensor]:
    """The content, moment and SWAG-Gram losses of `out` (each normalised by its target's scale)."""
    maps = encoder.feature_maps(out, STYLE_AT)
    content = F.mse_loss(maps[STYLE_AT.index(CONTENT_AT)], target) / (target.var() + 1e-5)
    moment, texture = 0.0, 0.0
    for m, s in zip(maps, style_maps):
        (mu_o, sd_o), (mu_s, sd_s) = moments(m), moments(s)
        moment = moment + (F.mse_loss(mu_o, mu_s) + F.mse_loss(sd_o, sd_s)) / (sd_s.pow(2).mean() + 1e-5)
        g_s = gram(swag(s))
        texture = texture + F.mse_loss(gram(swag(m)), g_s) / (g_s.pow(2).mean() + 1e-5)
    return {"content": content, "moment": moment / len(STYLE_AT), "texture": texture / len(STYLE_AT)}


def train_stylenet(cfg: StyleNetTrainConfig, log=print) -> dict:
    from ..models.effnet import load_efficientnet_lite0

    run = Run(cfg, "stylenet", log, catalogs=CATALOGS)
    device = run.device
    files, pool = training_images(Path(cfg.root), cfg.max_side, cfg.limit, cfg.hold_val)
    data = EpochData(lambda epoch: draw_pairs(pool, cfg.epoch_pairs, cfg.patch,
                                              np.random.default_rng([cfg.seed, epoch])))
    run.log_line(f"{len(pool)} training images, {len(data)} content/style pairs per epoch at {cfg.patch} px")
    encoder = load_efficientnet_lite0().to(device).requires_grad_(False)
    model = StyleDecoder(width=cfg.width, depth=cfg.depth)
    optimiser = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=cfg.lr, total_steps=max(1, cfg.steps),
                                                   pct_start=0.05)
    model, optimiser, schedule = run.prepare(model, optimiser, schedule)
    loader = run.loader(data)
    run.resume()
    for content, style in run.batches(data, loader):
        c, s = to_unit(content, device), to_unit(style, device)
        with torch.no_grad():
            own = encoder.feature_maps(c, BLOCKS)
            style_maps = encoder.feature_maps(s, STYLE_AT)
            moved = [adain(m, *moments(t)) for m, t in zip(own, [style_maps[STYLE_AT.index(b)] for b in BLOCKS])]
        out = model(moved)
        parts = style_losses(encoder, out, style_maps, moved[BLOCKS.index(CONTENT_AT)])
        parts["recon"] = (model(own) - c).abs().mean()
        loss = (cfg.content_weight * parts["content"] + cfg.moment_weight * parts["moment"]
                + cfg.texture_weight * parts["texture"] + cfg.recon_weight * parts["recon"])
        optimiser.zero_grad(set_to_none=True)
        run.accelerator.backward(loss)
        optimiser.step()
        schedule.step()
        if run.due():
            run.log(loss=loss.item(), lr=schedule.get_last_lr()[0], **{k: float(v.detach()) for k, v in parts.items()})
    net = run.unwrap(model).eval()
    return write_trained(run, net, run.record(sources=[str(f) for f in files]))
