"""Train the text-conditioned VAE; write weights/vae-<catalog>/.

    python -m studio train vae --catalog fashion --size 32 --width 32 --steps 6000 --out weights/vae-fashion
    python -m studio train vae --catalog fashion --dry-run            # a few steps on a few images, runs/ only

The procedure (the network is studio/models/vae.py):
- loss = Gaussian NLL of the image under the decoder with a learned sigma (sigma-VAE, Rybkin et al. 2021)
  + beta * KL(q(z | x, text) || p(z | text)), the prior learned with the rest;
- KL warm-up: beta ramps from 0 to 1 over the first `warmup` share of the steps (Bowman et al. 2016);
- free bits: each latent dimension's batch-mean KL counts as at least `free_bits` nats (Kingma et al.
  2016), so the posterior does not collapse onto the prior early on;
- masked-input training: a `masked_share` of each batch has a LaMa-style thin, medium or thick hole
  blanked (with the mask as a 4th channel) while the target stays the whole image, so the encoder learns
  to infer what is missing and repair is one encode -> decode pass;
- cross-view training (the multi-view catalog): for a `cross_view_share` of each batch the encoder sees
  another view of the same product while the text and the target are this view, so the latent holds the
  product and the text the view; "other angles" decodes one latent under each view's text. The VAE also
  embeds the view the caption names (off with `--text-only-views`), as MiniLM's states
  alone barely separate the view phrases;
- then, with the VAE frozen, `fit_prior` fits p(z | text) as a Gaussian mixture to the posteriors of the
  training images (fresh captions every step) and rewrites the folder with it: sampling draws from it.
The data, caption banks and colourways are shared with the GAN trainer (studio/train/bank.py); the loop runs on
the shared scaffold (studio/train/common.py: Accelerate, a prepared DataLoader, save_state / --resume).
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import torch

from ..data.views import LABELS as VIEW_LABELS
from ..models.vae import ConditionalVAE, diagonal_normal_log_prob
from .bank import CaptionBank, hole_batch, masked_training_set, render_epoch, to_unit
from .common import Run, save_pipeline, write_trained
from .configs import PriorFitConfig, VAETrainConfig


def _initial_weights(model: ConditionalVAE, source: str, log) -> None:
    """Start from a VAE folder's weights (the second-stage prior is not carried: it is refitted)."""
    from ..checkpoints import open_network

    if not Path(source).is_dir():
        raise FileNotFoundError(f"no VAE folder at {source} to start from")
    state = open_network(source, ConditionalVAE, subfolder="vae").state_dict()
    state = {k: v for k, v in state.items() if not k.startswith("mixture.")}
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except RuntimeError as exc:
        raise ValueError(f"{source} does not match this run's VAE shape (size, width, z): {exc}") from None
    # a view embedding may be new (it starts at zero, so the start is the source's text condition)
    missing = [k for k in missing if not k.startswith("view_embedding.")]
    if missing or unexpected:
        raise ValueError(f"{source} does not match this run's VAE (missing {missing}, unexpected {unexpected})")
    log(f"starting from the weights of {source}")


def gaussian_kl(mu_q, logvar_q, mu_p, logvar_p) -> torch.Tensor:
    """KL(N(mu_q, var_q) || N(mu_p, var_p)) per dimension, (B, z)."""
    return 0.5 * (logvar_p - logvar_q + (logvar_q.exp() + (mu_q - mu_p).pow(2)) / logvar_p.exp() - 1)


def vae_loss(model, log_sigma: torch.Tensor, image, hole, tokens, mask, pooled, beta: float, free_bits: float,
             source: torch.Tensor | None = None, view: torch.Tensor | None = None) -> tuple[torch.Tensor, dict]:
    """`model`: the VAE as prepared (its forward is the training pass); `log_sigma`: its learned decoder
    noise level (a parameter of the unwrapped network). `source`: what the encoder sees when it is not
    `image` itself (another view of the same product: the text and the target are `image`'s); `view`: the
    view each text names, for a VAE with a view embedding."""
    recon, (mu_q, logvar_q), (mu_p, logvar_p) = model(image if source is None else source, hole, tokens, mask,
                                                      pooled, view)
    log_sigma = log_sigma.clamp(min=math.log(0.01))
    pixels = image[0].numel()
    squared = (recon - image).pow(2).flatten(1).sum(1)                            # (B,)
    nll = (squared / (2 * torch.exp(2 * log_sigma)) + pixels * log_sigma).mean()  # + constant
    kl_dims = gaussian_kl(mu_q, logvar_q, mu_p, logvar_p).mean(0)                 # (z,)
    kl = torch.clamp(kl_dims, min=free_bits).sum()
    loss = (nll + beta * kl) / pixels
    return loss, {"mse": (squared / pixels).mean().item() / 4, "kl": kl_dims.sum().item(),
                  "sigma": log_sigma.exp().item()}


