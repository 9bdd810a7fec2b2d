"""A look (never a criterion) at cut-outs of real photographs: scikit-image's bundled test photos (coffee
cup, rocket, cat, astronaut, motorcycle), which no composite set has; one column per cut-out folder, over a
checkerboard, and the share of each photo each folder leaves half transparent (alpha in (0.2, 0.8)).
   .venv/bin/python scripts/real_look.py runs/real-look.png weights/cutout runs/cutout-real-out"""
import os
import sys

import numpy as np
import skimage
from PIL import Image

from studio.cards import over_checkerboard
from studio.edits.cutout import cutout_alpha, open_cutout

PHOTOS = ["coffee.png", "rocket.jpg", "chelsea.png", "astronaut.png", "motorcycle_left.png"]
out, folders = sys.argv[1], sys.argv[2:]
nets = [open_cutout(f) for f in folders]
root = os.path.join(os.path.dirname(skimage.__file__), "data")
rows = []
for name in PHOTOS:
    im = Image.open(os.path.join(root, name)).convert("RGB")
    im.thumbnail((400, 400))
    rgb = np.asarray(im).astype(np.float32)
    tiles = [rgb]
    for net in nets:
        a = cutout_alpha(im, net)[..., None]
        tiles.append(over_checkerboard(rgb, a))
        print(f"{name}: {folders[len(tiles) - 2]}: alpha in (0.2, 0.8) on {((a > 0.2) & (a < 0.8)).mean():.1%}")
    rows.append(np.asarray(Image.fromarray(np.concatenate(tiles, 1).astype(np.uint8)).resize(
        (220 * len(tiles), round(220 * rgb.shape[0] / rgb.shape[1])))))
Image.fromarray(np.concatenate(rows, 0)).save(out)
