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
- then, with the VAE frozen, `fit_prior` fits p(z | text) as a Gaussian mixture to the posteriors of the
  training images (fresh captions every step) and rewrites the folder with it: sampling draws from it.
The data, caption banks and colourways are shared with the GAN trainer (studio/train/bank.py). Accelerate runs the same
loop on CPU, one GPU or several.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from ..eval.masks import MASK_RECIPES, random_mask
from ..models.vae import ConditionalVAE, VAEConfig, diagonal_normal_log_prob
from .bank import CaptionBank, render_epoch
from .common import start_run, write_trained


@dataclass(frozen=True)
class VAETrainConfig:
    catalog: str = "fashion"
    size: int = 32
    width: int = 32
    z_dim: int = 128
    steps: int = 6000
    batch_size: int = 64
    lr: float = 1e-3
    warmup: float = 0.2            # share of the steps over which the KL weight ramps 0 -> 1
    free_bits: float = 0.05        # nats per latent dimension
    masked_share: float = 0.5      # of each batch trained with a blanked hole
    mask_pool: int = 4000          # masks drawn once and reused
    phrasings: int = 6
    partial_share: float = 0.15
    seed: int = 0
    limit: int | None = None
    max_minutes: float | None = None
    log_every: int = 50
    eval_every: int = 1000
    out: str = "weights/vae-fashion"
    runs: str = "runs/vae-fashion"
    text_cache: str = "runs/text-cache"
    prior_components: int = 32     # the second stage (fit_prior); 0 skips it
    prior_steps: int = 3000
    prior_phrasings: int = 24
    resume: str | None = None      # a VAE folder (or a runs/ state.pt) whose weights this run starts from


def _resume(model: ConditionalVAE, source: str, log) -> None:
    """Start from earlier weights (the second-stage prior is not carried: it is refitted at the end)."""
    path = Path(source)
    if path.is_dir():
        from safetensors.torch import load_file

        state = load_file(str(path / "model.safetensors"))
    elif path.is_file():
        state = torch.load(path, map_location="cpu", weights_only=True)["model"]
    else:
        raise FileNotFoundError(f"nothing to resume from at {source}: give a VAE folder or a state.pt")
    state = {k: v for k, v in state.items() if not k.startswith("mixture.")}
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ValueError(f"{source} does not match this run's VAE shape (size, width, z): {exc}") from None
    log(f"resumed from {source}")


def gaussian_kl(mu_q, logvar_q, mu_p, logvar_p) -> torch.Tensor:
    """KL(N(mu_q, var_q) || N(mu_p, var_p)) per dimension, (B, z)."""
    return 0.5 * (logvar_p - logvar_q + (logvar_q.exp() + (mu_q - mu_p).pow(2)) / logvar_p.exp() - 1)


def vae_loss(model: ConditionalVAE, image, hole, tokens, mask, pooled, beta: float, free_bits: float
             ) -> tuple[torch.Tensor, dict]:
    recon, (mu_q, logvar_q), (mu_p, logvar_p) = model(image, hole, tokens, mask, pooled)
    log_sigma = model.log_sigma.clamp(min=math.log(0.01))
    pixels = image[0].numel()
    squared = (recon - image).pow(2).flatten(1).sum(1)                            # (B,)
    nll = (squared / (2 * torch.exp(2 * log_sigma)) + pixels * log_sigma).mean()  # + constant
    kl_dims = gaussian_kl(mu_q, logvar_q, mu_p, logvar_p).mean(0)                 # (z,)
    kl = torch.clamp(kl_dims, min=free_bits).sum()
    loss = (nll + beta * kl) / pixels
    return loss, {"mse": (squared / pixels).mean().item() / 4, "kl": kl_dims.sum().item(),
                  "sigma": log_sigma.exp().item()}


def _holes(pool: np.ndarray, n: int, share: float, rng: np.random.Generator) -> torch.Tensor:
    holes = np.zeros((n, 1, pool.shape[1], pool.shape[2]), np.float32)
    masked = rng.random(n) < share
    holes[masked, 0] = pool[rng.integers(len(pool), size=int(masked.sum()))]
    return torch.from_numpy(holes)