def train_vae(cfg: VAETrainConfig, log=print) -> dict:
    from ..pipelines import VAEPipeline

    run = Run(cfg, "VAE", log)
    device = run.device
    # 1. text, masks and data, prepared once (the same on every process)
    bank, pool, data = masked_training_set(cfg, run.log_line)
    # 2. network, optimiser with a one-cycle schedule (Accelerate steps it once per process per step)
    views = len(VIEW_LABELS) if cfg.catalog == "furniture-views" and not cfg.text_only_views else 0
    model = ConditionalVAE(size=cfg.size, width=cfg.width, z_dim=cfg.z_dim, views=views)
    if cfg.init_from and not cfg.resume:
        _initial_weights(model, cfg.init_from, run.log_line)
    optimiser = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=cfg.lr, pct_start=0.05,
                                                   total_steps=cfg.steps * run.accelerator.num_processes)
    model, optimiser, schedule = run.prepare(model, optimiser, schedule)
    net = run.unwrap(model)
    loader = run.loader(data)
    run.resume()
    # 3. the loop
    for images, combos, *others in run.batches(data, loader):
        rng = run.rng()
        real = to_unit(images, device)
        ids = bank.positives(combos.numpy(), rng)
        texts = bank.batch(ids, device)
        view = bank.views(ids, device) if views else None
        hole = hole_batch(pool, len(real), cfg.masked_share, rng, rest=0.0).to(device)
        source = None
        if others:              # cross-view: for a share of the rows the encoder sees another view
            crossed = torch.from_numpy(rng.random(len(real)) < cfg.cross_view_share).to(device)
            source = torch.where(crossed[:, None, None, None], to_unit(others[0], device), real)
        beta = min(1.0, run.step / max(1, cfg.warmup * cfg.steps))
        loss, parts = vae_loss(model, net.log_sigma, real, hole, *texts, beta=beta, free_bits=cfg.free_bits,
                               source=source, view=view)
        optimiser.zero_grad(set_to_none=True)
        run.accelerator.backward(loss)
        run.accelerator.clip_grad_norm_(model.parameters(), 5.0)
        optimiser.step()
        schedule.step()
        if run.due():
            run.log(loss=loss.item(), beta=beta, **parts)
    # 4. write what the studio loads; when the run is complete, fit the mixture prior to it
    metrics = write_trained(run, net.eval(), run.record(), VAEPipeline, log=log)
    if cfg.prior_components and not run.out_of_time:
        if run.is_main:
            metrics["prior"] = fit_prior(cfg.out, PriorFitConfig(components=cfg.prior_components,
                                                                 steps=cfg.prior_steps, seed=cfg.seed,
                                                                 limit=cfg.limit, phrasings=cfg.prior_phrasings),
                                         device=str(device), text_cache=cfg.text_cache, log=log)
        run.accelerator.wait_for_everyone()
    return metrics


