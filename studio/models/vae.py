"""Text-conditioned VAE: encoder and decoder both see the text condition, and a learned text-conditioned
prior p(z | text) is what sampling draws from.

- The text condition is the GAN's (studio/models/text_condition.py: attention pooling over MiniLM token
  states), so colours bind to the right noun; FiLM fusion is the GAN's layer too.
- The encoder reads 4 channels: the image with its hole blanked and the hole mask. Trained on both whole
  and LaMa-style masked images, one pass of encode -> decode fills a masked region.
- Decoder likelihood: Gaussian with one learned log-sigma (the sigma-VAE of Rybkin et al., ICML 2021),
  which balances reconstruction against KL without a hand-tuned beta and blurs less than a fixed sigma.
- Two priors. The Gaussian p(z | text) learned with the rest is too simple for the aggregate posterior of
  one caption (a caption covers many garments): its draws fall between modes and decode to blends. A second
  stage, fitted with the VAE frozen, models it as a mixture of `prior_components` Gaussians given the text
  (a mixture density network, Bishop 1994; the fit-the-latents-afterwards idea of two-stage VAEs, Dai &
  Wipf 2019, and of Ghosh et al. 2020). When present, sampling and variations draw from it.
- Views (the multi-view catalog): MiniLM's states barely tell "seen from the side" from "seen from the
  back", and a decoder trained on them all but ignores the view. With `views` > 0 the view the prompt names
  (studio.data.views.view_index: 0 none, 1.. a label) also adds a learned embedding to the text condition,
  so every FiLM layer sees it.

Networks only, on diffusers' ModelMixin + ConfigMixin; the losses, KL warm-up and free bits live in
studio/train/vae.py, sampling in studio/pipelines.py.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import ConfigMixin, ModelMixin
from diffusers.configuration_utils import register_to_config

from .gan import FiLM
from .text_condition import TextCondition, check_size, pyramid


class Block(nn.Module):
    """conv-FiLM-SiLU twice with a 1x1 residual; `scale` 0.5 halves the side, 2 doubles it."""

    def __init__(self, cin: int, cout: int, cond_dim: int, scale: float):
        super().__init__()
        self.scale = scale
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.film1 = FiLM(cond_dim, cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.film2 = FiLM(cond_dim, cout)
        self.skip = nn.Conv2d(cin, cout, 1)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, scale_factor=self.scale, mode="nearest") if self.scale > 1 else x
        h = F.silu(self.film1(self.conv1(x), cond))
        h = F.silu(self.film2(self.conv2(h), cond))
        out = h + self.skip(x)
        return F.avg_pool2d(out, 2) if self.scale < 1 else out


def diagonal_normal_log_prob(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log N(z; mu, diag exp(logvar)), summed over the last dimension."""
    return -0.5 * ((z - mu) ** 2 / logvar.exp() + logvar + math.log(2 * math.pi)).sum(-1)


