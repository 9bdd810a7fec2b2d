#!/usr/bin/env bash
# One more leg of issue 18's cut-out on this 2-core CPU: the shipped weights/cutout trained further with the
# third leg's flags plus the ones given, in resumable legs of up to 110 min, then its card. Everything goes to
# runs/cutout-NAME and runs/cutout-NAME-out; nothing reaches weights/ from here: ship only by the rule written
# before the leg trained (runs/cutout-NAME-rule.txt).
#   bash scripts/cutout_leg.sh NAME STEPS [extra train flags...]
#   bash scripts/cutout_leg.sh real 3000 --wallpapers --photo-fill 0.35 --overscale 0.1
# Run the same command again after a stop: a cut leg resumes from its saved state (every 200 steps).
set -euo pipefail
name="${1:?a name: runs/cutout-NAME}"
steps="${2:?a step count}"
shift 2
source "$(dirname "$0")/training_env.sh"

"$py" -m studio data cutout-objects                      # skipped when the banks are current
stamp objects
runs="runs/cutout-$name"
legs "$runs" "$py" -m studio train cutout --catalog composites --steps "$steps" --lr 0.0003 --tune-from 0 \
  --boundary-weight 2 --background-shares 0.45,0.2,0.05,0.05,0.25 --init-from weights/cutout \
  --max-minutes 110 --out "$runs-out" --runs "$runs" "$@"
stamp trained
"$py" -m studio card "$runs-out"
stamp carded
