"""Choose between fashion generators without looking at the test images.

    python -m studio eval validate --model weights/diffusion-fashion --model runs/diffusion-w48-out

Every model is scored on the same validation set, in one run: a prompt suite built with its own seed (not
the visible suite's), real images of the **validation** split as the reference and the ceiling, and swap
pairs that come after the test's in the swap test's order (so the two never share a pair). Prompts are read
by studio.understand first, as the app reads them. The rule for a training leg is fixed before it runs: ship
it if it is better here; the test suite (`eval generate`, `eval swap`) then only describes the model shipped.
"""

from __future__ import annotations

import sys
from typing import Callable

from .generate import UnderstoodSampler, evaluate_generation, open_sampler
from .judge import Judge, default_evaluator
from .prompts import build_fashion_suite
from .swap import swap_pairs, swap_test

SUITE_SEED = 1          # the visible suite is built with seed 0
SUITE_PROMPTS = 100
TEST_SWAP_PAIRS = 50    # `eval swap`'s default: the validation pairs start after these
SWAP_PAIRS = 30
COLUMNS = ("all", "category", "color", "background", "swap", "fd_evaluator", "diversity")


def validation_suite(n: int = SUITE_PROMPTS):
    return build_fashion_suite(n=n, seed=SUITE_SEED)


def validation_pairs(n: int = SWAP_PAIRS):
    pairs = swap_pairs(n, seed=0, skip=TEST_SWAP_PAIRS)
    if len(pairs) < n:
        raise ValueError(f"only {len(pairs)} swap pairs are left after the test's {TEST_SWAP_PAIRS}, not {n}")
    return pairs


def validate(models: list[str], per_prompt: int = 8, prompts: int = SUITE_PROMPTS, pairs: int = SWAP_PAIRS,
             seed: int = 0, device: str = "cpu", reader=None, memorization_reference: int | None = None,
             guidance: tuple[float | None, ...] = (None,),
             log: Callable[[str], None] = lambda m: print(m, file=sys.stderr)) -> dict[str, dict]:
    """Per model (and `real validation images`): the COLUMNS, in one run, with one judge and reading.
    guidance: a row per model and scale for the models that take one (None: the model's own default)."""
    if not models:
        raise ValueError("name at least one model to validate")
    if reader is None:
        from ..understand import PromptReader

        reader = PromptReader(device=device)
    judge = Judge(default_evaluator("fashion"), device=device)
    specs, swap_set = validation_suite(prompts), validation_pairs(pairs)
    rows: dict[str, dict] = {}
    for model in models:
        for scale in guidance:
            name = model if scale is None else f"{model} (guidance {scale:g})"
            sampler = UnderstoodSampler(open_sampler(model, device=device, settings={"guidance": scale}), reader)
            result = evaluate_generation(sampler, specs, per_prompt, seed, judge, log=log, split="val",
                                         memorization_reference=memorization_reference)
            swap = swap_test(sampler, judge, swap_set, seed=seed)
            rows[name] = _row(result, swap["swap_accuracy"])
            rows.setdefault("real validation images", _row(result["real_reference"], None))
            log(f"{name}: " + ", ".join(f"{k} {_cell(k, v)}" for k, v in rows[name].items()))
    return rows


def _row(result: dict, swap: float | None) -> dict:
    accuracy = result["attribute_accuracy"]
    return {"all": accuracy["all"], "category": accuracy["category"], "color": accuracy["color"],
            "background": accuracy["background"], "swap": swap, "fd_evaluator": result["fd_evaluator"],
            "diversity": result["diversity"]}


def _cell(column: str, value) -> str:
    if value is None:
        return ""
    return f"{value:.2f}" if column in ("fd_evaluator", "diversity") else f"{100 * value:.1f}%"


def markdown_table(rows: dict[str, dict]) -> str:
    lines = ["| validation split | " + " | ".join(COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    for name, row in rows.items():
        lines.append(f"| {name} | " + " | ".join(_cell(c, row[c]) for c in COLUMNS) + " |")
    return "\n".join(lines)
