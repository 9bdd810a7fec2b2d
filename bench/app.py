"""The app as a merchant's browser sees it: timings through gradio_client against a local server.

    .venv/bin/python bench/app.py

Lines (`name: value (baseline value, ratio)`):
- generate_8: /generate for 8 variants, end to end through the server, against the same
  Studio.generate call in-process (the ratio is the app's overhead).
- slider_preview_2000: one slider step's preview round trip after uploading a 2000x2000 photo
  (goal: median <= 150 ms on 2 cores), against rendering that preview in-process.
- concurrent_generate_8_clients: 8 clients asking for 8 variants at the same moment, wall time until all
  are answered, against 8 sequential calls; errors are counted and must be 0.
The generator is the first one in weights/, or, when none is shipped, a randomly initialised GAN of the
default 32 px configuration (the same network cost as a trained one); the line says which.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


from bench._common import best_of, report  # noqa: E402
from bench.edits import photo  # noqa: E402

PROMPT = "navy ankle boot on a cream background"


def weights_folder(scratch: Path) -> tuple[Path, str]:
    from studio import Studio

    shipped = Studio("weights").models()
    if shipped:
        return Path("weights"), f"shipped {shipped[0]}"
    import torch

    from studio.models.gan import Generator
    from studio.pipelines import GANPipeline

    torch.manual_seed(0)
    generator = Generator()
    GANPipeline(generator).save_pretrained(str(scratch / "gan-random"))
    return scratch, f"random-init {generator.config.size} px GAN (no generator shipped)"


def median_ms(fn, repeat: int) -> float:
    return best_of(fn, repeat=repeat, warmup=0)          # the callers warm up themselves


def main() -> None:
    from gradio_client import Client, handle_file

    from app import build_demo
    from studio import Studio
    from studio.edits.recipe import Preview
    from studio.review import Board
    from studio.runtime import tune_allocator

    tune_allocator()                                      # as app.main does

    scratch = Path(tempfile.mkdtemp(prefix="bench-app-"))
    weights, which = weights_folder(scratch)
    studio = Studio(weights)
    model = studio.models()[0]
    demo = build_demo(studio, Board(scratch / "data"), scratch / "exports")
    demo.queue(max_size=64)
    _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, run_history=False)
    print(f"generator: {which}")
    try:
        client = Client(url, verbose=False, analytics_enabled=False, download_files=str(scratch / "dl"))
        call = lambda: client.predict(PROMPT, model, 8, 1, False, 1.0, api_name="/generate")  # noqa: E731
        call()
        direct = lambda: studio.generate(PROMPT, n=8, seed=1, model=model)  # noqa: E731
        direct()
        report("generate_8", median_ms(call, 7), median_ms(direct, 7))

        upload = scratch / "upload.jpg"
        big = photo(2000, 2000)
        big.save(upload, quality=92)
        client.predict(handle_file(str(upload)), api_name="/open_upload")
        values = [1.0, 1.0, 1.0, 1.0, 0.0, 1.0]

        def slide():
            values[0] = 1.3 if values[0] == 1.0 else 1.0
            client.predict(*values, api_name="/live_preview")

        slide()
        preview = Preview.of(big)
        from studio.edits.recipe import Recipe

        local = lambda: preview.render(Recipe.from_json([{"op": "adjust", "brightness": 1.3}]))  # noqa: E731
        report("slider_preview_2000", median_ms(slide, 21), median_ms(local, 21))

        errors: list[str] = []
        clients = [Client(url, verbose=False, analytics_enabled=False, download_files=str(scratch / f"c{i}"))
                   for i in range(8)]

        def one(c):
            try:
                gallery = c.predict(PROMPT, model, 8, 2, False, 1.0, api_name="/generate")[0]
                if len(gallery) != 8:
                    errors.append(f"got {len(gallery)} images")
            except Exception as exc:            # counted and printed: the bench reports, it does not stop
                errors.append(repr(exc))

        start = time.perf_counter()
        threads = [threading.Thread(target=one, args=(c,)) for c in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        together = (time.perf_counter() - start) * 1000
        start = time.perf_counter()
        for _ in range(8):
            call()
        sequential = (time.perf_counter() - start) * 1000
        report("concurrent_generate_8_clients", together, sequential)
        print(f"concurrent_generate_8_clients errors: {len(errors)}" + (f" ({errors[0]})" if errors else ""))
        for c in clients:
            c.close()
        client.close()
    finally:
        demo.close()


if __name__ == "__main__":
    main()
