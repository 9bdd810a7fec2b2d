"""Train the VAE-GAN: a shipped VAE's decoder fine-tuned adversarially; write weights/gan-<catalog>/.

    python -m studio train vaegan --catalog fashion --init-from weights/vae-fashion --max-minutes 110
    python -m studio train vaegan --catalog fashion --dry-run

Why this recipe (issue 15): from scratch, a text-conditioned GAN needs tens of millions of images shown;
two CPU cores show ~0.3 M in two hours, and the from-scratch runs stayed near chance on the judge. A VAE
already knows what the text asks for but decodes blurred means. VAE-GAN (Larsen et al., ICML 2016) keeps
its encoder, text condition and mixture prior frozen and teaches the decoder, with a discriminator, to
make sharp images from the prior's draws. One forward pass still makes an image: z ~ p(z | text), decode.

The procedure:
- the generator's input is the VAE's own: z drawn from its fitted mixture prior p(z | text) for a caption
  of the batch's images, the text condition of that caption;
- the discriminator (studio/models/gan.py: spectral norm, a projection head on the text condition) sees
  real/matched (target real), fake/matched and real/mismatched pairs (target fake), the mismatch differing
  in at least one attribute, so it judges faithfulness as well as realism; hinge loss; lazy R1;
- DiffAugment with translation and a cutout of a quarter of the side only (a half-side cutout hides most
  of a small garment; colour jitter would teach D to accept the wrong colour);
- the adversarial weight ramps up from zero over `ramp` steps, and an L1 anchor keeps the decoder's
  reconstruction of real images from their posterior means, on a low-pass copy (average-pooled by
  `anchor_pool`): colours and shapes stay what the VAE knew, and fine detail is the discriminator's to teach
  (a full-resolution anchor pulls the decoder back towards the VAE's blurred means);
- optionally (`background_weight`) an L1 of each fake's border ring against the median colour of the real
  image's ring whose caption it was given: a furniture render leaves only thin strips of backdrop, which
  the low-pass anchor weighs little against the item, and the fake's backdrop drifts from the one named;
- optionally (`aux_weight`) an auxiliary backdrop classifier on D's features (AC-GAN, Odena et al. 2017):
  it learns the backdrop of real images, and the decoder is asked to make fakes it reads as the backdrop
  their caption names (captions that name none are left out). The judge reads the whole backdrop; the
  realness logit barely weighs it, and the ring term above sees only the border;
- an EMA of the decoder (decay near 0.98 for a short fine-tune) is what the folder holds.
The folder is a VAEGANPipeline: the ConditionalVAE with the new decoder, so "more like this", blends and
repair work as they do with the VAE.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..data.vocab import BACKGROUNDS
from ..models.gan import Discriminator
from ..models.vae import ConditionalVAE
from .bank import CaptionBank, render_epoch, to_unit
from .common import EpochData, Run, write_trained
from .configs import VAEGANTrainConfig
from .gan import diff_augment, discriminator_step, prepare_adversarial

DECODER = ("from_latent.", "up.", "to_rgb.")     # the parameters this trainer changes


class DecoderGenerator(nn.Module):
    """The VAE seen as a generator, for training: the prior's draw for each caption decoded (the fake) and
    each real image's posterior mean decoded (the anchor), in one forward so a DistributedDataParallel
    wrapper sees every pass. Only the decoder has gradients."""

    def __init__(self, vae: ConditionalVAE):
        super().__init__()
        self.vae = vae
        vae.requires_grad_(False)
        for name, p in vae.named_parameters():
            p.requires_grad_(name.startswith(DECODER))

    def forward(self, real, tokens, mask, pooled, eps, picks: torch.Generator, view=None):
        """real (K <= B, 3, S, S), the first K images of the batch, or None (fakes only); tokens, mask,
        pooled: the B captions (view: the view each names, for a VAE with a view embedding); eps (B, z)
        standard normal -> (B fakes, K reconstructions or None)."""
        vae = self.vae
        b = len(eps)
        with torch.no_grad():
            cond = vae.condition(tokens, mask, pooled, view)
            z = vae.sample_latent(cond, pooled, eps, picks)
            if real is not None:
                hole = torch.zeros(len(real), 1, *real.shape[2:], device=real.device)
                z = torch.cat([z, vae.encode(real, hole, cond[:len(real)])[0]])
                cond = torch.cat([cond, cond[:len(real)]])
        images = vae.decode(z, cond)
        return (images, None) if real is None else (images[:b], images[b:])


def border(images: torch.Tensor, width: int = 2) -> torch.Tensor:
    """(B, C, S, S) -> (B, C, P): the pixels of the outer ring `width` wide."""
    s = images.shape[-1]
    ring = torch.ones(s, s, dtype=torch.bool, device=images.device)
    ring[width:s - width, width:s - width] = False
    return images[..., ring]


def backdrop_loss(fake: torch.Tensor, real: torch.Tensor, width: int = 2) -> torch.Tensor:
    """Mean L1 of each fake's ring against the median colour of the matching real image's ring: the
    backdrop, where the product leaves most of the frame's edge clear (the median ignores the rest)."""
    target = border(real, width).median(dim=-1).values.detach()
    return (border(fake, width) - target[..., None]).abs().mean()


def _start(source: str) -> ConditionalVAE:
    from pathlib import Path

    from ..checkpoints import open_network

    if not (Path(source) / "vae" / "config.json").is_file():
        raise FileNotFoundError(f"no VAE folder at {source} to fine-tune: train one with `python -m studio "
                                f"train vae`, or pass --init-from")
    vae = open_network(source, ConditionalVAE, subfolder="vae").float()
    if vae.mixture is None:
        raise ValueError(f"{source} has no fitted mixture prior to draw from: fit it first (`train vae` fits one "
                         f"when its run completes)")
    return vae


