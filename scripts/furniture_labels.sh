#!/usr/bin/env bash
# Issue 17: the shipped 32 px furniture network trained further with view and backdrop label embeddings
# (`--label-embeddings`, zero at the start, so the start is the shipped network), on the multi-view catalog's
# training items; wrapped with the shipped x2 stage and the shipped sampling (guidance 2.0 on sigma [1.3, 100]),
# then carded. Everything goes to runs/; nothing reaches weights/ from here: ship only by the rule written
# before it trained (runs/fv-label-rule.txt). About 50 min of training and 40 min of card on 2 cores.
#   bash scripts/furniture_labels.sh [steps]
# Run it again after a stop: a cut leg resumes from its saved state (saved every 500 steps).
set -euo pipefail
steps="${1:-3000}"
source "$(dirname "$0")/training_env.sh"

"$py" -m studio data render --size 64                   # skipped when the cache is current
legs runs/fv-label "$py" -m studio train diffusion --catalog furniture-views --label-embeddings \
  --init-from weights/diffusion-furniture-views --width 48 --steps "$steps" --batch-size 32 --lr 0.0001 \
  --seed 4 --max-minutes 110 --out runs/fv-label-out --runs runs/fv-label
stamp trained
"$py" -m studio cascade runs/fv-label-out --upscaler weights/diffusion-furniture-views/upscaler --guidance 2.0 \
  --interval 1.3,100 --out runs/fv-label-cand
"$py" -m studio card runs/fv-label-cand --json runs/card-fv-label.json
stamp carded
