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
Built on Hugging Face Accelerate: the same loop runs on CPU, one GPU or several.
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..models.gan import Discriminator, GANConfig, Generator
from .bank import CaptionBank, render_epoch
from .common import start_run, write_trained


@dataclass(frozen=True)
class GANTrainConfig:
    catalog: str = "fashion"
    size: int = 32
    width: int = 24
    steps: int = 3000
    batch_size: int = 64
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    r1_gamma: float = 1.0
    r1_every: int = 4
    mismatch_weight: float = 0.5
    kl_weight: float = 1.0
    ema_decay: float = 0.999
    phrasings: int = 6             # captions per label combination in the caption bank
    partial_share: float = 0.15    # captions that leave out the colour or the background
    seed: int = 0
    limit: int | None = None       # training images (smoke runs)
    max_minutes: float | None = None  # stop early (and still write the weights) after this wall time
    log_every: int = 50
    eval_every: int = 500
    out: str = "weights/gan-fashion"
    runs: str = "runs/gan-fashion"
    text_cache: str = "runs/text-cache"


def diff_augment(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """DiffAugment, translation (1/8 of the side) and cutout (half the side) only; differentiable."""
    b, _, h, w = x.shape
    shift = max(1, h // 8)
    padded = F.pad(x, (shift, shift, shift, shift), mode="replicate")
    dx, dy = torch.randint(0, 2 * shift + 1, (2, b), generator=generator).tolist()
    x = torch.stack([padded[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range(b)])
    cut = h // 2
    cy, cx = torch.randint(0, h - cut + 1, (2, b), generator=generator).tolist()
    keep = torch.ones(b, 1, h, w, device=x.device)
    for i in range(b):
        keep[i, :, cy[i]:cy[i] + cut, cx[i]:cx[i] + cut] = 0
    return x * keep


def train_gan(cfg: GANTrainConfig, log=print) -> dict:
    from ..text import TextEncoder

    started, rng, accelerator, runs = start_run(cfg, "GAN")
    augment_rng = torch.Generator().manual_seed(cfg.seed)
    device = accelerator.device
    # 1. text: every training caption encoded once (disk-cached, so later runs skip the encoder)
    bank = CaptionBank.for_catalog(cfg.catalog, cfg.phrasings, cfg.partial_share, cfg.seed,
                                   TextEncoder(cache_dir=cfg.text_cache), cfg.limit)
    log(f"caption bank: {len(bank.texts)} captions for {len(bank.combos)} label combinations "
        f"({time.time() - started:.0f} s)")
    # 2. networks, optimisers (TTUR-style betas as in DF-GAN), EMA
    config = GANConfig(size=cfg.size, width=cfg.width)
    G, D = Generator(config), Discriminator(config)
    G_ema = copy.deepcopy(G).eval().requires_grad_(False)
    opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr_g, betas=(0.0, 0.9))
    opt_d = torch.optim.Adam(D.parameters(), lr=cfg.lr_d, betas=(0.0, 0.9))
    G, D, opt_g, opt_d = accelerator.prepare(G, D, opt_g, opt_d)
    G_ema.to(device)
    # 3. the loop
    epoch, images, combos, cursor = 0, *render_epoch(cfg.catalog, cfg.size, 0, cfg.limit, bank), 0
    history = []
    last_step = cfg.steps
    for step in range(1, cfg.steps + 1):
        if cursor + cfg.batch_size > len(images):
            epoch += 1
            images, combos = render_epoch(cfg.catalog, cfg.size, epoch, cfg.limit, bank)
            cursor = 0
        real = images[cursor:cursor + cfg.batch_size].to(device)
        batch_combos = combos[cursor:cursor + cfg.batch_size]
        cursor += cfg.batch_size
        b = len(real)
        pos = bank.batch(bank.positives(batch_combos, rng), device)
        mis = bank.batch(bank.mismatches(batch_combos, rng), device)
        z = torch.randn(b, config.z_dim, device=device)
        # 3a. discriminator
        with torch.no_grad():
            mu, logvar = G.condition(*pos)
            fake = G.synthesize(z, mu + torch.randn_like(mu) * (0.5 * logvar).exp())
        r1 = step % cfg.r1_every == 0
        real_in = real.detach().requires_grad_(r1)
        d_real = D(diff_augment(real_in, augment_rng), *pos)
        d_fake = D(diff_augment(fake, augment_rng), *pos)
        d_mis = D(diff_augment(real, augment_rng), *mis)
        loss_d = F.relu(1 - d_real).mean() + (1 - cfg.mismatch_weight) * F.relu(1 + d_fake).mean() \
            + cfg.mismatch_weight * F.relu(1 + d_mis).mean()
        if r1:
            grad, = torch.autograd.grad(d_real.sum(), real_in, create_graph=True)
            loss_d = loss_d + cfg.r1_gamma / 2 * grad.pow(2).sum(dim=(1, 2, 3)).mean() * cfg.r1_every
        opt_d.zero_grad(set_to_none=True)
        accelerator.backward(loss_d)
        opt_d.step()
        # 3b. generator
        mu, logvar = G.condition(*pos)
        fake = G.synthesize(z, mu + torch.randn_like(mu) * (0.5 * logvar).exp())
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1).mean()
        loss_g = -D(diff_augment(fake, augment_rng), *pos).mean() + cfg.kl_weight * kl
        opt_g.zero_grad(set_to_none=True)
        accelerator.backward(loss_g)
        opt_g.step()
        # 3c. EMA of G's weights; the decay ramps up so short runs do not average in the random init
        decay = min(cfg.ema_decay, (1 + step) / (10 + step))
        with torch.no_grad():
            for p_ema, p in zip(G_ema.parameters(), accelerator.unwrap_model(G).parameters()):
                p_ema.lerp_(p, 1 - decay)
            for b_ema, b_ in zip(G_ema.buffers(), accelerator.unwrap_model(G).buffers()):
                b_ema.copy_(b_)
        if step % cfg.log_every == 0 or step == cfg.steps:
            entry = {"step": step, "epoch": epoch, "loss_d": round(loss_d.item(), 4), "loss_g": round(loss_g.item(), 4),
                     "kl": round(kl.item(), 4), "d_real": round(d_real.mean().item(), 3),
                     "d_fake": round(d_fake.mean().item(), 3), "d_mis": round(d_mis.mean().item(), 3),
                     "seconds": round(time.time() - started, 1)}
            history.append(entry)
            log(json.dumps(entry))
        out_of_time = cfg.max_minutes is not None and time.time() - started > 60 * cfg.max_minutes
        if step % cfg.eval_every == 0 or step == cfg.steps or out_of_time:
            save_sample_grid(G_ema, bank, runs / f"samples-{step:06d}.png", device)
            torch.save({"G": accelerator.unwrap_model(G).state_dict(), "D": accelerator.unwrap_model(D).state_dict(),
                        "G_ema": G_ema.state_dict(), "opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict(),
                        "step": step, "config": asdict(cfg)}, runs / "state.pt")
        if out_of_time:
            last_step = step
            log(f"time budget of {cfg.max_minutes} min reached at step {step}")
            break
    # 4. write what the studio loads: the EMA generator
    return write_trained(G_ema, config, cfg, "gan", last_step, epoch, started, history, log)


@torch.inference_mode()
def save_sample_grid(G: Generator, bank: CaptionBank, path: Path, device, per_row: int = 8) -> None:
    """One row per fixed label combination, 8 noise draws each."""
    from PIL import Image

    from ..images import to_pil

    picks = np.linspace(0, len(bank.combos) - 1, 8).astype(int)
    ids = np.repeat([bank.by_combo[c][0] for c in picks], per_row)
    z = torch.randn(len(ids), G.config.z_dim, generator=torch.Generator().manual_seed(0)).to(device)
    images = to_pil(G(z, *bank.batch(ids, device)))
    s = G.config.size
    grid = Image.new("RGB", (per_row * s, len(picks) * s))
    for k, im in enumerate(images):
        grid.paste(im, ((k % per_row) * s, (k // per_row) * s))
    grid.resize((grid.width * 2, grid.height * 2), Image.Resampling.NEAREST).save(path)


def finish_gan(folder: str | Path, per_prompt: int = 10, swap_pairs_n: int = 50, baselines: dict | None = None,
               log=print) -> dict:
    """Evaluate a written GAN folder with the harness and write its model card (README.md).

    baselines: optional {"retrieval": result, "real": ...} rows from earlier `eval generate` runs.
    """
    from ..checkpoints import read_config
    from ..eval.generate import GeneratorSampler, evaluate_generation
    from ..eval.judge import Judge, default_evaluator
    from ..eval.prompts import FASHION_VISIBLE, load_prompts
    from ..eval.swap import swap_pairs, swap_test

    folder = Path(folder)
    raw = read_config(folder)
    judge = Judge(default_evaluator(raw.get("catalog", "fashion")))
    sampler = GeneratorSampler(folder)
    specs = load_prompts(FASHION_VISIBLE)
    result = evaluate_generation(sampler, specs, per_prompt, 0, judge, log=log)
    swap = swap_test(sampler, judge, swap_pairs(swap_pairs_n), per_prompt=4)
    (folder / "eval.json").write_text(json.dumps({"generate": result, "swap": swap}, indent=2) + "\n")
    (folder / "README.md").write_text(gan_card(folder.name, raw, result, swap, baselines or {}))
    return {"generate": result, "swap": swap}


def gan_card(name: str, raw: dict, result: dict, swap: dict, baselines: dict) -> str:
    from ..eval.generate import markdown_table, style_table

    t = raw["training"]
    cfg = raw["config"]
    return f"""# {name}

A text-conditioned GAN in the DF-GAN family ({cfg['size']} px, width {cfg['width']}): MiniLM token states ->
attention-pooled text condition -> conditioning augmentation -> FiLM-fused up-blocks; trained against a
spectral-norm projection discriminator on real/matched, fake/matched and real/mismatched pairs (hinge loss,
lazy R1, DiffAugment translation + cutout, EMA generator). Code: `studio/models/gan.py`,
`studio/train/gan.py`.

## Data
Fashion-MNIST (Xiao, Rasul & Vollgraf, 2017), © Zalando SE, MIT licence, from Debian's
`dataset-fashion-mnist`: the 55,000-image train split, recoloured into 14 named colours on 6 backgrounds
(visible pairs only) with colourways re-drawn every epoch; captions from 15 templates with 4-6 words per
label ({t['train']['phrasings']} phrasings per label combination, {int(100 * t['train']['partial_share'])}% leaving out the
colour or the background). all-MiniLM-L6-v2 (Apache-2.0) encodes the text and is not trained.

## Training
- {t['steps']:,} steps x batch {t['batch_size']} ({t['epochs_seen']} full passes over the data), Adam
  (lr {t['train']['lr_g']}, betas 0/0.9), seed {t['train']['seed']}
- hardware: {t['hardware']}; wall time {t['seconds'] / 60:.1f} min
- command: `python -m studio train gan --catalog fashion --size {cfg['size']} --width {cfg['width']} --steps {t['train']['steps']}`
  {f"(stopped by its time budget of {t['train']['max_minutes']} min, before the {t['train']['steps']:,} steps asked)" if t['steps'] < t['train']['steps'] else ''}

## Evaluation (`python -m studio eval generate --model weights/{name} --prompts fashion-visible --per-prompt {result['per_prompt']}`)

Judge: `weights/evaluator-fashion` (90.9% category accuracy on real test images). Reference: real test
images in each prompt's colourway. {result['n_images']:,} images per row; {result['seconds']:.0f} s.

{markdown_table(result, baselines)}

Accuracy by phrasing (free = wordings the caption templates never use):

{style_table(result)}

Swap test (`python -m studio eval swap --model weights/{name}`): {100 * swap['swap_accuracy']:.1f}% of samples
show the product colour and the background their prompt asked for ({swap['pairs']} pairs such as
"{swap['examples'][0][0]}" / "{swap['examples'][0][1]}", both orders, {swap['per_prompt']} samples each).
"""
