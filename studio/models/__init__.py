"""Networks, one per file, forward only. MODELS maps a saved folder's `kind` to (class, config class)."""

from __future__ import annotations

from .evaluator import AttributeEvaluator, EvaluatorConfig
from .gan import GANConfig, Generator
from .vae import ConditionalVAE, VAEConfig

MODELS: dict[str, tuple[type, type]] = {
    "evaluator": (AttributeEvaluator, EvaluatorConfig),
    "gan": (Generator, GANConfig),
    "vae": (ConditionalVAE, VAEConfig),
}

__all__ = ["MODELS", "AttributeEvaluator", "ConditionalVAE", "EvaluatorConfig", "GANConfig", "Generator",
           "VAEConfig"]
