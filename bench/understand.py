"""Reading one prompt (studio/understand.py: USE multilingual encode + the heads + the canonical prompt),
against the baseline every generation already pays: MiniLM encoding the same prompt. Goal: <= 30 ms."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._common import best_of, report  # noqa: E402
from studio.checkpoints import WEIGHTS_DIR  # noqa: E402
from studio.text import TextEncoder  # noqa: E402
from studio.understand import PromptReader  # noqa: E402


def main() -> None:
    if not (WEIGHTS_DIR / "understand" / "config.json").is_file():
        print("(no weights/understand: nothing to time)")
        return
    reader, encoder = PromptReader(), TextEncoder(lru_size=0)
    counter = itertools.count()
    prompts = ("a red sneaker number {} on a white background", "白色背景上的红色运动鞋 {}")
    for name, prompt in zip(("understand_1_prompt_en", "understand_1_prompt_zh"), prompts):
        read = best_of(lambda: reader.read(prompt.format(next(counter))), repeat=30, warmup=3)
        minilm = best_of(lambda: encoder.encode([prompt.format(next(counter))]), repeat=30, warmup=3)
        report(name, read, minilm)


if __name__ == "__main__":
    main()