def fit_prior(folder: str | Path, cfg: PriorFitConfig = PriorFitConfig(), device: str | None = None,
              text_cache: str | None = "runs/text-cache", log=print) -> dict:
    """Encode one colourway draw of the training set with the VAE in `folder` (frozen), fit the mixture
    prior to the posteriors with fresh captions every step, and rewrite the folder with it. Returns the
    fit's metrics (also kept in the training record, under "prior"): held-out negative log-likelihood per
    latent dimension under the mixture and under the jointly learned Gaussian prior."""
    import dataclasses

    from ..checkpoints import open_network
    from ..pipelines import VAEPipeline
    from ..text import TextEncoder

    started = time.time()
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    folder = Path(folder)
    vae = open_network(folder, ConditionalVAE, device, subfolder="vae")
    config = vae.config
    catalog, record = config.catalog or "fashion", dict(config.training or {})
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    bank = CaptionBank.for_catalog(catalog, cfg.phrasings, record.get("train", {}).get("partial_share", 0.15),
                                   cfg.seed, TextEncoder(device=device, cache_dir=text_cache), cfg.limit)
    # 1. posteriors q(z | x, caption) of the training images, each with one of its captions
    images, combos = render_epoch(catalog, config.size, 0, cfg.limit, bank)
    images = torch.from_numpy(images)
    mus, logvars = [], []
    with torch.inference_mode():
        for i in range(0, len(images), 512):
            x = to_unit(images[i:i + 512], device)
            ids = bank.positives(combos[i:i + 512], rng)
            cond = vae.condition(*bank.batch(ids, device), bank.views(ids, device))
            mu, logvar = vae.encode(x, torch.zeros(len(x), 1, config.size, config.size, device=device), cond)
            mus.append(mu)
            logvars.append(logvar)
    mu_q, logvar_q = torch.cat(mus), torch.cat(logvars)
    order = rng.permutation(len(mu_q))
    n_held = max(1, int(cfg.held_out * len(order))) if len(order) > 1 else 0
    held, fit = order[:n_held], order[n_held:]
    log(f"encoded {len(mu_q):,} training images ({time.time() - started:.0f} s); fitting a "
        f"{cfg.components}-component prior on {len(fit):,}")
    # 2. the mixture, trained alone
    arguments = {k: v for k, v in config.items() if not k.startswith("_")}
    model = ConditionalVAE(**{**arguments, "prior_components": cfg.components, "prior_hidden": cfg.hidden}).to(device)
    kept = {k: v for k, v in vae.state_dict().items() if not k.startswith("mixture.")}
    missing, unexpected = model.load_state_dict(kept, strict=False)
    if unexpected or any(not k.startswith("mixture.") for k in missing):
        raise RuntimeError(f"{folder}: weights do not match the VAE config ({unexpected or missing})")
    model.requires_grad_(False).mixture.requires_grad_(True)
    optimiser = torch.optim.Adam(model.mixture.parameters(), lr=cfg.lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, cfg.steps)

    # the text side is frozen: every caption's condition is computed once
    with torch.inference_mode():
        conds = torch.cat([model.condition(*bank.batch(ids, device), bank.views(ids, device))
                           for ids in np.array_split(np.arange(len(bank.texts)), max(1, -(-len(bank.texts) // 1024)))])
    conds, pooled_all = conds.clone(), bank.pooled.float().to(device)

    def nll(ids: np.ndarray, prior: str) -> torch.Tensor:
        """Mean -log p(z | caption) per latent dimension, z drawn from the posteriors of `ids`."""
        z = mu_q[ids] + torch.randn(len(ids), config.z_dim, device=device) * (0.5 * logvar_q[ids]).exp()
        caption_ids = torch.from_numpy(bank.positives(combos[ids], rng)).to(device)
        cond, pooled = conds[caption_ids], pooled_all[caption_ids]
        if prior == "mixture":
            return -model.mixture.log_prob(z, cond, pooled).mean() / config.z_dim
        mu_p, logvar_p = model.prior(cond)
        return -diagonal_normal_log_prob(z, mu_p, logvar_p).mean() / config.z_dim

    for step in range(1, cfg.steps + 1):
        loss = nll(fit[rng.integers(len(fit), size=min(cfg.batch_size, len(fit)))], "mixture")
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        schedule.step()
        if step % 500 == 0 or step == cfg.steps:
            log(json.dumps({"prior_step": step, "nll_per_dim": round(loss.item(), 4),
                            "seconds": round(time.time() - started, 1)}))
    model.eval()
    with torch.no_grad():
        held_nll = {p: round(float(np.mean([nll(held[i:i + 1024], p).item() for i in range(0, len(held), 1024)])), 4)
                    for p in ("mixture", "gaussian")} if len(held) else {}
    metrics = {"fit": dataclasses.asdict(cfg), "held_out_images": int(len(held)),
               "held_out_nll_per_dim": held_nll, "seconds": round(time.time() - started, 1)}
    model.register_to_config(training={**record, "prior": metrics})
    save_pipeline(VAEPipeline(model), folder)
    log(f"wrote {folder} with a {cfg.components}-component prior: held-out NLL per dimension "
        f"{held_nll.get('mixture')} (the joint Gaussian prior: {held_nll.get('gaussian')}), "
        f"{metrics['seconds'] / 60:.1f} min")
    return metrics


