#!/usr/bin/env bash
# The GPU leg of issue 15, for a lent GPU (<= 10 minutes a command): the same VAE-GAN recipe, larger
# (batch 128, a wider discriminator), started from the shipped VAE, written to runs/gpu/ and measured by
# the same card generator. Ship it (copy to weights/gan-<catalog>) only if its card beats the CPU one.
#   bash scripts/gpu_leg.sh [fashion|furniture] [minutes]
set -euo pipefail
catalog="${1:-fashion}"
minutes="${2:-7}"
py="${PYTHON:-.venv/bin/python}"
export HF_HUB_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False
"$py" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'no CUDA device here')"
out="runs/gpu/gan-$catalog"
"$py" -m studio train vaegan --catalog "$catalog" --batch-size 128 --d-width 48 --lr-g 2e-4 --lr-d 4e-4 \
  --steps 20000 --max-minutes "$minutes" --save-every 1000 --out "$out" --runs "runs/gpu/state-$catalog"
"$py" -m studio card "$out" --device cuda --repair-n 200 --json runs/gpu-eval.json
# on the device machine, what is written under $OUT comes back
if [ -n "${OUT:-}" ]; then cp -r "$out" runs/gpu-eval.json "$OUT/"; fi
