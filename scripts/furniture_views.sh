#!/usr/bin/env bash
# Issue 17's multi-view generator from nothing, on this 2-core CPU (about 140 minutes in all): the renders,
# the 32 px diffusion network (from weights/diffusion-fashion), the x2 stage learned on the renders, the
# cascade, and its card measured on the held-out items (furniture-views-test). Everything goes to runs/;
# nothing reaches weights/ from here: ship the cascade (copy runs/diffusion-furniture-views to
# weights/) only by a rule written down before its card is read.
#   bash scripts/furniture_views.sh [steps] [extra diffusion flags...]
#   bash scripts/furniture_views.sh 5000 --label-embeddings
# Each stage is skipped when its output is already there, so the script can be run again after a stop
# (a diffusion leg cut by its time budget resumes with --resume by hand).
set -euo pipefail
steps="${1:-5000}"
shift || true
source "$(dirname "$0")/training_env.sh"

[ -f runs/views/views-64.json ] || "$py" -m studio data render --size 64
stamp rendered
if [ ! -f runs/diffusion-fv-out/model_index.json ]; then
  "$py" -m studio train diffusion --catalog furniture-views --size 32 --width 48 \
    --init-from weights/diffusion-fashion --steps "$steps" --batch-size 32 --lr 0.0002 --seed 0 \
    --max-minutes 100 --out runs/diffusion-fv-out --runs runs/diffusion-fv "$@"
fi
stamp diffusion
if [ ! -f runs/upscaler-views-out/config.json ]; then
  "$py" -m studio train upscaler --catalog furniture-views --patch 32 --scale 2 --width 32 --blocks 3 \
    --init-from weights/upscaler-x2 --steps 4000 --batch-size 32 --lr 0.0005 --seed 0 \
    --out runs/upscaler-views-out --runs runs/upscaler-views
fi
stamp upscaler
"$py" -m studio cascade runs/diffusion-fv-out --upscaler runs/upscaler-views-out --guidance 2.0 \
  --interval 1.3,100 --out runs/diffusion-furniture-views
"$py" -m studio card runs/diffusion-furniture-views --repair-n 100
stamp carded