def train_vae(cfg: VAETrainConfig, log=print) -> dict:
    from ..text import TextEncoder

    started, rng, accelerator, runs = start_run(cfg, "VAE")
    device = accelerator.device
    # 1. text and masks, prepared once
    bank = CaptionBank.for_catalog(cfg.catalog, cfg.phrasings, cfg.partial_share, cfg.seed,
                                   TextEncoder(cache_dir=cfg.text_cache), cfg.limit)
    kinds = list(MASK_RECIPES)
    pool = np.stack([random_mask(kinds[i % len(kinds)], cfg.size, rng) for i in range(cfg.mask_pool)])
    log(f"caption bank: {len(bank.texts)} captions; {len(pool)} masks ({time.time() - started:.0f} s)")
    # 2. network, optimiser with a cosine schedule
    config = VAEConfig(size=cfg.size, width=cfg.width, z_dim=cfg.z_dim)
    model = ConditionalVAE(config)
    if cfg.resume:
        _resume(model, cfg.resume, log)
    optimiser = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=cfg.lr, total_steps=cfg.steps, pct_start=0.05)
    model, optimiser = accelerator.prepare(model, optimiser)
    # 3. the loop
    epoch, images, combos, cursor = 0, *render_epoch(cfg.catalog, cfg.size, 0, cfg.limit, bank), 0
    history, last_step = [], cfg.steps
    for step in range(1, cfg.steps + 1):
        if cursor + cfg.batch_size > len(images):
            epoch += 1
            images, combos = render_epoch(cfg.catalog, cfg.size, epoch, cfg.limit, bank)
            cursor = 0
        real = images[cursor:cursor + cfg.batch_size].to(device)
        texts = bank.batch(bank.positives(combos[cursor:cursor + cfg.batch_size], rng), device)
        cursor += cfg.batch_size
        hole = _holes(pool, len(real), cfg.masked_share, rng).to(device)
        beta = min(1.0, step / max(1, cfg.warmup * cfg.steps))
        loss, parts = vae_loss(model, real, hole, *texts, beta=beta, free_bits=cfg.free_bits)
        optimiser.zero_grad(set_to_none=True)
        accelerator.backward(loss)
        accelerator.clip_grad_norm_(model.parameters(), 5.0)
        optimiser.step()
        schedule.step()
        if step % cfg.log_every == 0 or step == cfg.steps:
            entry = {"step": step, "epoch": epoch, "loss": round(loss.item(), 5), "beta": round(beta, 3),
                     **{k: round(v, 5) for k, v in parts.items()}, "seconds": round(time.time() - started, 1)}
            history.append(entry)
            log(json.dumps(entry))
        out_of_time = cfg.max_minutes is not None and time.time() - started > 60 * cfg.max_minutes
        if step % cfg.eval_every == 0 or step == cfg.steps or out_of_time:
            torch.save({"model": accelerator.unwrap_model(model).state_dict(), "optimiser": optimiser.state_dict(),
                        "step": step, "config": asdict(cfg)}, runs / "state.pt")
        if out_of_time:
            last_step = step
            log(f"time budget of {cfg.max_minutes} min reached at step {step}")
            break
    # 4. write what the studio loads, then fit the mixture prior to it
    metrics = write_trained(accelerator.unwrap_model(model).eval(), config, cfg, "vae", last_step, epoch, started,
                            history, log)
    if cfg.prior_components:
        metrics["prior"] = fit_prior(cfg.out, PriorFitConfig(components=cfg.prior_components, steps=cfg.prior_steps,
                                                             seed=cfg.seed, limit=cfg.limit,
                                                             phrasings=cfg.prior_phrasings),
                                     device=str(device), text_cache=cfg.text_cache, log=log)
    return metrics


@dataclass(frozen=True)
class PriorFitConfig:
    """The second stage: p(z | text) as a Gaussian mixture fitted to the frozen VAE's posteriors."""
    components: int = 32
    hidden: int = 512
    steps: int = 3000
    batch_size: int = 512
    lr: float = 1e-3
    phrasings: int = 24            # more wordings per combination than the VAE saw: this stage is cheap
    held_out: float = 0.05         # share of the encoded images kept out of the fit, for the NLL report
    seed: int = 0
    limit: int | None = None       # dry runs: only the first `limit` training images


