"""Train the text-conditioned diffusion model; write weights/diffusion-<catalog>/.

    python -m studio train diffusion --catalog fashion --steps 7000 --max-minutes 110
    python -m studio train diffusion --catalog fashion --resume        # the next leg of the same run
    python -m studio train diffusion --catalog fashion --dry-run       # a few steps on a few images

The procedure (the network is studio/models/diffusion.py, the sampler studio/pipelines.py):
- DDPM's forward process (Ho et al. 2020) on diffusers' DDPMScheduler, 1000 steps, the cosine schedule
  (Nichol & Dhariwal 2021: the linear one destroys a 32 px image too early, wasting steps on pure noise);
- the UNet predicts v = alpha * noise - sigma * x0 (Salimans & Ho 2022), which stays well-scaled at both
  ends of the schedule and suits few-step sampling; the loss is weighted by Min-SNR-gamma (Hang et al.
  2023: min(SNR, gamma) / (SNR + 1) for v), which they found converges ~3x faster than the plain loss;
- classifier-free guidance training: `uncond_share` of the captions become the null condition;
- inpainting in the same network: `masked_share` of each batch gets a LaMa-style hole from the project's
  mask generator, the rest the whole image as "hole" (text-to-image); the loss covers the whole image;
- with `label_embeddings`, the view and the backdrop each caption names (read from its text, as the pipeline
  reads a prompt) also reach the network as learned embeddings (studio/models/diffusion.py);
- AdamW with a linear warm-up and cosine decay to a tenth, an EMA of the weights (diffusers' EMAModel)
  which is what the folder holds, with the sampler's configuration (DPM-Solver++ on the same betas).
Each leg ends with a sample sheet in runs/<name>/ (fixed prompts, fixed seeds).
"""

from __future__ import annotations

import copy
import math
import re
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..models.diffusion import TextUNet
from .bank import CaptionBank, hole_batch, masked_training_set, to_unit
from .common import Run, write_trained
from .configs import DiffusionTrainConfig

SHEET_SEEDS = 8


