"""Product Image Studio: text-to-product-image generation, editing and review for merchants.

Public API (importing `studio` loads no model and no torch):

    from studio import load_image, TextEncoder, Recipe, export_image, read_metadata
    from studio import open_pipeline            # any generator folder: pipe(prompt, num_images=4, seed=1)
    from studio.data import open_catalog
"""

from .images import ImageLoadError, fit, flatten, load_image, to_pil, to_tensor
from .text import TextEncoder, TextEncoding

__version__ = "0.1.0"


_LAZY = {"Studio": ("studio", "Studio"), "Recipe": ("edits.recipe", "Recipe"),
         "EditHistory": ("edits.recipe", "EditHistory"), "Provenance": ("edits.export", "Provenance"),
         "export_image": ("edits.export", "export"), "read_metadata": ("edits.export", "read_metadata"),
         "open_pipeline": ("pipelines", "open_pipeline"), "GenerationOutput": ("pipelines", "GenerationOutput")}


def __getattr__(name: str):
    # Studio pulls in torch and the models, the editing engine OpenCV: imported on first use, not with the package.
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(f".{module}", __name__), attribute)
    raise AttributeError(f"module 'studio' has no attribute {name!r}")

__all__ = ["EditHistory", "GenerationOutput", "ImageLoadError", "Provenance", "Recipe", "Studio", "TextEncoder",
           "TextEncoding", "export_image", "fit", "flatten", "load_image", "open_pipeline", "read_metadata", "to_pil",
           "to_tensor"]
