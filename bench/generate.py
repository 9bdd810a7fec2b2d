"""Generation latency on this CPU: 8 images at the shipped size through each shipped generator's pipeline,
text encoding included, against the VAE of the same catalog in the same run.

    .venv/bin/python bench/generate.py                     # every generator folder in weights/
    .venv/bin/python bench/generate.py weights/gan-fashion weights/vae-fashion

Every timed call encodes a prompt never seen before, so the text LRU never helps. A diffusion model is timed
at 10 and 20 solver steps with its own default guidance and guidance interval (both in its model_index.json), and
at 20 with the backdrop prompt composed in (what the app runs for a prompt naming a product colour and a backdrop),
the VAE of its catalog beside it. Goals: issue 15, 8 images <= 50 ms on 2 CPU cores, text included; issue 16, 8
diffusion images at 20 steps <= 3 s.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._common import best_of, report  # noqa: E402
from studio.checkpoints import WEIGHTS_DIR  # noqa: E402
from studio.pipelines import folder_catalog, is_generator, open_pipeline  # noqa: E402
from studio.text import TextEncoder  # noqa: E402


def main(*folders: str) -> None:
    torch.manual_seed(0)
    folders = [Path(f) for f in folders] or [f for f in sorted(WEIGHTS_DIR.iterdir()) if is_generator(f)]
    if not folders:
        print("no generator folder to time")
        return
    encoder = TextEncoder(lru_size=0)
    encoder.encode(["warm-up prompt"])
    counter = itertools.count()
    pipes = {f: open_pipeline(f, encoder=encoder) for f in folders}

    def timed(pipe, repeat: int = 20, composed: bool = False, **settings) -> float:
        def call():
            k = next(counter)
            parts = {"parts": [f"a sneaker number {k} on a white background"]} if composed else {}
            return pipe(f"a red sneaker number {k} on a white background", num_images=8, seed=1, **settings, **parts)

        return best_of(call, repeat=repeat, warmup=min(3, repeat))

    def rows(pipe) -> list[dict]:
        """The settings each folder is timed at: one pass, or 10 and 20 solver steps for diffusion, and 20
        with the backdrop prompt composed in as the app does (one more prompt in each step's batch)."""
        if "steps" not in pipe.settings:
            return [{}]
        return [{"steps": 10}, {"steps": 20}] + ([{"steps": 20, "composed": True}] if pipe.composes else [])

    times = {(f, i): timed(p, 5 if settings else 20, **settings)
             for f, p in pipes.items() for i, settings in enumerate(rows(p))}
    for folder, pipe in pipes.items():
        catalog = folder_catalog(folder)
        # the baseline: the VAE of the same catalog (timed in this run), else the folder itself
        vae = next((f for f, p in pipes.items() if p.family == "vae" and folder_catalog(f) == catalog), None)
        for i, settings in enumerate(rows(pipe)):
            steps = (f"_{settings['steps']}_steps" if settings else "") + ("_composed" if settings.get("composed") else "")
            report(f"{folder.name}_{pipe.size}px_8_images{steps}_with_text", times[(folder, i)],
                   times[(vae, 0)] if vae else times[(folder, i)])
    text = best_of(lambda: encoder.encode([f"a blue bag variant {next(counter)}"]), repeat=20, warmup=3)
    report("text_encode_1_prompt", text, min(times.values()))


if __name__ == "__main__":
    main(*sys.argv[1:])
