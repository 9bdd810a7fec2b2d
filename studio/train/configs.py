"""The training configurations, one frozen dataclass per trainer on a shared base, and the CLI flags
generated from their fields (one source of defaults; each field's comment is its flag's help). No torch
here, so `python -m studio train ... --help` stays instant."""

from __future__ import annotations

import argparse
import dataclasses
import typing
from dataclasses import dataclass

TRAINABLE_CATALOGS = ("fashion", "furniture", "furniture-views")
MIXED_PRECISION = ("no", "bf16", "fp16")


@dataclass(frozen=True)
class TrainConfig:
    catalog: str = "fashion"           # catalog to train on
    size: int = 32                     # image size in px
    steps: int = 3000                  # optimiser steps in all (a resumed run continues towards them)
    batch_size: int = 64               # images per step on each process
    seed: int = 0                      # seed
    limit: int | None = None           # train on only the first N images (smoke runs)
    max_minutes: float | None = None   # end this leg after this wall time (state saved, folder written)
    log_every: int = 50                # steps between log lines
    save_every: int = 500              # steps between saved training states
    mixed_precision: str = "no"        # no, bf16 (CPU or GPU) or fp16 (GPU)
    resume: bool = False               # continue the run whose state is in runs/<name>/state
    out: str = ""                      # the folder written at the end (default: weights/<kind>-<catalog>)
    runs: str = ""                     # training state, samples and history (default: runs/<name>)

    def __post_init__(self):
        if self.mixed_precision not in MIXED_PRECISION:
            raise ValueError(f"mixed_precision must be one of {', '.join(MIXED_PRECISION)}, "
                             f"got {self.mixed_precision!r}")
        for name in ("batch_size", "log_every", "save_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.steps < 0:
            raise ValueError(f"steps must not be negative, got {self.steps}")


@dataclass(frozen=True)
class GANTrainConfig(TrainConfig):
    width: int = 24                # generator/discriminator width
    lr_g: float = 2e-4             # generator learning rate
    lr_d: float = 2e-4             # discriminator learning rate
    r1_gamma: float = 1.0          # R1 penalty weight
    r1_every: int = 4              # steps between (lazy) R1 penalties
    mismatch_weight: float = 0.5   # share of the fake term given to real images with mismatched captions
    kl_weight: float = 1.0         # conditioning-augmentation KL weight
    ema_decay: float = 0.999       # EMA decay of the generator's weights (warm-up: (1 + t) / (10 + t))
    phrasings: int = 6             # captions per label combination in the caption bank
    partial_share: float = 0.15    # captions that leave out the colour or the background
    text_cache: str = "runs/text-cache"  # where caption encodings are cached


@dataclass(frozen=True)
class VAETrainConfig(TrainConfig):
    width: int = 32                # encoder/decoder width
    z_dim: int = 128               # latent size
    steps: int = 6000              # optimiser steps in all
    lr: float = 1e-3               # peak learning rate (one-cycle)
    warmup: float = 0.2            # share of the steps over which the KL weight ramps 0 -> 1
    free_bits: float = 0.05        # nats per latent dimension
    masked_share: float = 0.5      # of each batch trained with a blanked hole
    mask_pool: int = 4000          # masks drawn once and reused
    phrasings: int = 6             # captions per label combination
    partial_share: float = 0.15    # captions that leave out the colour or the background
    text_cache: str = "runs/text-cache"  # where caption encodings are cached
    prior_components: int = 32     # then fit a mixture prior with this many components; 0 skips it
    prior_steps: int = 3000        # mixture prior fitting steps
    prior_phrasings: int = 24      # captions per label combination the prior learns from
    init_from: str | None = None   # start from this VAE folder's weights (a new run; not --resume)
    cross_view_share: float = 0.9  # furniture-views: rows whose encoder sees another view of the product
    text_only_views: bool = False  # furniture-views: no view embedding, the view only in the caption's words


@dataclass(frozen=True)
class VAEGANTrainConfig(TrainConfig):
    init_from: str = ""            # the VAE folder whose decoder is fine-tuned (default: weights/vae-<catalog>)
    steps: int = 6000              # optimiser steps in all (constant rates: a leg may extend the run)
    batch_size: int = 32           # images per step on each process
    d_width: int = 24              # discriminator width
    lr_g: float = 1e-4             # decoder learning rate
    lr_d: float = 2e-4             # discriminator learning rate
    adv_weight: float = 0.1        # weight of the adversarial term once ramped up
    rec_weight: float = 1.0        # weight of the L1 reconstruction anchor (posterior means of real images)
    anchor_pool: int = 4           # the anchor compares images average-pooled by this factor (1: full size)
    anchor_share: float = 0.5      # share of each batch the anchor reconstructs
    ramp: int = 300                # steps over which the adversarial weight rises from zero
    r1_gamma: float = 1.0          # R1 penalty weight
    r1_every: int = 4              # steps between (lazy) R1 penalties
    mismatch_weight: float = 0.5   # share of the fake term given to real images with mismatched captions
    cutout: float = 0.25           # DiffAugment cutout, as a share of the side
    background_weight: float = 0.0  # L1 of the fakes' border against the real image's backdrop colour
    aux_weight: float = 0.0        # backdrop classifier head in D (AC-GAN): cross-entropy weight for D (real images) and the decoder (fakes)
    ema_decay: float = 0.98        # EMA decay of the decoder (a short fine-tune wants it low)
    phrasings: int = 6             # captions per label combination in the caption bank
    partial_share: float = 0.15    # captions that leave out the colour or the background
    text_cache: str = "runs/text-cache"  # where caption encodings are cached

    def __post_init__(self):
        super().__post_init__()
        if not self.init_from:
            object.__setattr__(self, "init_from", f"weights/vae-{self.catalog}")
        if not 0 <= self.cutout < 1:
            raise ValueError(f"cutout must be in [0, 1), got {self.cutout}")
        if self.aux_weight < 0 or self.background_weight < 0:
            raise ValueError(f"aux_weight and background_weight must not be negative, got {self.aux_weight}, "
                             f"{self.background_weight}")
        if not 0 < self.anchor_share <= 1 or self.anchor_pool < 1:
            raise ValueError(f"anchor_share must be in (0, 1] and anchor_pool at least 1, got {self.anchor_share}, "
                             f"{self.anchor_pool}")


@dataclass(frozen=True)
class StyleNetTrainConfig(TrainConfig):
    catalog: str = "photos"        # photos: the installed photos and artwork (studio/data/photos.py)
    width: int = 48                # decoder channels at 1/8 of the image (half of it at 1/4, a quarter at 1/2)
    depth: int = 0                 # decoder residual blocks at 1/8 and at 1/4 each
    hold_val: bool = False         # keep `eval style --split val`'s photos and references out of training
    patch: int = 256               # content and style crops, px
    steps: int = 3000              # optimiser steps in all
    batch_size: int = 4            # content/style pairs per step on each process
    lr: float = 5e-4               # peak learning rate (one-cycle)
    epoch_pairs: int = 512         # pairs drawn afresh every epoch
    max_side: int = 768            # training images reduced to at most this side when loaded
    root: str = "/usr/share"       # where the photo packages are installed (studio/data/photos.py)
    content_weight: float = 1.0    # the result's block-4 maps against the moved ones
    moment_weight: float = 1.0     # per-channel mean and spread at blocks 0, 2, 4, 7 against the style's
    texture_weight: float = 1.0    # SWAG Gram matrices at blocks 0, 2, 4, 7 against the style's
    recon_weight: float = 1.0      # the photo given back from its own maps (pixel L1)
    save_every: int = 250          # steps between saved training states
    log_every: int = 25            # steps between log lines


@dataclass(frozen=True)
class UpscalerTrainConfig(TrainConfig):
    catalog: str = "photos"        # photos: the installed photos and textures (studio/data/photos.py)
    scale: int = 2                 # upscale factor: 2 or 4
    width: int = 24                # channels at the input's resolution
    blocks: int = 3                # residual blocks
    patch: int = 48                # low-resolution patch side (the target is patch x scale)
    steps: int = 6000              # optimiser steps in all
    batch_size: int = 16           # patches per step on each process
    lr: float = 1e-3               # peak learning rate (one-cycle)
    epoch_patches: int = 2048      # patches drawn afresh every epoch
    photo_share: float = 0.5       # of those, cut from the real photos (the rest from art, graphics, textures)
    max_side: int = 2048           # training images reduced to at most this side when loaded
    root: str = "/usr/share"       # where the photo packages are installed (studio/data/photos.py)
    flavour: str = "fidelity"      # fidelity (L1) or perceptual (L1 + EfficientNet-Lite0 features + adversarial)
    init_from: str | None = None   # start from this upscaler folder's weights (perceptual: the fidelity one)
    perceptual_weight: float = 0.1  # perceptual: L1 between Lite0 feature maps (blocks 0, 2, 4)
    adv_weight: float = 0.005      # perceptual: hinge adversarial term of a patch critic (SRGAN's idea, light)
    save_every: int = 1000         # steps between saved training states

    def __post_init__(self):
        super().__post_init__()
        if self.scale not in (2, 4):
            raise ValueError(f"scale must be 2 or 4, got {self.scale}")
        if self.patch < 8 or not 0 <= self.photo_share <= 1 or self.epoch_patches < self.batch_size:
            raise ValueError("patch must be at least 8, photo_share in [0, 1], and epoch_patches at least a batch")
        if self.flavour not in ("fidelity", "perceptual"):
            raise ValueError(f"flavour must be fidelity or perceptual, got {self.flavour!r}")


@dataclass(frozen=True)
class CutoutTrainConfig(TrainConfig):
    catalog: str = "composites"    # composites: objects with true alpha over photos and textures (data/composites.py)
    size: int = 224                # training side in px (a multiple of 32; the network runs at run_size)
    run_size: int = 320            # the side the shipped network runs at (recorded in its config)
    width: int = 64                # decoder channels at 1/32
    tune_from: int = 5             # first EfficientNet-Lite0 block trained (earlier ones stay ImageNet's)
    steps: int = 3000              # optimiser steps in all
    batch_size: int = 16           # composites per step on each process
    lr: float = 1e-3               # peak learning rate (one-cycle; the encoder's blocks get a tenth)
    epoch_images: int = 1024       # composites drawn afresh every epoch
    dice_weight: float = 1.0       # soft-IoU (Dice) term beside the per-pixel cross-entropy
    boundary_weight: float = 0.0   # extra cross-entropy weight on pixels near the true edge (0: none)
    boundary_px: int = 3           # how near: within this many pixels of the edge, at the training size
    background_shares: str = ""    # photo,texture,plain,gradient,clutter shares (empty: composites' defaults)
    wallpapers: bool = False       # add the desktop-wallpaper packages' images to the training backgrounds
    photo_fill: float = 0.0        # chance an object's surface is a photograph (composites.photo_surface)
    overscale: float = 0.0         # chance an object is drawn large enough for the frame to cut it
    max_side: int = 1024           # backgrounds reduced to at most this side when loaded
    cache: str = "runs/cutout"     # where `data cutout-objects` put the object banks
    root: str = "/usr/share"       # where the photo packages are installed (backgrounds: studio/data/photos.py)
    init_from: str | None = None   # start from this cut-out folder's weights
    save_every: int = 200          # steps between saved training states

    def __post_init__(self):
        super().__post_init__()
        if self.size % 32 or self.run_size % 32:
            raise ValueError(f"size and run_size must be multiples of 32, got {self.size}, {self.run_size}")
        if self.epoch_images < self.batch_size:
            raise ValueError("epoch_images must be at least a batch")
        if not (0 <= self.photo_fill <= 1 and 0 <= self.overscale <= 1):
            raise ValueError(f"photo_fill and overscale are chances in [0, 1], got {self.photo_fill}, {self.overscale}")
        if self.boundary_weight < 0 or self.boundary_px < 1:
            raise ValueError(f"boundary_weight must be >= 0 and boundary_px >= 1, got {self.boundary_weight}, "
                             f"{self.boundary_px}")
        from ..data.composites import background_shares

        background_shares(self.background_shares)              # refuses a bad list before any work


@dataclass(frozen=True)
class InpaintTrainConfig(TrainConfig):
    catalog: str = "photos"        # photos: the installed photos and textures (studio/data/photos.py)
    size: int = 256                # training crop side in px (a multiple of 32)
    run_size: int = 512            # the longest side the shipped network runs at (recorded in its config)
    width: int = 64                # decoder channels at 1/32
    tune_from: int = 5             # first EfficientNet-Lite0 block trained (earlier ones stay ImageNet's)
    base: str = "ns"               # the classical fill the network corrects: ns (Navier-Stokes) or telea
    steps: int = 3000              # optimiser steps in all
    batch_size: int = 16           # crops per step on each process
    lr: float = 1e-3               # peak learning rate (one-cycle; the encoder's blocks get a tenth)
    epoch_images: int = 512        # crops (with fresh holes) drawn afresh every epoch
    photo_share: float = 0.6       # of those, cut from the real photos (the rest from art, graphics, textures)
    mask_shares: str = "0.2,0.4,0.4"  # thin, medium, thick LaMa-style holes
    max_side: int = 1600           # training images reduced to at most this side when loaded
    zoom: float = 2.0              # crops span size .. zoom x size source pixels before reduction to size
    loss: str = "l1"               # the pixel loss inside the hole: l1 (EDSR's choice) or l2 (what PSNR measures)
    perceptual_weight: float = 0.01  # L1 between Lite0 feature maps (blocks 0, 2, 4) beside the pixel loss
    root: str = "/usr/share"       # where the photo packages are installed (studio/data/photos.py)
    init_from: str | None = None   # start from this inpainter folder's weights
    save_every: int = 200          # steps between saved training states

    def __post_init__(self):
        super().__post_init__()
        if self.size % 32 or self.run_size % 32:
            raise ValueError(f"size and run_size must be multiples of 32, got {self.size}, {self.run_size}")
        if self.epoch_images < self.batch_size or not 0 <= self.photo_share <= 1 or self.zoom < 1:
            raise ValueError("epoch_images must be at least a batch, photo_share in [0, 1] and zoom at least 1")
        shares = [float(v) for v in self.mask_shares.split(",")]
        if len(shares) != 3 or min(shares) < 0 or sum(shares) <= 0:
            raise ValueError(f"mask_shares takes three non-negative shares (thin, medium, thick), got {self.mask_shares!r}")
        if self.base not in ("ns", "telea"):
            raise ValueError(f"base must be ns or telea, got {self.base!r}")
        if self.loss not in ("l1", "l2"):
            raise ValueError(f"loss must be l1 or l2, got {self.loss!r}")


@dataclass(frozen=True)
class PriorFitConfig:
    """The second stage: p(z | text) as a Gaussian mixture fitted to the frozen VAE's posteriors."""
    components: int = 32           # mixture components
    hidden: int = 512              # hidden width of the mixture density network
    steps: int = 3000              # fitting steps
    batch_size: int = 512          # latents per step
    lr: float = 1e-3               # learning rate (cosine schedule)
    phrasings: int = 24            # captions per label combination (more than the VAE saw: this stage is cheap)
    held_out: float = 0.05         # share of the encoded images kept out of the fit, for the NLL report
    seed: int = 0                  # seed
    limit: int | None = None       # dry runs: only the first N training images


@dataclass(frozen=True)
class EvaluatorTrainConfig(TrainConfig):
    steps: int = 0                 # 0: epochs x batches per epoch
    epochs: int = 18               # epochs, each with fresh colourways
    batch_size: int = 256          # images per step on each process
    lr: float = 2e-3               # peak learning rate, one-cycle
    weight_decay: float = 5e-4     # AdamW weight decay
    width: int = 32                # channels of the first stage (the cnn backbone)
    backbone: str = "cnn"          # cnn (from scratch) or effnet-lite0 (ImageNet weights, fine-tuned)
    input_size: int = 0            # effnet-lite0: the side images are resized to (0: the catalog size)
    zoom: float = 0.0              # scale jitter: each image scaled by [1 - zoom, 1 + zoom] and moved (0: off)
    label_smoothing: float = 0.0   # label smoothing of every head's cross-entropy (0: off)

    def __post_init__(self):
        super().__post_init__()
        if not (0 <= self.zoom < 0.5 and 0 <= self.label_smoothing < 0.5):
            raise ValueError(f"zoom and label_smoothing must be in [0, 0.5), got {self.zoom}, {self.label_smoothing}")


# ---- CLI flags from the dataclass fields (one source of defaults)
def _comments(cls) -> dict[str, str]:
    """The `# ...` comment after each field in the class's source (and its bases'): the flag's help."""
    import inspect

    helps: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if not dataclasses.is_dataclass(klass):
            continue
        try:
            source = inspect.getsource(klass)
        except (OSError, TypeError):
            continue
        for line in source.splitlines():
            head, _, comment = line.partition("#")
            name = head.split(":")[0].strip()
            if comment and name.isidentifier() and ":" in head:
                helps[name] = comment.strip()
    return helps


def add_config_flags(parser: argparse.ArgumentParser, cls, skip: tuple[str, ...] = ()) -> None:
    """One --flag per field of the config dataclass `cls`, typed from the field, its help from the field's
    comment. A flag left out stays out of the parsed namespace (config_from_flags fills it in)."""
    hints = typing.get_type_hints(cls)
    helps = _comments(cls)
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        flag = "--" + f.name.replace("_", "-")
        hint = hints[f.name]
        base = next((a for a in typing.get_args(hint) if a is not type(None)), hint)
        text = helps.get(f.name, "")
        if base is bool:
            parser.add_argument(flag, action="store_true", default=argparse.SUPPRESS, help=text)
            continue
        shown = "none" if f.default is None else f.default
        parser.add_argument(flag, type=base, default=argparse.SUPPRESS, help=f"{text} (default: {shown})".strip())


def config_from_flags(cls, args: argparse.Namespace, defaults: dict | None = None):
    """The config dataclass: the flags given, else `defaults` (e.g. a dry run's), else the field's default."""
    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if hasattr(args, f.name)}
    return cls(**{**(defaults or {}), **given})


