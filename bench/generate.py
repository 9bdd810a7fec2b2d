"""Generation latency on this CPU: 8 images at the shipped size, text encoding included and alone.

    .venv/bin/python bench/generate.py [weights/gan-fashion]

Uses the shipped generator's config (the weights do not change the timing; an untrained network of the
same shape is used when no folder exists). Every timed call encodes a prompt never seen before, so the
text LRU never helps. Issue 4's goal: 8 images <= 150 ms on 2 CPU cores, text included.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._common import best_of, report  # noqa: E402
from studio.models.gan import Generator  # noqa: E402
from studio.text import TextEncoder  # noqa: E402


def main(folder: str = "weights/gan-fashion") -> None:
    torch.manual_seed(0)
    if (Path(folder) / "generator" / "config.json").is_file():
        G = Generator.from_pretrained(folder, subfolder="generator").eval()
    else:
        G = Generator().eval()
        print(f"(no {folder}: timing an untrained generator of the default shape)")
    config = G.config
    encoder = TextEncoder(lru_size=0)
    encoder.encode(["warm-up prompt"])
    counter = itertools.count()
    z = torch.randn(8, config.z_dim)

    @torch.inference_mode()
    def forward_only():
        text = encoder_cache
        G(z, *(t.expand(8, *t.shape[1:]) for t in (text.tokens, text.mask, text.pooled)))

    @torch.inference_mode()
    def with_text():
        text = encoder.encode([f"a red sneaker number {next(counter)} on a white background"])
        G(z, *(t.expand(8, *t.shape[1:]) for t in (text.tokens, text.mask, text.pooled)))

    encoder_cache = encoder.encode(["navy ankle boot on a cream background"])
    forward = best_of(forward_only, repeat=20, warmup=3)
    full = best_of(with_text, repeat=20, warmup=3)
    text = best_of(lambda: encoder.encode([f"a blue bag variant {next(counter)}"]), repeat=20, warmup=3)
    report(f"gan_{config.size}px_8_images_with_text", full, forward)
    report("text_encode_1_prompt", text, forward)


if __name__ == "__main__":
    main(*sys.argv[1:])