class MixturePrior(nn.Module):
    """p(z | text) = sum_k pi_k(text) N(z; mu_k(text), diag sigma_k(text)^2). It reads the VAE's text
    condition and MiniLM's pooled sentence vector (whose neighbourhoods carry over to wordings the caption
    templates never use)."""

    def __init__(self, cond_dim: int, text_dim: int, z_dim: int, components: int, hidden: int):
        super().__init__()
        self.components, self.z_dim = components, z_dim
        self.net = nn.Sequential(nn.Linear(cond_dim + text_dim, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU())
        self.to_logits = nn.Linear(hidden, components)
        self.to_params = nn.Linear(hidden, 2 * components * z_dim)

    def forward(self, cond: torch.Tensor, pooled: torch.Tensor):
        """-> mixture logits (B, K), means (B, K, z), log-variances (B, K, z)."""
        h = self.net(torch.cat([cond, pooled], dim=1))
        mu, logvar = self.to_params(h).view(-1, self.components, 2 * self.z_dim).chunk(2, dim=2)
        return self.to_logits(h), mu, logvar.clamp(-10, 4)

    def log_prob(self, z: torch.Tensor, cond: torch.Tensor, pooled: torch.Tensor) -> torch.Tensor:
        """log p(z | text), (B,)."""
        logits, mu, logvar = self(cond, pooled)
        per = diagonal_normal_log_prob(z[:, None], mu, logvar)                 # (B, K)
        return torch.logsumexp(F.log_softmax(logits, dim=1) + per, dim=1)

    def sample(self, cond: torch.Tensor, pooled: torch.Tensor, eps: torch.Tensor,
               generator: torch.Generator) -> torch.Tensor:
        """A component per row drawn with the CPU `generator` (the same seed picks the same components on
        every device), then mu_k + eps * sigma_k."""
        logits, mu, logvar = self(cond, pooled)
        k = torch.multinomial(F.softmax(logits.float(), dim=1).cpu(), 1, generator=generator)[:, 0].to(mu.device)
        rows = torch.arange(len(k), device=mu.device)
        return mu[rows, k] + eps * (0.5 * logvar[rows, k]).exp()


class ConditionalVAE(ModelMixin, ConfigMixin):
    """size: a power of two >= 16; width: channels at full resolution (x2 per halving, capped at 8x);
    text_*: the text condition's sizes; prior_components: 0 samples from the jointly learned Gaussian
    prior, K from a K-Gaussian mixture fitted afterwards; views: the number of view labels the condition
embeds (0: none). `catalog` and `training` are provenance, kept in
    config.json for the model card."""

    @register_to_config
    def __init__(self, size: int = 32, width: int = 32, z_dim: int = 128, text_dim: int = 384,
                 text_queries: int = 4, text_heads: int = 4, text_width: int = 128, prior_components: int = 0,
                 prior_hidden: int = 512, views: int = 0, catalog: str | None = None,
                 training: dict | None = None):
        super().__init__()
        check_size(size)
        if prior_components < 0 or views < 0:
            raise ValueError(f"prior_components and views must be >= 0, got {prior_components}, {views}")
        c = self.channels = pyramid(size, width)                # [w, 2w, ...] from size down to 4
        d = text_width
        self.text = TextCondition(text_dim, text_queries, text_heads, text_width)
        self.view_embedding = nn.Embedding(views + 1, d) if views else None    # row 0: no view named
        if self.view_embedding is not None:
            nn.init.zeros_(self.view_embedding.weight)      # starts as the text condition alone
        self.stem = nn.Conv2d(4, c[0], 3, padding=1)
        self.down = nn.ModuleList(Block(c[i], c[i + 1], d, 0.5) for i in range(len(c) - 1))
        self.to_posterior = nn.Linear(c[-1] * 16, 2 * z_dim)
        self.prior_net = nn.Sequential(nn.Linear(d, 2 * d), nn.SiLU(), nn.Linear(2 * d, 2 * z_dim))
        self.from_latent = nn.Linear(z_dim + d, c[-1] * 16)
        self.up = nn.ModuleList(Block(c[i + 1], c[i], d, 2.0) for i in reversed(range(len(c) - 1)))
        self.to_rgb = nn.Conv2d(c[0], 3, 3, padding=1)
        self.log_sigma = nn.Parameter(torch.tensor(-2.0))     # decoder noise level, learned (sigma-VAE)
        self.mixture = (MixturePrior(d, text_dim, z_dim, prior_components, prior_hidden)
                        if prior_components else None)

    def condition(self, tokens: torch.Tensor, mask: torch.Tensor, pooled: torch.Tensor,
                  view: torch.Tensor | None = None) -> torch.Tensor:
        """-> (B, d). view (B,) long: the view each text names (studio.data.views.view_index), read only
        by a model with `views`; None counts as "no view named"."""
        cond = self.text(tokens, mask, pooled)
        if self.view_embedding is None:
            return cond
        if view is None:
            view = torch.zeros(len(cond), dtype=torch.long, device=cond.device)
        return cond + self.view_embedding(view.clamp(0, self.config.views))

    def encode(self, image: torch.Tensor, hole: torch.Tensor, cond: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """image (B, 3, S, S) in [-1, 1], hole (B, 1, S, S) 1 = missing -> posterior mean, log-variance."""
        x = self.stem(torch.cat([image * (1 - hole), hole], dim=1))    # (B, w, S, S)
        for block in self.down:
            x = block(x, cond)                                         # ... -> (B, C, 4, 4)
        mu, logvar = self.to_posterior(x.flatten(1)).chunk(2, dim=1)   # (B, z) each
        return mu, logvar.clamp(-12, 6)

    def prior(self, cond: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.prior_net(cond).chunk(2, dim=1)
        return mu, logvar.clamp(-12, 6)

    def sample_latent(self, cond: torch.Tensor, pooled: torch.Tensor, eps: torch.Tensor,
                      generator: torch.Generator) -> torch.Tensor:
        """z ~ p(z | text): the mixture when fitted, else the jointly learned Gaussian. eps (B, z) is the
        standard-normal noise (already truncated if asked); `generator` picks mixture components."""
        if self.mixture is not None:
            return self.mixture.sample(cond, pooled, eps, generator)
        mu, logvar = self.prior(cond)
        return mu + eps * (0.5 * logvar).exp()

    def decode(self, z: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        c = self.channels
        x = self.from_latent(torch.cat([z, cond], dim=1)).view(-1, c[-1], 4, 4)   # (B, C, 4, 4)
        for block in self.up:
            x = block(x, cond)                                                  # ... -> (B, w, S, S)
        return torch.tanh(self.to_rgb(F.silu(x)))                               # (B, 3, S, S)

    def forward(self, image: torch.Tensor, hole: torch.Tensor, tokens: torch.Tensor, mask: torch.Tensor,
                pooled: torch.Tensor, view: torch.Tensor | None = None) -> tuple[torch.Tensor, tuple, tuple]:
        """Training pass: reconstruction from a posterior sample, posterior and prior parameters. The text
        describes what is decoded; it may be another view of the product in `image` (cross-view training)."""
        cond = self.condition(tokens, mask, pooled, view)
        mu_q, logvar_q = self.encode(image, hole, cond)
        z = mu_q + torch.randn_like(mu_q) * (0.5 * logvar_q).exp()
        return self.decode(z, cond), (mu_q, logvar_q), self.prior(cond)
