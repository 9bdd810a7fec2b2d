"""Networks, one per file, forward only. MODELS maps a saved folder's `kind` to (class, config class)."""

from __future__ import annotations

from .evaluator import AttributeEvaluator, EvaluatorConfig
from .gan import GANConfig, Generator

MODELS: dict[str, tuple[type, type]] = {
    "evaluator": (AttributeEvaluator, EvaluatorConfig),
    "gan": (Generator, GANConfig),
}

__all__ = ["MODELS", "AttributeEvaluator", "EvaluatorConfig", "GANConfig", "Generator"]
