"""Train the text-conditioned GAN; write weights/gan-<catalog>/.

    python -m studio train gan --catalog fashion --size 32 --width 24 --steps 3000 --out weights/gan-fashion
    python -m studio train gan --catalog fashion --dry-run           # a few steps on a few images, runs/ only

The procedure (the network code is in studio/models/gan.py):
- hinge loss; the discriminator sees real/matched (target real), fake/matched and real/mismatched pairs
  (target fake), a mismatch differing from the image's labels in at least one attribute (matching-aware
  D, Reed et al. 2016; DF-GAN's MA-GP idea without its gradient term);
- R1 penalty on real/matched pairs, applied lazily every `r1_every` steps (Mescheder et al. 2018; lazy
  regularisation from StyleGAN2);
- DiffAugment with translation and cutout only (Zhao et al., 2020): colour jitter would teach D to accept
  the wrong colour;
- conditioning augmentation with a KL term (StackGAN, Zhang et al. 2017); an EMA copy of G for sampling.
Built on the shared scaffold (studio/train/common.py): Accelerate, a prepared DataLoader, save_state /
--resume, diffusers' EMAModel.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..models.gan import Discriminator, Generator
from .bank import CaptionBank, render_epoch, to_unit
from .common import EpochData, Run, write_trained
from .configs import GANTrainConfig


def diff_augment(x: torch.Tensor, generator: torch.Generator, cutout: float = 0.5) -> torch.Tensor:
    """DiffAugment (Zhao et al. 2020), translation by up to 1/8 of the side and a cutout of `cutout` of the
    side only; differentiable. Colour jitter would teach D to accept the wrong colour."""
    b, _, h, w = x.shape
    shift = max(1, h // 8)
    padded = F.pad(x, (shift, shift, shift, shift), mode="replicate")
    dx, dy = torch.randint(0, 2 * shift + 1, (2, b), generator=generator).tolist()
    x = torch.stack([padded[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range(b)])
    cut = int(h * cutout)
    if cut < 1:
        return x
    cy, cx = torch.randint(0, h - cut + 1, (2, b), generator=generator).tolist()
    keep = torch.ones(b, 1, h, w, device=x.device)
    for i in range(b):
        keep[i, :, cy[i]:cy[i] + cut, cx[i]:cx[i] + cut] = 0
    return x * keep


def discriminator_step(run, D, opt_d, real, fake, texts, cfg, augment: torch.Generator, cutout: float = 0.5,
                       real_classes: torch.Tensor | None = None, aux_weight: float = 0.0):
    """One update of a matching-aware D (both GAN trainers): hinge loss on real/matched (target real),
    fake/matched and real/mismatched (target fake, shared by `cfg.mismatch_weight`), lazy R1 on real/matched
    every `cfg.r1_every` steps. texts: the (tokens, mask, pooled) of the positives, positives, mismatches.
    A D with an auxiliary head learns `real_classes` (B,) from the real images only (both real thirds),
    its cross-entropy weighted by `aux_weight`: the fakes' labels are what is being taught, not known.
    Returns (loss, d_real, d_fake, d_mis)."""
    b = len(real)
    r1 = run.step % cfg.r1_every == 0
    real_in = real.detach().requires_grad_(r1)
    inputs = torch.cat([diff_augment(real_in, augment, cutout), diff_augment(fake, augment, cutout),
                        diff_augment(real, augment, cutout)])
    logits, aux = D(inputs, *texts)
    d_real, d_fake, d_mis = logits.split(b)
    loss = F.relu(1 - d_real).mean() + (1 - cfg.mismatch_weight) * F.relu(1 + d_fake).mean() \
        + cfg.mismatch_weight * F.relu(1 + d_mis).mean()
    if aux is not None:
        if real_classes is None:
            raise ValueError("a discriminator with an auxiliary head needs the real images' classes")
        aux_real, aux_fake, aux_mis = aux.split(b)
        # the fake third enters at weight 0 so every parameter has a gradient (DistributedDataParallel)
        loss = loss + aux_weight * (F.cross_entropy(torch.cat([aux_real, aux_mis]), real_classes.repeat(2))
                                    + 0.0 * aux_fake.sum())
    if r1:
        grad, = torch.autograd.grad(d_real.sum(), real_in, create_graph=True)
        loss = loss + cfg.r1_gamma / 2 * grad.pow(2).sum(dim=(1, 2, 3)).mean() * cfg.r1_every
    opt_d.zero_grad(set_to_none=True)
    run.accelerator.backward(loss)
    opt_d.step()
    return loss, d_real, d_fake, d_mis


def prepare_adversarial(run, G, D, trained: list, cfg):
    """What both GAN trainers set up: an EMA of the generator's `trained` parameters (diffusers' EMAModel,
    checkpointed with the run), Adam for them and for D (TTUR-style betas as in DF-GAN), all prepared.
    Returns (G, D, opt_g, opt_d, ema)."""
    from diffusers.training_utils import EMAModel

    ema = EMAModel(trained, decay=cfg.ema_decay)
    opt_g = torch.optim.Adam(trained, lr=cfg.lr_g, betas=(0.0, 0.9))
    opt_d = torch.optim.Adam(D.parameters(), lr=cfg.lr_d, betas=(0.0, 0.9))
    G, D, opt_g, opt_d = run.prepare(G, D, opt_g, opt_d)
    ema.to(run.device)
    run.track(ema)
    return G, D, opt_g, opt_d, ema


def train_gan(cfg: GANTrainConfig, log=print) -> dict:
    from ..pipelines import GANPipeline
    from ..text import TextEncoder

    run = Run(cfg, "GAN", log)
    device = run.device
    # 1. text: every training caption encoded once (disk-cached, so later runs skip the encoder)
    bank = CaptionBank.for_catalog(cfg.catalog, cfg.phrasings, cfg.partial_share, cfg.seed,
                                   TextEncoder(cache_dir=cfg.text_cache), cfg.limit)
    data = EpochData(lambda epoch: render_epoch(cfg.catalog, cfg.size, epoch, cfg.limit, bank))
    run.log_line(f"caption bank: {len(bank.texts)} captions for {len(bank.combos)} label combinations; "
                 f"{len(data)} images per epoch")
    # 2. networks, optimisers (TTUR-style betas as in DF-GAN), EMA of G through diffusers' EMAModel
    G = Generator(size=cfg.size, width=cfg.width)
    D = Discriminator.matching(G)
    G, D, opt_g, opt_d, ema = prepare_adversarial(run, G, D, list(G.parameters()), cfg)
    loader = run.loader(data)
    run.resume(planned_steps_fixed=False)          # constant learning rates: a leg may extend the run
    generator = run.unwrap(G)                     # unwrapped once: its config, EMA and the folder read it
    z_dim, cond_dim = generator.config.z_dim, generator.config.cond_dim
    # 3. the loop: every pass goes through the wrapped networks' forward
    for images, combos in run.batches(data, loader):
        rng, augment = run.rng(), run.torch_rng()
        real = to_unit(images, device)
        combos = combos.numpy()
        b = len(real)
        pos_ids, mis_ids = bank.positives(combos, rng), bank.mismatches(combos, rng)
        pos = bank.batch(pos_ids, device)
        z = torch.randn(b, z_dim, generator=augment).to(device)
        noise = torch.randn(b, cond_dim, generator=augment).to(device)
        # 3a. discriminator: real/matched, fake/matched and real/mismatched in one forward
        with torch.no_grad():
            fake = G(z, *pos, cond_noise=noise)[0]
        texts = bank.batch(np.concatenate([pos_ids, pos_ids, mis_ids]), device)
        loss_d, d_real, d_fake, d_mis = discriminator_step(run, D, opt_d, real, fake, texts, cfg, augment)
        # 3b. generator
        fake, mu, logvar = G(z, *pos, cond_noise=noise)
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1).mean()
        loss_g = -D(diff_augment(fake, augment), *pos)[0].mean() + cfg.kl_weight * kl
        opt_g.zero_grad(set_to_none=True)
        run.accelerator.backward(loss_g)
        opt_g.step()
        # 3c. EMA; its decay warms up as (1 + t) / (10 + t), so short runs do not average in the random init
        ema.step(generator.parameters())
        if run.due():
            run.log(loss_d=loss_d.item(), loss_g=loss_g.item(), kl=kl.item(), d_real=d_real.mean().item(),
                    d_fake=d_fake.mean().item(), d_mis=d_mis.mean().item())
    # 4. write what the studio loads: the EMA generator
    G_ema = copy.deepcopy(generator).eval()
    ema.copy_to(G_ema.parameters())
    if run.is_main:
        save_sample_grid(G_ema, bank, run.runs / f"samples-{run.step:06d}.png", device)
    return write_trained(run, G_ema, run.record(), GANPipeline, log=log)


@torch.inference_mode()
def save_sample_grid(G: Generator, bank: CaptionBank, path: Path, device, per_row: int = 8) -> None:
    """One row per fixed label combination, 8 noise draws each."""
    from PIL import Image

    from ..images import to_pil

    picks = np.linspace(0, len(bank.combos) - 1, 8).astype(int)
    ids = np.repeat([bank.by_combo[c][0] for c in picks], per_row)
    z = torch.randn(len(ids), G.config.z_dim, generator=torch.Generator().manual_seed(0)).to(device)
    images = to_pil(G(z, *bank.batch(ids, device))[0])
    s = G.config.size
    grid = Image.new("RGB", (per_row * s, len(picks) * s))
    for k, im in enumerate(images):
        grid.paste(im, ((k % per_row) * s, (k // per_row) * s))
    grid.resize((grid.width * 2, grid.height * 2), Image.Resampling.NEAREST).save(path)
