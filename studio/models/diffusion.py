"""Text-conditioned denoiser for pixel-space diffusion: diffusers' UNet2DConditionModel, reading the
prompt's MiniLM token states through cross-attention and its pooled vector through the time embedding.

- Cross-attention on the tokens (Rombach et al. 2022) binds a colour to the noun it describes; the pooled
  sentence vector, projected and added to the timestep embedding (diffusers' `class_embed_type=
  "projection"`), gives every resnet block the gist of the prompt, which matters at 32 px where only the
  coarsest levels afford attention.
- Masked conditioning (the inpainting UNets of Stable Diffusion): 7 input channels, the noisy image, the
  hole mask (1 = to generate) and the image with its hole blanked. Trained with whole-image masks part of
  the time, one network does text-to-image (mask all ones, nothing known) and inpainting. The extra input
  channels start at zero, so at initialisation the network sees only the noisy image.
- A learned null condition (one token and one pooled vector) stands for "no text": dropped in a share of
  training steps, it gives the unconditional prediction classifier-free guidance needs (Ho & Salimans 2022).
- Label embeddings (optional, `views` / `backgrounds` > 0): MiniLM's sentence vector barely separates "seen
  from the side" from "seen from the back" (the VAE's note, studio/models/vae.py), and a network trained on it
  put a quarter of the products on another backdrop than the caption named. The view and the backdrop the
  prompt names (parsed by the same functions in training and sampling: studio.data.views.view_index,
  studio.data.captions.background_index; 0 = none named) each add a learned vector to the pooled one before
  its projection into the timestep embedding, so every resnet block reads them, as in class-conditional
  diffusion (Dhariwal & Nichol 2021). They start at zero: a network given them starts as the one without.

Network only, forward only: the noise schedule, loss and sampler live in studio/train/diffusion.py and
studio/pipelines.py.
"""

from __future__ import annotations

import torch
import torch.nn as nn
from diffusers import ConfigMixin, ModelMixin, UNet2DConditionModel
from diffusers.configuration_utils import register_to_config

from .text_condition import check_size

IMAGE, EXTRA = 3, 4                     # noisy image channels; hole mask + known pixels


class TextUNet(ModelMixin, ConfigMixin):
    """forward(noisy, timestep, hole, known, tokens, mask, pooled) -> the model's prediction (noise or v,
    whichever the schedule it was trained with names), shaped like `noisy`."""

    @register_to_config
    def __init__(self, size: int = 32, channels: tuple[int, ...] = (32, 64, 64),
                 attention: tuple[bool, ...] = (False, False, True), layers_per_block: int = 1, heads: int = 4,
                 groups: int = 16, text_dim: int = 384, views: int = 0, backgrounds: int = 0,
                 catalog: str | None = None, training: dict | None = None):
        super().__init__()
        check_size(size)
        if views < 0 or backgrounds < 0:
            raise ValueError(f"views and backgrounds must be >= 0, got {views}, {backgrounds}")
        channels, attention = tuple(channels), tuple(bool(a) for a in attention)
        if len(channels) != len(attention) or not 2 <= len(channels) <= 5:
            raise ValueError(f"channels and attention name the same 2-5 levels, got {channels} and {attention}")
        if size % 2 ** (len(channels) - 1):
            raise ValueError(f"{len(channels)} levels halve {size} px {len(channels) - 1} times: not a whole side")
        if any(c % groups for c in channels):
            raise ValueError(f"every level's channels must divide into {groups} groups, got {channels}")
        self.unet = UNet2DConditionModel(
            sample_size=size, in_channels=IMAGE + EXTRA, out_channels=IMAGE,
            down_block_types=tuple("CrossAttnDownBlock2D" if a else "DownBlock2D" for a in attention),
            up_block_types=tuple("CrossAttnUpBlock2D" if a else "UpBlock2D" for a in reversed(attention)),
            mid_block_type="UNetMidBlock2DCrossAttn", block_out_channels=channels,
            layers_per_block=layers_per_block, norm_num_groups=groups, cross_attention_dim=text_dim,
            attention_head_dim=heads, class_embed_type="projection",
            projection_class_embeddings_input_dim=text_dim)
        with torch.no_grad():
            self.unet.conv_in.weight[:, IMAGE:].zero_()                  # mask + known start unseen
        self.null_token = nn.Parameter(torch.zeros(1, 1, text_dim))
        self.null_pooled = nn.Parameter(torch.zeros(1, text_dim))
        self.view_embedding = nn.Embedding(views + 1, text_dim) if views else None              # row 0: none named
        self.background_embedding = nn.Embedding(backgrounds + 1, text_dim) if backgrounds else None
        for table in (self.view_embedding, self.background_embedding):
            if table is not None:
                nn.init.zeros_(table.weight)

    @property
    def labelled(self) -> bool:
        """Whether the network reads label embeddings (then callers pass view / background indices)."""
        return self.view_embedding is not None or self.background_embedding is not None

    def with_labels(self, pooled: torch.Tensor, view: torch.Tensor | None = None,
                    background: torch.Tensor | None = None) -> torch.Tensor:
        """The pooled text vector (B, D) plus the embeddings of the view and the backdrop the text names ((B,)
        long, 0 = none named; None = none for every row). Unchanged for a network without them."""
        for table, index in ((self.view_embedding, view), (self.background_embedding, background)):
            if table is not None and index is not None:
                pooled = pooled + table(index.to(pooled.device).clamp(0, table.num_embeddings - 1)).to(pooled.dtype)
        return pooled

    def without_text(self, tokens: torch.Tensor, mask: torch.Tensor, pooled: torch.Tensor,
                     drop: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The text with the rows where `drop` (B,) is True replaced by the null condition: one learned
        token (the rest masked out) and the learned pooled vector."""
        keep = ~drop[:, None]                                            # (B, 1)
        null_tokens = torch.zeros_like(tokens)
        null_tokens[:, :1] = self.null_token.to(tokens.dtype)
        null_mask = torch.zeros_like(mask)
        null_mask[:, 0] = True
        tokens = torch.where(keep[:, :, None], tokens, null_tokens)      # (B, T, D)
        mask = torch.where(keep, mask, null_mask)                        # (B, T)
        pooled = torch.where(keep, pooled, self.null_pooled.to(pooled.dtype))
        return tokens, mask, pooled

    def forward(self, noisy: torch.Tensor, timestep: torch.Tensor, hole: torch.Tensor, known: torch.Tensor,
                tokens: torch.Tensor, mask: torch.Tensor, pooled: torch.Tensor,
                drop: torch.Tensor | None = None, view: torch.Tensor | None = None,
                background: torch.Tensor | None = None) -> torch.Tensor:
        """`drop` (B,) bool: rows that see the null condition instead of their text (guidance's
        unconditional half; training's dropped captions), labels included. `view`, `background` (B,) long:
        the labels the text names (see with_labels; the pipeline adds them when it encodes a prompt)."""
        pooled = self.with_labels(pooled, view, background)
        if drop is not None:
            tokens, mask, pooled = self.without_text(tokens, mask, pooled, drop)
        x = torch.cat([noisy, hole, known * (1 - hole)], dim=1)          # (B, 7, H, W)
        # diffusers turns the key mask into an additive bias (0 where 1, -10000 where 0)
        return self.unet(x, timestep, encoder_hidden_states=tokens, class_labels=pooled,
                         encoder_attention_mask=mask.to(tokens.dtype), return_dict=False)[0]   # (B, 3, H, W)