def train_vaegan(cfg: VAEGANTrainConfig, log=print) -> dict:
    from ..pipelines import VAEGANPipeline
    from ..text import TextEncoder

    run = Run(cfg, "VAE-GAN", log)
    device = run.device
    vae = _start(cfg.init_from)
    base = dict(vae.config.training or {})             # the VAE's own record (its training, its prior)
    if vae.config.size != cfg.size or (vae.config.catalog or cfg.catalog) != cfg.catalog:
        raise ValueError(f"{cfg.init_from} is a {vae.config.size} px {vae.config.catalog} VAE; this run is "
                         f"{cfg.size} px {cfg.catalog}: pass the matching --size and --catalog")
    # 1. text and data, as the VAE was trained
    bank = CaptionBank.for_catalog(cfg.catalog, cfg.phrasings, cfg.partial_share, cfg.seed,
                                   TextEncoder(cache_dir=cfg.text_cache), cfg.limit)
    data = EpochData(lambda epoch: render_epoch(cfg.catalog, cfg.size, epoch, cfg.limit, bank))
    run.log_line(f"fine-tuning the decoder of {cfg.init_from}; caption bank: {len(bank.texts)} captions; "
                 f"{len(data)} images per epoch")
    # 2. networks: the VAE as a generator (decoder trainable), a discriminator sized for it
    c = vae.config
    G = DecoderGenerator(vae).to(memory_format=torch.channels_last)
    D = Discriminator(size=c.size, width=cfg.d_width, text_dim=c.text_dim, text_queries=c.text_queries,
                      text_heads=c.text_heads, text_width=c.text_width,
                      aux_classes=len(BACKGROUNDS) if cfg.aux_weight > 0 else 0,
                      ).to(memory_format=torch.channels_last)
    G, D, opt_g, opt_d, ema = prepare_adversarial(run, G, D, [p for p in G.parameters() if p.requires_grad], cfg)
    loader = run.loader(data)
    run.resume(planned_steps_fixed=False)          # constant learning rates: a leg may extend the run
    net = run.unwrap(G)
    z_dim = c.z_dim
    # 3. the loop
    for images, combos in run.batches(data, loader):
        rng, augment = run.rng(), run.torch_rng()
        real = to_unit(images, device).contiguous(memory_format=torch.channels_last)
        combos = combos.numpy()
        b = len(real)
        pos_ids, mis_ids = bank.positives(combos, rng), bank.mismatches(combos, rng)
        pos = bank.batch(pos_ids, device)
        view = bank.views(pos_ids, device)
        eps = torch.randn(b, z_dim, generator=augment).to(device)
        picks = torch.Generator().manual_seed(int(rng.integers(2**62)))
        # 3a. discriminator: real/matched, fake/matched, real/mismatched in one forward
        with torch.no_grad():
            fake = G(None, *pos, eps, picks, view)[0]
        texts = bank.batch(np.concatenate([pos_ids, pos_ids, mis_ids]), device)
        real_bg = torch.from_numpy(bank.combo_background[combos]).to(device)       # what each real image shows
        loss_d, d_real, d_fake, d_mis = discriminator_step(run, D, opt_d, real, fake, texts, cfg, augment,
                                                           cfg.cutout, real_bg, cfg.aux_weight)
        # 3b. generator (the decoder): adversarial, ramped up, plus the reconstruction anchor
        picks = torch.Generator().manual_seed(int(rng.integers(2**62)))
        k = max(1, int(round(cfg.anchor_share * b)))                  # the anchor decodes only k of them
        fake, recon = G(real[:k], *pos, eps, picks, view)
        logit, aux = D(diff_augment(fake, augment, cfg.cutout), *pos)
        adv = -logit.mean()
        # on a low-pass copy: colours and shapes stay the VAE's, fine detail is left to the discriminator
        anchor = (F.avg_pool2d(recon, cfg.anchor_pool) - F.avg_pool2d(real[:k], cfg.anchor_pool)).abs().mean()
        ramp = min(1.0, run.step / max(1, cfg.ramp))
        loss_g = cfg.adv_weight * ramp * adv + cfg.rec_weight * anchor
        backdrop = backdrop_loss(fake, real) if cfg.background_weight > 0 else None
        if backdrop is not None:
            loss_g = loss_g + cfg.background_weight * backdrop
        aux_g = None
        if aux is not None:
            asked, named = (torch.from_numpy(a).to(device) for a in bank.backgrounds(pos_ids))
            per_row = F.cross_entropy(aux, asked, reduction="none")
            aux_g = (per_row * named).sum() / named.sum().clamp(min=1)
            loss_g = loss_g + cfg.aux_weight * ramp * aux_g
        opt_g.zero_grad(set_to_none=True)
        run.accelerator.backward(loss_g)
        opt_g.step()
        ema.step([p for p in net.parameters() if p.requires_grad])
        if run.due():
            extra = {} if backdrop is None else {"backdrop": backdrop.item()}
            if aux_g is not None:
                extra["aux_bg"] = aux_g.item()
            run.log(loss_d=loss_d.item(), adv=adv.item(), anchor=anchor.item(), ramp=ramp, **extra,
                    d_real=d_real.mean().item(), d_fake=d_fake.mean().item(), d_mis=d_mis.mean().item())
    # 4. the folder: the VAE with the EMA decoder
    out = copy.deepcopy(net.vae).eval()
    ema.copy_to([p for p in out.parameters() if p.requires_grad])
    out = out.to(memory_format=torch.contiguous_format).requires_grad_(False)
    return write_trained(run, out, run.record(init_from=cfg.init_from, vae=base), VAEGANPipeline, log=log)
