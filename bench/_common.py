"""Benchmark conventions: every benchmark measures its baseline in the same run and prints

    name: value unit (baseline value unit, ratio)

where ratio = value / baseline (below 1 means faster than the baseline for times).
"""

from __future__ import annotations

import statistics
import time
from typing import Callable


def best_of(fn: Callable[[], object], repeat: int = 7, warmup: int = 1) -> float:
    """Median wall time of fn() in milliseconds, after warm-up calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def report(name: str, value: float, baseline: float, unit: str = "ms") -> str:
    line = f"{name}: {value:.2f} {unit} (baseline {baseline:.2f} {unit}, ratio {value / baseline:.2f})"
    print(line, flush=True)
    return line