def unet_for(cfg: DiffusionTrainConfig) -> TextUNet:
    """The network the config describes: `levels` levels from `width` channels, doubling once, cross-
    attention at the levels `attend_at` px or smaller; with `label_embeddings`, one row per view label and
    per backdrop (and one for none)."""
    channels = tuple(cfg.width * min(2, 2 ** i) for i in range(cfg.levels))
    attention = tuple(cfg.size // 2 ** i <= cfg.attend_at for i in range(cfg.levels))
    labels = _label_rows() if cfg.label_embeddings else {}
    return TextUNet(size=cfg.size, channels=channels, attention=attention, heads=cfg.heads,
                    groups=math.gcd(16, *channels), **labels)


def _label_rows() -> dict[str, int]:
    from ..data.views import LABELS as VIEW_LABELS
    from ..data.vocab import BACKGROUNDS

    return {"views": len(VIEW_LABELS), "backgrounds": len(BACKGROUNDS)}


def grown_unet(cfg: DiffusionTrainConfig) -> TextUNet:
    """The network --grow-from describes: the source folder's network (its levels, attention, heads, label
    embeddings) with one more level in front at this run's size, twice the source's, as wide as the source's
    first level (so the time embedding, the stem and the head keep their shapes)."""
    if not Path(cfg.grow_from).is_dir():
        raise FileNotFoundError(f"no diffusion folder at {cfg.grow_from} to grow from")
    source = TextUNet.from_config(TextUNet.load_config(cfg.grow_from, subfolder="unet")).config   # shape, no weights read
    if cfg.size != 2 * source.size:
        raise ValueError(f"growing adds one level: the run's size must be twice the source's {source.size} px, "
                         f"got {cfg.size}")
    channels, attention = tuple(source.channels), tuple(source.attention)
    if len(channels) == 5:
        raise ValueError(f"{cfg.grow_from} already has 5 levels, the most a network here has")
    labels = _label_rows() if cfg.label_embeddings else {"views": 0, "backgrounds": 0}
    return TextUNet(size=cfg.size, channels=(channels[0],) + channels, attention=(False,) + attention,
                    layers_per_block=source.layers_per_block, heads=source.heads, groups=source.groups,
                    text_dim=source.text_dim, views=max(source.views, labels["views"]),
                    backgrounds=max(source.backgrounds, labels["backgrounds"]))


def grow_weights(model: TextUNet, source: str, log) -> list[str]:
    """Copy a network at half the size into `model` (made by grown_unet): the source's down level i becomes
    level i + 1, its up levels (lowest resolution first) keep their places, and everything else (stem, head,
    time and text embeddings, middle block, null condition, label embeddings) keeps its name. What stays new:
    the first down level, the last up level and the upsampler the source's last up level never had. A
    progressive-growing start (Karras et al. 2018): the lower levels begin trained. Returns the new tensors' names."""
    from ..checkpoints import open_network

    old = open_network(source, TextUNet, subfolder="unet").state_dict()
    moved = {}
    for key, value in old.items():
        match = re.match(r"unet\.down_blocks\.(\d+)\.(.*)", key)
        moved[f"unet.down_blocks.{int(match.group(1)) + 1}.{match.group(2)}" if match else key] = value
    target = model.state_dict()
    wrong = [k for k, v in moved.items() if k not in target or target[k].shape != v.shape]
    if wrong:
        raise ValueError(f"{source} cannot grow into this network: {len(wrong)} tensors find no place "
                         f"(first: {wrong[0]})")
    model.load_state_dict(moved, strict=False)
    new = [k for k in target if k not in moved]
    log(f"grown from {source}: {len(moved)} tensors copied, {len(new)} new "
        f"({sum(target[k].numel() for k in new) / 1e6:.2f} M parameters)")
    return new


def noise_schedule(prediction: str):
    """The training schedule (diffusers' DDPMScheduler) and the sampler the folder keeps (DPM-Solver++ 2M
    on the same betas and prediction type, its timesteps spaced to start at the last one: "trailing", as
    Lin et al. 2024 recommend for few steps)."""
    from diffusers import DDPMScheduler, DPMSolverMultistepScheduler

    schedule = DDPMScheduler(num_train_timesteps=1000, beta_schedule="squaredcos_cap_v2",
                             prediction_type=prediction, clip_sample=False)
    sampler = DPMSolverMultistepScheduler.from_config(schedule.config, algorithm_type="dpmsolver++",
                                                      solver_order=2, timestep_spacing="trailing")
    return schedule, sampler


def diffusion_loss(model, schedule, x0, hole, texts, drop, generator: torch.Generator, snr_gamma: float,
                   snr_floor: float = 0.0, labels: dict | None = None) -> torch.Tensor:
    """One denoising loss: a random timestep per image, the image noised to it, the prediction's squared
    error against the schedule's target (noise or v), weighted by Min-SNR-gamma when snr_gamma > 0, the
    weight never under `snr_floor`. For v-prediction Min-SNR's weight min(SNR, gamma) / (SNR + 1) falls to
    ~0 at the noisiest steps, where the layout, the backdrop and the use of an inpainting hole's known
    pixels are decided (there v is -x0, so the floor is a plain x0 loss). labels: the captions' view and
    backdrop indices for a network with label embeddings."""
    b = len(x0)
    t = torch.randint(0, schedule.config.num_train_timesteps, (b,), generator=generator).to(x0.device)
    noise = torch.randn(x0.shape, generator=generator).to(x0.device)
    noisy = schedule.add_noise(x0, noise, t)
    v = schedule.config.prediction_type == "v_prediction"
    target = schedule.get_velocity(x0, noise, t) if v else noise
    prediction = model(noisy, t, hole, x0, *texts, drop=drop, **(labels or {}))
    per_image = F.mse_loss(prediction, target, reduction="none").flatten(1).mean(1)      # (B,)
    if snr_gamma > 0:
        alpha_bar = schedule.alphas_cumprod.to(x0.device)[t]
        snr = alpha_bar / (1 - alpha_bar)
        weight = (snr.clamp(max=snr_gamma) / (snr + 1 if v else snr)).clamp(min=snr_floor)
        per_image = per_image * weight
    return per_image.mean()


def _initial_weights(model: TextUNet, source: str, log) -> None:
    from ..checkpoints import open_network

    if not Path(source).is_dir():
        raise FileNotFoundError(f"no diffusion folder at {source} to start from")
    try:
        missing, unexpected = model.load_state_dict(open_network(source, TextUNet, subfolder="unet").state_dict(),
                                                    strict=False)
    except RuntimeError as exc:
        raise ValueError(f"{source} does not match this run's UNet shape: {exc}") from None
    # label embeddings may be new here (they start at zero, so the start is the source's network)
    missing = [k for k in missing if not k.startswith(("view_embedding.", "background_embedding."))]
    if missing or unexpected:
        raise ValueError(f"{source} does not match this run's UNet: missing {missing}, unexpected {unexpected}")
    log(f"starting from the weights of {source}")


def weight_average(net: torch.nn.Module, cfg: DiffusionTrainConfig):
    """The EMA of the network's weights. Its warm-up (a short average at first) forgets a random start;
    weights given with --init-from are already an average worth keeping, so theirs runs at the full decay
    from the second update on (diffusers' first one copies the weights, one optimiser step from the start)."""
    from diffusers.training_utils import EMAModel

    return EMAModel(net.parameters(), decay=cfg.ema_decay, use_ema_warmup=True, power=2 / 3,
                    min_decay=cfg.ema_decay if cfg.init_from else 0.0)


def train_diffusion(cfg: DiffusionTrainConfig, log=print) -> dict:
    from ..pipelines import DiffusionTextPipeline

    run = Run(cfg, "diffusion", log)
    device = run.device
    # 1. text, masks and data, prepared once (the same on every process)
    bank, pool, data = masked_training_set(cfg, run.log_line)
    # 2. network, schedule, optimiser (warm-up then cosine to a tenth), EMA
    model = grown_unet(cfg) if cfg.grow_from else unet_for(cfg)
    if cfg.init_from and not cfg.resume:
        _initial_weights(model, cfg.init_from, run.log_line)
    if cfg.grow_from and not cfg.resume:
        grow_weights(model, cfg.grow_from, run.log_line)
    schedule, sampler = noise_schedule(cfg.prediction)
    optimiser = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=1e-4)

    def rate(step: int) -> float:
        if step < cfg.warmup_steps:
            return (step + 1) / cfg.warmup_steps
        done = min(1.0, (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps))
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * done))

    lr_schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, rate)
    model, optimiser, lr_schedule = run.prepare(model, optimiser, lr_schedule)
    net = run.unwrap(model)
    ema = weight_average(net, cfg)
    ema.to(device)
    run.track(ema)
    loader = run.loader(data)
    run.resume()
    run.log_line(f"UNet: {sum(p.numel() for p in net.parameters()) / 1e6:.2f} M parameters, "
                 f"channels {net.config.channels}, attention {net.config.attention}")
    # 3. the loop
    for images, combos in run.batches(data, loader):
        rng, noise_rng = run.rng(), run.torch_rng()
        x0 = to_unit(images, device)
        ids = bank.positives(combos.numpy(), rng)
        texts = bank.batch(ids, device)
        hole = hole_batch(pool, len(x0), cfg.masked_share, rng, rest=1.0).to(device)
        drop = torch.from_numpy(rng.random(len(x0)) < cfg.uncond_share).to(device)
        labels = bank.labels(ids, device) if net.labelled else None
        loss = diffusion_loss(model, schedule, x0, hole, texts, drop, noise_rng, cfg.snr_gamma, cfg.snr_floor,
                              labels)
        optimiser.zero_grad(set_to_none=True)
        run.accelerator.backward(loss)
        run.accelerator.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        lr_schedule.step()
        ema.step(net.parameters())
        if run.due():
            run.log(loss=loss.item(), lr=lr_schedule.get_last_lr()[0], ema_decay=ema.cur_decay_value or 0.0)
    # 4. write what the studio loads: the EMA weights with the sampler; a sample sheet beside the state
    averaged = copy.deepcopy(net).eval()
    ema.copy_to(averaged.parameters())
    pipeline_cls = lambda unet: DiffusionTextPipeline(unet, sampler)   # noqa: E731

    def sheet(folder) -> None:
        save_sample_sheet(folder, bank, run.runs / f"samples-{run.step:06d}.png", device)

    return write_trained(run, averaged, run.record(), pipeline_cls, after=sheet, log=log)


@torch.inference_mode()
def save_sample_sheet(folder, bank: CaptionBank, path: Path, device, rows: int = 8) -> None:
    """One row per fixed caption of the bank (spread over its label combinations), SHEET_SEEDS seeds
    each, sampled from the written folder as the studio will."""
    from PIL import Image

    from ..pipelines import open_pipeline

    pipe = open_pipeline(folder, str(device))
    picks = np.linspace(0, len(bank.combos) - 1, rows).astype(int)
    sheet_rows = [pipe(bank.texts[bank.by_combo[c][0]], num_images=SHEET_SEEDS, seed=0).images for c in picks]
    s = pipe.size
    grid = Image.new("RGB", (SHEET_SEEDS * s, len(sheet_rows) * s))
    for r, row in enumerate(sheet_rows):
        for k, im in enumerate(row):
            grid.paste(im, (k * s, r * s))
    grid.resize((grid.width * 2, grid.height * 2), Image.Resampling.NEAREST).save(path)
