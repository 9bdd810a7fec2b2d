#!/usr/bin/env bash
# Issue 18's fourth cut-out leg, on this 2-core CPU (about 100 min, then a 10-min card): the shipped cut-out
# trained 3,000 more steps with the third leg's flags and one change, a wider training backdrop pool (the
# desktop-wallpaper packages' photos and artwork: `--wallpapers`, studio/data/composites.py); the held-out
# backdrops are unchanged. Everything goes to runs/; ship runs/cutout-wide-out only by the rule written before
# it trained (runs/cutout-wide-rule.txt, checked with runs/cutout_rule_check.py).
#   bash scripts/cutout_wide.sh [steps] [extra train flags...]
# Run it again after a stop: a cut leg resumes from its saved state (every 200 steps).
set -euo pipefail
steps="${1:-3000}"
shift || true
source "$(dirname "$0")/training_env.sh"

"$py" -m studio data cutout-objects                      # skipped when the banks are current
stamp objects
mkdir -p runs/cutout-wide
until [ -f runs/cutout-wide/DONE ]; do                   # legs of up to 110 min until the steps are done
  resume=()
  [ -d runs/cutout-wide/state ] && resume=(--resume)
  "$py" -m studio train cutout --catalog composites --steps "$steps" --lr 0.0003 --tune-from 0 \
    --boundary-weight 2 --background-shares 0.45,0.2,0.05,0.05,0.25 --wallpapers --init-from weights/cutout \
    --max-minutes 110 --out runs/cutout-wide-out --runs runs/cutout-wide "${resume[@]}" "$@" 2>&1 | tee runs/cutout-wide/leg.log
  grep -q "time budget" runs/cutout-wide/leg.log || touch runs/cutout-wide/DONE
done
stamp trained
"$py" -m studio card runs/cutout-wide-out
stamp carded
