"""What every room of the app shares: the context (studio, board, saved sessions, output folder), the one
place errors become messages, the check that a file really arrived through Gradio's upload, and display copies.
"""

from __future__ import annotations

import functools
import html
import logging
import shutil
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import gradio as gr
import numpy as np
from gradio import utils as gradio_utils
from PIL import Image

from studio.edits.export import export as export_file
from studio.edits.session import EditSession, SessionStore
from studio.images import ImageLoadError
from studio.messages import NOT_DONE, language_of, localise
from studio.review import BoardError

log = logging.getLogger("studio.app")
NOT_UPLOADED = "only files uploaded to this app can be used; upload the image again"
NO_IMAGE = "upload a photo or pick a variant first"
INTERNAL = "something went wrong on our side while doing that; please try again"
NO_MEMORY = "that request needs more memory than this server has; try a smaller image"
PREVIEW_SIDE = 384


@dataclass
class Context:
    """The app's shared pieces; the rooms (generate, edit, board, api) read what they need from it."""
    studio: object
    board: object
    sessions: SessionStore
    exports: Path
    verified_names: bool = False                 # reviewers signed in (--auth/--auth-file): names are real
    methods: object = None                       # the studio's repair methods (RepairMethods)
    upscalers: object = None                     # ... and its upscalers (Upscalers)
    components: dict = field(default_factory=dict)
    _started: OrderedDict = field(default_factory=OrderedDict)     # tabs (Gradio sessions) that opened a photo
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def mark_started(self, request) -> None:
        """This tab opened a photo itself: a slower page-load restore must not replace it."""
        tab = getattr(request, "session_hash", None)
        if tab:
            with self._lock:
                self._started[tab] = True
                while len(self._started) > 10_000:
                    self._started.popitem(last=False)

    def has_started(self, request) -> bool:
        with self._lock:
            return getattr(request, "session_hash", None) in self._started

    def out_folder(self) -> Path:
        """A fresh folder per request; folders older than an hour go (downloads are fetched at once)."""
        cutoff = time.time() - 3600
        for old in self.exports.iterdir():
            if old.is_dir() and old.stat().st_mtime < cutoff:
                shutil.rmtree(old, ignore_errors=True)
        folder = self.exports / uuid.uuid4().hex[:10]
        folder.mkdir(parents=True)
        return folder

    def as_files(self, images_with_captions, provenances=None) -> list[tuple[str, str]]:
        """Gallery items as PNG files we wrote (with provenance), not PIL images: Gradio copies files into
        its cache atomically, while PIL outputs are rewritten in place, so two users receiving the same
        pixels at the same moment could be served a half-written file."""
        folder = self.out_folder()
        shown = []
        for i, (image, caption) in enumerate(images_with_captions):
            made = provenances[i] if provenances else None
            path = export_file(image, folder / f"{i:02d}.png", provenance=made, sidecar=False)
            shown.append((str(path), caption))
        return shown

    def session(self, browser_id) -> EditSession:
        current = self.sessions.get(browser_id)
        if current is None:
            raise ValueError(NO_IMAGE)
        return current


def user_language(args, kwargs) -> str:
    """The merchant's language for this request: Chinese when any text argument has Chinese characters
    (studio.messages.language_of) or, failing that, when the browser asks for Chinese first (its
    Accept-Language header, as Gradio's own labels follow the browser's locale); else English."""
    typed = language_of(*args, *kwargs.values())
    return typed if typed != "en" else browser_language(_current_request())


def _current_request():
    """The HTTP request of the event being handled (Gradio keeps it for gr.Warning and gr.Progress), if any."""
    try:
        from gradio.context import LocalContext

        return LocalContext.request.get(None)
    except (ImportError, AttributeError, LookupError):
        return None


def browser_language(request) -> str:
    """'zh' when the request's Accept-Language puts a Chinese tag first (by its q-value), else 'en'."""
    try:
        header = str(request.headers.get("accept-language", "")) if request is not None else ""
    except (AttributeError, TypeError):
        return "en"
    ranked = []
    for k, part in enumerate(header[:200].split(",")):
        tag, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            weight = 0.0
        ranked.append((-weight, k, tag.strip().lower()))
    first = min(ranked, default=(0, 0, ""))[2]
    return "zh" if first == "zh" or first.startswith("zh-") else "en"


