"""What a furniture item is, from its name: Sweet Home 3D files items by room ("Living room",
"Miscellaneous"), which says where a thing stands, not what it is. These rules read the item's name (then its
tags) and give one class; the first rule whose words match wins, so the order matters ("glass door cabinet"
is a cabinet, "desk lamp" a lamp, "bedside table" a table, "armchair" not a chair). Every item gets a class:
"other" takes what no rule names (toys, tools, clothes, food, signs, ...).

    python -m studio data stats --catalog furniture-views    # the count per class

Words match whole words, case-insensitively, with a plural "s" allowed.
"""

from __future__ import annotations

import re

# (class, words): data, not code. Order = precedence.
RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    # names a later, broader rule would misfile
    ("other", ("table tennis", "football table", "pool table", "abdominal bench", "clothes horse", "indoor bike",
               "cake", "helmet", "glove")),
    ("appliance", ("table fan", "chest freezer")),
    ("tableware", ("knife stand",)),
    ("lamp", ("lamp", "light", "lantern", "chandelier", "candle", "lamppost", "spotlight", "flashlight",
              "fluorescent")),
    ("electrical fitting", ("plug", "switch", "socket", "dimmer")),
    ("vehicle", ("car", "sedan", "bus", "truck", "van", "suv", "scooter", "bike", "bicycle", "tricycle",
                 "motorbike", "skateboard", "stroller", "chevrolet", "ford", "peugeot", "renault", "leon",
                 "beetle", "yamaha", "lift", "rowboat", "wheelchair", "peterbilt")),
    ("armchair", ("armchair", "ottoman", "puff")),
    ("sofa", ("sofa", "couch", "futon")),
    ("bed", ("bed", "crib", "mattress", "hammock")),
    ("bathroom fixture", ("toilet", "toilets", "bath", "bathtub", "washbasin", "basin", "lavatory", "shower",
                          "bidet", "urinal", "sink", "jacuzzi", "potty")),
    ("cabinet", ("cabinet", "wardrobe", "cupboard", "dresser", "chest", "vanity", "locker", "safe", "island",
                 "drawers")),
    ("shelf", ("shelf", "shelves", "bookcase", "rack")),
    ("table", ("table", "desk", "workbench", "stand")),
    ("chair", ("chair", "stool", "bench", "seat")),
    ("door", ("door", "elevator")),
    ("window", ("window", "shutter", "blind")),
    ("appliance", ("fridge", "refrigerator", "freezer", "oven", "stove", "cooker", "cooktop", "microwave",
                   "washing", "dryer", "toaster", "blender", "mixer", "kettle", "machine", "maker", "brewer",
                   "hood", "fryer", "boiler", "heater", "furnace", "radiator", "fan", "conditioning", "cooler",
                   "grinder", "press", "scale", "squeezer", "grill")),
    ("electronics", ("tv", "television", "screen", "laptop", "ibook", "imac", "phone", "iphone", "tablet",
                     "camera", "cctv", "speaker", "stereo", "radio", "mp3", "dvd", "projector", "playstation",
                     "joystick", "keyboard", "headphones", "printer", "intercom", "amplifier")),
    ("plant", ("plant", "tree", "flowers", "tulips", "orchids", "lily", "bamboo", "cactus", "ficus", "yucca",
               "hedge", "bush", "pine", "palm", "maple", "cypress", "poplar", "acacia", "bonsai",
               "spathiphyllum", "blossom", "beech", "sycamore", "flower")),
    ("tableware", ("cup", "mug", "glass", "glasses", "bowl", "plate", "bottle", "jar", "teapot", "creamer",
                   "pot", "tray", "fork", "spoon", "knife", "cutlery", "shaker", "pan", "vase", "flacon",
                   "pottery", "servers")),
)
OTHER = "other"
CLASSES: tuple[str, ...] = tuple(dict.fromkeys(name for name, _ in RULES if name != OTHER)) + (OTHER,)

_PATTERNS = [(name, re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")s?\b", re.IGNORECASE))
             for name, words in RULES]


def item_class(name: str, tags: tuple[str, ...] = ()) -> str:
    """The class of an item from its name, else its tags, else "other"."""
    for text in (name, " ".join(tags)):
        for label, pattern in _PATTERNS:
            if pattern.search(text):
                return label
    return OTHER
