#!/usr/bin/env bash
# Issue 18's fourth cut-out leg (2026-12-07, not shipped; weights/cutout's card has its numbers): the shipped
# weights trained 3,000 more steps with the third leg's flags and a wider training backdrop pool (the desktop-
# wallpaper packages: `--wallpapers`); about an hour on 2 cores, then its card. Recipe: scripts/cutout_leg.sh.
#   bash scripts/cutout_wide.sh [steps] [extra train flags...]
exec bash "$(dirname "$0")/cutout_leg.sh" wide "${1:-3000}" --wallpapers "${@:2}"