@dataclass(frozen=True)
class UnderstandTrainConfig(TrainConfig):
    catalog: str = "all"           # the heads learn every catalog an installed model knows
    steps: int = 4000              # optimiser steps
    batch_size: int = 256          # phrasings per step on each process
    save_every: int = 1000         # steps between saved training states
    fashion_phrases: int = 30000   # phrasings of fashion label tuples
    furniture_phrases: int = 8000  # phrasings of furniture items (train split)
    unknown_phrases: int = 6000    # requests for products no model makes
    furniture_color_share: float = 0.6  # share of the Chinese furniture phrasings that name the piece's colour
    en_furniture_views: float = 0.0  # share of the English furniture phrasings that are multi-view captions
                                   # (colour, backdrop; needs `data render --size 64`), the rest single-icon ones
    en_furniture_colour: float = 0.0  # share of the English single-icon item captions that name the item's colour
                                   # before its name (its multi-view renders' colour; needs `data render --size 64`)
    chinese_share: float = 0.35    # share of the fashion, furniture and unknown phrasings written in Chinese
    zh_wide: bool = False          # Chinese phrasings from the phrasebook's wider tables too (nouns, cuts, requests)
    en_colours: bool = False       # English product colours also: ivory, off-white, ecru (white); cream (beige)
    chars: bool = False            # also read the prompt's characters (convolutions: which colour stands by 背景)
    char_scope: str = "all"        # with --chars: "all" prompts, or "cjk": only those with Chinese characters
    hidden: int = 512              # trunk width
    lr: float = 2e-3               # peak learning rate (one-cycle)
    held_out: float = 0.05         # phrasings kept out of training for the validation numbers
    pooled_only: bool = False      # read only USE's sentence vector, not MiniLM's token states too
    text_cache: str = "runs/text-cache"  # where MiniLM encodings are cached


