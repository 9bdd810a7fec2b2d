#!/usr/bin/env bash
# Issue 18's next cut-out leg, on this 2-core CPU (about 4 hours in all): the object banks (once), then the
# shipped cut-out trained further with its whole encoder unfrozen, a heavier loss on the edge band and busy
# backgrounds drawn more often, then its card. Everything goes to runs/; nothing reaches weights/ from here:
# ship runs/cutout-tune-out only by a rule written down before its card is read.
#   bash scripts/cutout_tune.sh [steps] [extra train flags...]
# Run it again after a stop: the banks are kept, a cut training leg resumes from its saved state.
set -euo pipefail
steps="${1:-7000}"
shift || true
source "$(dirname "$0")/training_env.sh"

"$py" -m studio data cutout-objects                      # skipped when the banks are current
stamp objects
mkdir -p runs/cutout-tune
until [ -f runs/cutout-tune/DONE ]; do                   # legs of up to 110 min until the steps are done
  resume=()
  [ -d runs/cutout-tune/state ] && resume=(--resume)
  "$py" -m studio train cutout --catalog composites --steps "$steps" --lr 0.0003 --tune-from 0 \
    --boundary-weight 2 --background-shares 0.45,0.2,0.05,0.05,0.25 --init-from weights/cutout \
    --max-minutes 110 --out runs/cutout-tune-out --runs runs/cutout-tune "${resume[@]}" "$@" 2>&1 | tee runs/cutout-tune/leg.log
  grep -q "time budget" runs/cutout-tune/leg.log || touch runs/cutout-tune/DONE
done
stamp trained
"$py" -m studio card runs/cutout-tune-out
stamp carded
