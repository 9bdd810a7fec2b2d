#!/usr/bin/env bash
# The GPU leg of issues 15 and 16, for a lent GPU (<= 10 minutes a command): the same recipe as the CPU
# run, larger, written to runs/gpu/ and measured by the same card generator. Ship it (copy to
# weights/<family>-<catalog>) only if its card beats the CPU one.
#   bash scripts/gpu_leg.sh gan [fashion|furniture] [minutes]        # the VAE-GAN: batch 128, a wider D
#   bash scripts/gpu_leg.sh diffusion [fashion] [minutes]            # the UNet at twice the width, batch 256
set -euo pipefail
family="${1:-gan}"
catalog="${2:-fashion}"
minutes="${3:-7}"
py="${PYTHON:-.venv/bin/python}"
export HF_HUB_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False
"$py" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'no CUDA device here')"
out="runs/gpu/$family-$catalog"
case "$family" in
  gan)
    "$py" -m studio train vaegan --catalog "$catalog" --batch-size 128 --d-width 48 --lr-g 2e-4 --lr-d 4e-4 \
      --steps 20000 --max-minutes "$minutes" --save-every 1000 --out "$out" --runs "runs/gpu/state-$family-$catalog" ;;
  diffusion)
    # the cosine schedule is laid out for --steps: about what 7 minutes on one large GPU make at this size
    "$py" -m studio train diffusion --catalog "$catalog" --batch-size 256 --width 64 --attend-at 16 --lr 1e-3 \
      --steps 6000 --max-minutes "$minutes" --save-every 1000 --mixed-precision bf16 --out "$out" \
      --runs "runs/gpu/state-$family-$catalog" ;;
  *) echo "family must be gan or diffusion, got $family" >&2; exit 2 ;;
esac
"$py" -m studio card "$out" --device cuda --repair-n 200 --json "runs/gpu/$family-$catalog-eval.json"
# on the device machine, what is written under $OUT comes back
if [ -n "${OUT:-}" ]; then cp -r "$out" "runs/gpu/$family-$catalog-eval.json" "$OUT/"; fi