@dataclass(frozen=True)
class DiffusionTrainConfig(TrainConfig):
    width: int = 32                # channels of the first level (the next ones double it, up to 2x)
    levels: int = 3                # resolution levels of the UNet (32 px: 32, 16, 8)
    attend_at: int = 8             # cross-attention at levels this many px or smaller (and in the middle)
    heads: int = 4                 # attention heads
    steps: int = 7000              # optimiser steps in all (the schedule is laid out for them)
    lr: float = 5e-4               # peak learning rate (linear warm-up, cosine decay to a tenth)
    warmup_steps: int = 200        # learning-rate warm-up
    prediction: str = "v_prediction"   # what the UNet predicts: v_prediction or epsilon
    snr_gamma: float = 5.0         # Min-SNR loss weighting (Hang et al. 2023); 0 turns it off
    snr_floor: float = 0.0         # least loss weight at any timestep (Min-SNR leaves the noisiest ones ~0)
    uncond_share: float = 0.15     # captions replaced by the null condition (classifier-free guidance)
    masked_share: float = 0.3      # of each batch trained as inpainting (a LaMa-style hole); the rest whole
    mask_pool: int = 4000          # masks drawn once and reused
    ema_decay: float = 0.999       # EMA decay of the UNet's weights (warm-up unless --init-from)
    phrasings: int = 6             # captions per label combination in the caption bank
    partial_share: float = 0.15    # captions that leave out the colour or the background
    text_cache: str = "runs/text-cache"  # where caption encodings are cached
    init_from: str | None = None   # start from this diffusion folder's weights (a new run; not --resume)
    label_embeddings: bool = False  # also embed the view and the backdrop each caption names (start at zero)
    grow_from: str | None = None   # a diffusion folder at half this size: its levels become the lower ones of a
                                   # network with one new level in front (width, levels, attend_at, heads follow it)

    def __post_init__(self):
        super().__post_init__()
        if self.init_from and self.grow_from:
            raise ValueError("--init-from and --grow-from both name starting weights: give one")
        if self.prediction not in ("v_prediction", "epsilon"):
            raise ValueError(f"prediction must be v_prediction or epsilon, got {self.prediction!r}")
        for name in ("uncond_share", "masked_share"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"{name} must be in [0, 1), got {getattr(self, name)}")