def fit_prior(folder: str | Path, cfg: PriorFitConfig = PriorFitConfig(), device: str | None = None,
              text_cache: str | None = "runs/text-cache", log=print) -> dict:
    """Encode one colourway draw of the training set with the VAE in `folder` (frozen), fit the mixture
    prior to the posteriors with fresh captions every step, and rewrite the folder with it. Returns the
    fit's metrics (also stored in config.json under "prior"): held-out negative log-likelihood per latent
    dimension under the mixture and under the jointly learned Gaussian prior."""
    import dataclasses

    from ..checkpoints import load_pretrained, save_pretrained
    from ..text import TextEncoder

    started = time.time()
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    folder = Path(folder)
    vae, config, raw = load_pretrained(folder, device)
    if raw.get("kind") != "vae":
        raise ValueError(f"{folder} holds a {raw.get('kind')!r}, not a VAE")
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    train = raw.get("training", {}).get("train", {})
    bank = CaptionBank.for_catalog(raw["catalog"], cfg.phrasings, train.get("partial_share", 0.15), cfg.seed,
                                   TextEncoder(device=device, cache_dir=text_cache), cfg.limit)
    # 1. posteriors q(z | x, caption) of the training images, each with one of its captions
    images, combos = render_epoch(raw["catalog"], config.size, 0, cfg.limit, bank)
    mus, logvars = [], []
    with torch.inference_mode():
        for i in range(0, len(images), 512):
            x = images[i:i + 512].to(device)
            cond = vae.condition(*bank.batch(bank.positives(combos[i:i + 512], rng), device))
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
    new_config = dataclasses.replace(config, prior_components=cfg.components, prior_hidden=cfg.hidden)
    model = ConditionalVAE(new_config).to(device)
    kept = {k: v for k, v in vae.state_dict().items() if not k.startswith("mixture.")}
    missing, unexpected = model.load_state_dict(kept, strict=False)
    if unexpected or any(not k.startswith("mixture.") for k in missing):
        raise RuntimeError(f"{folder}: weights do not match the VAE config ({unexpected or missing})")
    model.requires_grad_(False).mixture.requires_grad_(True)
    optimiser = torch.optim.Adam(model.mixture.parameters(), lr=cfg.lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, cfg.steps)

    # the text side is frozen: every caption's condition is computed once
    with torch.inference_mode():
        conds = torch.cat([model.condition(*bank.batch(np.arange(i, min(i + 1024, len(bank.texts))), device))
                           for i in range(0, len(bank.texts), 1024)])
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
    extra = {k: v for k, v in raw.items() if k not in ("kind", "config")}
    save_pretrained(model, new_config, folder, kind="vae", extra={**extra, "prior": metrics})
    log(f"wrote {folder} with a {cfg.components}-component prior: held-out NLL per dimension "
        f"{held_nll.get('mixture')} (the joint Gaussian prior: {held_nll.get('gaussian')}), "
        f"{metrics['seconds'] / 60:.1f} min")
    return metrics


def finish_vae(folder: str | Path, per_prompt: int = 10, swap_pairs_n: int = 50, repair_n: int = 500,
               compare: dict | None = None, log=print) -> dict:
    """Evaluate a written VAE folder with the harness (generation on the catalog's prompt suite, the swap
    test for fashion, repair against Telea and Navier-Stokes in the same run) and write its model card
    (README.md); the full results go to runs/<name>-eval.json.

    compare: label -> earlier `eval generate` results shown as rows next to this model's (the GAN, the
    retrieval baseline).
    """
    from ..checkpoints import read_config
    from ..edits.repair import CLASSICAL
    from ..eval.generate import GeneratorSampler, evaluate_generation
    from ..eval.judge import Judge, default_evaluator
    from ..eval.prompts import FASHION_VISIBLE, FURNITURE_TEST, load_prompts
    from ..eval.repair import evaluate_repair
    from ..eval.swap import swap_pairs, swap_test

    folder = Path(folder)
    raw = read_config(folder)
    catalog = raw.get("catalog", "fashion")
    judge = Judge(default_evaluator(catalog))
    sampler = GeneratorSampler(folder)
    suite = FASHION_VISIBLE if catalog == "fashion" else FURNITURE_TEST
    result = evaluate_generation(sampler, load_prompts(suite), per_prompt, 0, judge, catalog=catalog, log=log)
    result["suite"] = suite.name
    # the swap test needs product colours: fashion only
    swap = swap_test(sampler, judge, swap_pairs(swap_pairs_n), per_prompt=4) if catalog == "fashion" else None
    name = f"vae:{folder.name}"
    methods = CLASSICAL.with_model(name, folder)
    repair = [evaluate_repair(method, catalog=catalog, n=repair_n, size=sampler.size, methods=methods)
              for method in (name, "telea", "ns")]
    repair[0]["method"] = folder.name
    # the full numbers go to runs/ (a weights folder holds config, weights and card only)
    Path("runs").mkdir(exist_ok=True)
    (Path("runs") / f"{folder.name}-eval.json").write_text(
        json.dumps({"generate": result, "swap": swap, "repair": repair}, indent=2) + "\n")
    raw["judge_accuracy"] = judge.metrics.get("test_accuracy")
    (folder / "README.md").write_text(vae_card(folder.name, raw, result, swap, repair, compare or {}))
    return {"generate": result, "swap": swap, "repair": repair}


