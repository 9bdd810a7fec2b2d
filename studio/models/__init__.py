"""Networks, one per file, forward only; each a diffusers ModelMixin + ConfigMixin, so
`Class.from_pretrained(folder)` and `save_pretrained(folder)` work as a diffusers user expects."""

from __future__ import annotations

from .evaluator import AttributeEvaluator
from .gan import Discriminator, Generator
from .prompt_heads import PromptHeads
from .vae import ConditionalVAE

__all__ = ["AttributeEvaluator", "ConditionalVAE", "Discriminator", "Generator", "PromptHeads"]
