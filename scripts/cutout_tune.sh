#!/usr/bin/env bash
# Issue 18's third cut-out leg (2026-12-07, shipped): the second leg's weights trained 7,000 more steps with the
# whole encoder unfrozen, a heavier loss on the edge band and busy backgrounds drawn more often (about 4 hours
# on 2 cores), then its card; scripts/cutout_leg.sh holds the recipe.
#   bash scripts/cutout_tune.sh [steps] [extra train flags...]
exec bash "$(dirname "$0")/cutout_leg.sh" tune "${1:-7000}" "${@:2}"