def friendly(fn):
    """The one place errors become messages in the page: a user's mistake is one log line and its message;
    anything else is logged with its traceback on the server and shown as a neutral sentence. Either is in
    the merchant's language (user_language, studio.messages)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except (ValueError, ImageLoadError, BoardError) as exc:
            log.info("refused %s: %s", fn.__name__, str(exc)[:200])
            message = localise(str(exc)[:500], user_language(args, kwargs))
        except MemoryError:
            log.warning("out of memory in %s", fn.__name__)
            message = localise(NO_MEMORY, user_language(args, kwargs))
        except Exception:                                   # noqa: BLE001 - the user sees no internals
            log.exception("failed: %s", fn.__name__)
            message = localise(INTERNAL, user_language(args, kwargs))
        # the modal renders HTML, and messages quote what the user typed
        raise gr.Error(html.escape(message), print_exception=False)
    return wrapper


def keeping(count: int):
    """`friendly` for a page's own controls: a refusal is a warning toast and every output keeps what it
    showed (gr.skip), instead of Gradio's red "Error" over each of the event's `count` outputs. The
    scriptable endpoints raise instead, so a script gets the message as an exception."""
    def decorate(fn):
        guarded = friendly(fn)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            try:
                return guarded(*args, **kwargs)
            except gr.Error as exc:
                gr.Warning(exc.message, duration=12, title=NOT_DONE[user_language(args, kwargs)])
                return None if count == 0 else gr.skip() if count == 1 else tuple(gr.skip() for _ in range(count))
        return wrapper
    return decorate


def uploaded(file, demo: gr.Blocks) -> str:
    """The server path of a file that arrived through Gradio's upload, else ValueError.

    Gradio's rule for inputs is that a file is usable only when it lies in its upload folder (its
    preprocessing applies `is_allowed_file` with the upload folder as the only created path and the
    launch's blocked_paths). The scriptable endpoints are `gr.api` functions, which Gradio does not
    preprocess, so the same rule is applied here; a bare path string is never taken.
    """
    if file is None:
        raise ValueError("no file was given")
    if isinstance(file, dict):
        path = file.get("path")
    else:
        path = getattr(file, "path", None)
    if not isinstance(path, str) or not path or "\x00" in path:
        raise ValueError(NOT_UPLOADED)
    absolute = gradio_utils.abspath(path)
    allowed, _ = gradio_utils.is_allowed_file(absolute, blocked_paths=demo.blocked_paths or [], allowed_paths=[],
                                              created_paths=[gradio_utils.get_upload_folder()])
    if not allowed or not absolute.is_file():
        raise ValueError(NOT_UPLOADED)
    return str(absolute)


def plain(**named) -> None:
    """Arguments that are text, numbers or flags must be just that: an object or a list (a FileData sent
    where text belongs, say) is refused before any message could quote it back with a server path inside."""
    for what, value in named.items():
        if isinstance(value, (dict, list, tuple)):
            raise ValueError(f"{what} must be text or a number, not a list or an object")


def explained(component, what: str):
    """A component whose own input check (Gradio's preprocessing, which answers a raw-HTTP `seed: "abc"`
    with an error that has no message) says instead which value is wrong and what it should be."""
    check = component.preprocess

    @functools.wraps(check)
    def preprocess(payload):
        try:
            return check(payload)
        except gr.Error:
            raise
        except (TypeError, ValueError, OverflowError):
            raise gr.Error(f"{what} must be {'a number' if payload is not None else 'given'}", print_exception=False
                           ) from None
    component.preprocess = preprocess
    return component


def checkerboard(size: tuple[int, int], cell: int = 8) -> Image.Image:
    yy, xx = np.mgrid[:size[1], :size[0]]
    light = ((yy // cell + xx // cell) % 2 == 0)
    return Image.fromarray(np.where(light, 255, 204).astype(np.uint8), "L").convert("RGB")


def display(image: Image.Image, side: int = 256) -> Image.Image:
    """A copy to show: small generated images enlarged, transparency over a checkerboard (RGB, so any
    format can carry it). The image itself is never changed."""
    if max(image.size) < side:
        scale = side / max(image.size)
        image = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)
    if image.mode == "RGBA":
        board = checkerboard(image.size)
        board.paste(image, mask=image.getchannel("A"))
        return board
    return image