DATA_NOTES = {
    "fashion": """Fashion-MNIST (Xiao, Rasul & Vollgraf, 2017), (c) Zalando SE, MIT licence, from Debian's
`dataset-fashion-mnist`: the 55,000-image train split recoloured into 14 named colours on 6 backgrounds
(colourways re-drawn every epoch), captions from 15 templates ({phrasings} phrasings per label combination).""",
    "furniture": """Sweet Home 3D furniture icons from Debian's `sweethome3d-furniture` (five libraries; Blend
Swap CC-0 items are CC0, the others CC-BY 3.0: creators are listed in the package and credited per item by
`studio data`), the train split (about 740 items, one in ten held out by a hash of its id) composited on the
6 named backgrounds (a background drawn per item per pass), captions from the item's name, Sweet Home 3D
category and tags ({phrasings} phrasings per item and background).""",
}


def vae_card(name: str, raw: dict, result: dict, swap: dict | None, repair: list[dict], compare: dict,
             notes: str = "") -> str:
    """The model card. `notes`: a closing section written by hand (diagnosis, limits), appended as is."""
    from ..eval.generate import markdown_table, style_table
    from ..eval.repair import markdown_table as repair_table

    t, cfg, catalog = raw["training"], raw["config"], raw.get("catalog", "fashion")
    ours, telea, ns = (r["masks"] for r in repair)
    def gain(kind):
        return ours[kind]["psnr_hole"] - max(telea[kind]["psnr_hole"], ns[kind]["psnr_hole"])

    gains = "\n".join(f"| {kind} | {ours[kind]['psnr_hole']:.2f} | {telea[kind]['psnr_hole']:.2f} | "
                      f"{ns[kind]['psnr_hole']:.2f} | {gain(kind):+.2f} |" for kind in ours)
    stopped = (f" (stopped by its time budget of {t['train']['max_minutes']} min, before the "
               f"{t['train']['steps']:,} steps asked)") if t["steps"] < t["train"]["steps"] else ""
    resume = t["train"].get("resume")
    command = (f"python -m studio train vae --catalog {catalog} --size {cfg['size']} --width {cfg['width']} "
               f"--steps {t['train']['steps']}")
    if resume:
        command += (f" --resume {resume} --phrasings {t['train']['phrasings']} --lr {t['train']['lr']} "
                    f"--warmup {t['train']['warmup']}")
    command_lines = f"- command: `{command}`" + (
        f"\n- these steps continue an earlier run: they start from the weights `{resume}` held then (that "
        f"run's card is in the repository's history)" if resume else "")
    prior = raw.get("prior")
    if prior:
        fit, nll = prior["fit"], prior["held_out_nll_per_dim"]
        prior_text = f"""Sampling draws from a second-stage prior: p(z | text) as a mixture of {fit['components']} Gaussians
(a mixture density network reading the text condition and MiniLM's pooled vector), fitted in
{prior['seconds'] / 60:.1f} min ({fit['steps']:,} steps, batch {fit['batch_size']}, {fit['phrasings']} phrasings per
label combination) to the posteriors of the training images with the VAE frozen
(`python -m studio train vae-prior --model weights/{name}`). Negative log-likelihood per latent dimension of
posterior draws of {prior['held_out_images']:,} held-out training images: **{nll['mixture']:.3f}** under the
mixture, {nll['gaussian']:.3f} under the jointly learned Gaussian prior."""
    else:
        prior_text = "Sampling draws from the jointly learned Gaussian prior p(z | text)."
    swap_text = (f"""Swap test (`python -m studio eval swap --model weights/{name}`): {100 * swap['swap_accuracy']:.1f}% of samples
show the product colour and the background their prompt asked for ({swap['pairs']} pairs, both orders,
{swap['per_prompt']} samples each).""" if swap else
                 "No swap test: it swaps product colours, which furniture captions do not name.")
    suite = result.get("suite", "fashion-visible.jsonl")
    bar = "\n" + bar_table(result, swap, gain) if catalog == "fashion" else ""
    notes = f"\n{notes.strip()}\n" if notes.strip() else ""
    judge_acc = ", ".join(f"{100 * v:.1f}% {k}" for k, v in
                          (raw.get("judge_accuracy") or {}).items()) or "see its model card"
    return f"""# {name}

A text-conditioned VAE ({cfg['size']} px, width {cfg['width']}, {cfg['z_dim']}-d latent): the GAN's text
condition (attention pooling over MiniLM token states) drives FiLM in both encoder and decoder; a learned
Gaussian prior p(z | text) is trained with the rest; the decoder likelihood is Gaussian with a learned sigma
(sigma-VAE); KL warm-up over {int(100 * t['train']['warmup'])}% of the steps and {t['train']['free_bits']}
free nats per dimension; {int(100 * t['train']['masked_share'])}% of each batch has a LaMa-style hole blanked
(mask as a 4th input channel) with the whole image as target, so repair is one encode -> decode pass. Code:
`studio/models/vae.py`, `studio/train/vae.py`, `studio/sampling.py` (VaeGenerator).

{prior_text}

## Data
{DATA_NOTES[catalog].format(phrasings=t['train']['phrasings'])} all-MiniLM-L6-v2 (Apache-2.0) encodes the
text and is not trained.

## Training
- {t['steps']:,} steps x batch {t['batch_size']} ({t['epochs_seen']} full passes), AdamW with a one-cycle
  schedule (peak lr {t['train']['lr']}), seed {t['train']['seed']}
- hardware: {t['hardware']}; wall time {t['seconds'] / 60:.1f} min{stopped}
{command_lines}

## Generation (`python -m studio eval generate --model weights/{name} --prompts {Path(suite).stem} --per-prompt {result['per_prompt']}`)

Judge: `weights/evaluator-{catalog}` ({judge_acc} on real test images). Reference: real test images of each
prompt's labels. {result['n_images']:,} images per row.

{markdown_table(result, compare)}

Accuracy by phrasing (free = wordings the caption templates never use):

{style_table(result)}

{swap_text}

## Repair (`python -m studio eval repair --catalog {catalog} --method vae,telea,ns --n {repair[0]['n']}`)

Real {catalog} test images ({repair[0]['size']} px), LaMa-style masks, the same {repair[0]['n']} images and masks
for every method, measured in one run:

| masks | PSNR hole: {name} (dB) | Telea | Navier-Stokes | {name} minus the better classical |
|---|---|---|---|---|
{gains}

{repair_table(repair)}
{bar}{notes}"""


def bar_table(result: dict, swap: dict, gain) -> str:
    """The generation and repair bars of the VAE issue next to this model's numbers."""
    acc = result["attribute_accuracy"]
    rows = [("category accuracy", ">= 80%", acc["category"] >= 0.80, f"{100 * acc['category']:.1f}%"),
            ("colour accuracy", ">= 85%", acc["color"] >= 0.85, f"{100 * acc['color']:.1f}%"),
            ("background accuracy", ">= 90%", acc["background"] >= 0.90, f"{100 * acc['background']:.1f}%"),
            ("swap test", ">= 80%", swap["swap_accuracy"] >= 0.80, f"{100 * swap['swap_accuracy']:.1f}%")]
    rows += [(f"repair, {kind} masks", ">= +1 dB over the better of Telea and NS", gain(kind) >= 1.0,
              f"{gain(kind):+.2f} dB") for kind in ("medium", "thick")]
    lines = ["## Against the bar", "", "| measure | bar | this model |", "|---|---|---|"]
    lines += [f"| {name} | {target} | {value} ({'met' if ok else '**not met**'}) |" for name, target, ok, value in rows]
    return "\n".join(lines) + f"\n\nThin masks (no bar): {gain('thin'):+.2f} dB.\n"
