"""Pure image operations: PIL in, PIL out (or uint8 numpy inside). No torch unless a step runs a network.

    from studio.edits import Adjustments, Recipe, EditHistory, Provenance, read_metadata
    from studio.edits import PRESETS, check, fix, product_mask, replace_background, transfer, look
    from studio.edits.export import export          # the submodules keep their names: `export`, `repair`
    from studio.edits.repair import repair
"""

from .adjust import RANGES, Adjustments
from .background import Backdrop, Shadow, replace_background
from .export import Provenance, read_metadata
from .geometry import crop_to_aspect, flip, resize, rotate
from .mask import feather, limit_to_region, product_box, product_mask
from .presets import PRESETS, Preset, Violation, check, fix
from .recipe import OPERATIONS, EditHistory, Preview, Recipe, downscale
from .style import LOOKS, ColorStats, look, transfer

__all__ = ["Adjustments", "Backdrop", "ColorStats", "EditHistory", "LOOKS", "OPERATIONS", "PRESETS", "Preset",
           "Preview", "Provenance", "RANGES", "Recipe", "Shadow", "Violation", "check", "crop_to_aspect", "downscale",
           "feather", "fix", "flip", "limit_to_region", "look", "product_box", "product_mask", "read_metadata",
           "replace_background", "resize", "rotate", "transfer"]
