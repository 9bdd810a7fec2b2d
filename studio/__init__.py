"""Product Image Studio: text-to-product-image generation, editing and review for merchants.

Public API (importing `studio` loads no model and no torch):

    from studio import load_image, TextEncoder
    from studio.data import open_catalog
"""

from .images import ImageLoadError, fit, flatten, load_image, to_pil, to_tensor
from .text import TextEncoder, TextEncoding

__version__ = "0.1.0"


def __getattr__(name: str):
    # Studio pulls in torch and the models: imported on first use, not with the package.
    if name == "Studio":
        from .studio import Studio

        return Studio
    raise AttributeError(f"module 'studio' has no attribute {name!r}")

__all__ = ["ImageLoadError", "Studio", "TextEncoder", "TextEncoding", "fit", "flatten", "load_image", "to_pil",
           "to_tensor"]
