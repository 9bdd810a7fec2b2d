"""Headless renders of the Sweet Home 3D models: any item from any angle, on transparency, in a few ms.

    from studio.data.render import Renderer, load_model
    model = load_model(item.archive, item.model, item.rotation)      # OBJ + MTL + textures from the .sh3f zip
    image = Renderer().render(model, size=128, azimuth=45, elevation=20)   # RGBA, soft shadow included

Pieces: trimesh reads the OBJ/MTL (diffuse colours and texture images); moderngl draws them with OpenGL 3.3
on an EGL context without a display (Mesa's llvmpipe on a plain Debian machine: `libegl-mesa0`,
`libgl1-mesa-dri`). Install footprint: moderngl 5.13 + glcontext (~0.3 MB wheels) and trimesh (~0.7 MB,
numpy only); no X server.

The studio set-up: a key light, a fill from the right of the camera, ambient 0.3; every face lit from both
sides (many models have inconsistent winding). Two ways to place the key light (`light=`):
- "camera" (the default): above-left of the camera, turning with it, so every view is lit alike; the soft
  contact shadow is the model squashed straight down onto its ground plane.
- "world": fixed on the set, above the product's front-left, as when a camera walks round a product under
  studio lights. The shading and the cast shadow (the model projected onto its ground along the key light)
  then say where the camera stands, so a symmetric product's front and back views differ: what a view label
  needs (the multi-view catalog uses it).
Either shadow is drawn from the same camera, blurred and laid under the object at 30% opacity. The model's
front faces +z after its `modelRotation` (Sweet Home 3D's convention), so azimuth 0 is the front view and
azimuth 90 the view from the model's right. Images are drawn at 2x and reduced (premultiplied) for smooth
edges. The same model, size and angles give the same pixels (llvmpipe is deterministic); `seed` only
jitters the key light a little, for training variety, and 0 leaves it where it is.
"""

from __future__ import annotations

import io
import math
import posixpath
import zipfile
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageFilter

SIZES = (64, 128, 256)
SUPERSAMPLE = 2
SHADOW_OPACITY = 0.3
LIGHTS = ("camera", "world")
WORLD_KEY = (-40.0, 62.0)          # the "world" key light's azimuth and elevation in degrees (front-left, high)
FOV_DEGREES = 30.0

VERTEX = """
#version 330
uniform mat4 mvp;
uniform bool flatten;
uniform float floor_y;
uniform vec3 cast_dir;                              // towards the light that casts the shadow (y > 0)
in vec3 position;
in vec3 normal;
in vec2 uv;
out vec3 v_normal;
out vec2 v_uv;
void main() {
    vec3 p = position;
    if (flatten) p -= cast_dir * ((p.y - floor_y) / cast_dir.y);   // the shadow pass: the model laid on its ground
    gl_Position = mvp * vec4(p, 1.0);
    v_normal = normal;
    v_uv = uv;
}
"""
FRAGMENT = """
#version 330
uniform vec4 base;
uniform bool textured;
uniform sampler2D image;
uniform vec3 key;
uniform vec3 fill;
uniform vec3 eye_dir;
uniform bool shadow;
uniform bool lit;
in vec3 v_normal;
in vec2 v_uv;
out vec4 color;
void main() {
    if (shadow) { color = vec4(0.0, 0.0, 0.0, 1.0); return; }
    vec3 n = normalize(v_normal);
    if (dot(n, eye_dir) < 0.0) n = -n;            // light both sides: windings in these models vary
    float light = 0.3 + 0.6 * max(dot(n, key), 0.0) + 0.25 * max(dot(n, fill), 0.0);
    vec4 albedo = base;
    if (textured) albedo *= texture(image, v_uv);
    color = vec4(min(albedo.rgb * (lit ? light : 1.0), 1.0), 1.0);   // unlit: the surface colour itself
}
"""


class RenderUnavailable(RuntimeError):
    """No headless OpenGL here (moderngl or Mesa's EGL missing); the message says what to install."""


@dataclass(frozen=True)
class Part:
    positions: np.ndarray          # (N, 3) float32, three per triangle
    normals: np.ndarray            # (N, 3) float32
    uvs: np.ndarray | None         # (N, 2) float32, or None
    color: tuple[float, float, float, float]     # diffuse, 0..1
    texture: Image.Image | None    # RGBA, flipped to OpenGL's bottom-up rows


@dataclass(frozen=True)
class Model:
    parts: tuple[Part, ...]
    low: np.ndarray                # (3,) bounding box after rotation
    high: np.ndarray

    @property
    def triangles(self) -> int:
        return sum(len(p.positions) // 3 for p in self.parts)


@lru_cache(maxsize=1)
def _zip_resolver_class():
    """trimesh asks for the MTL and texture files by the names the OBJ uses; they live in the same zip.
    (A subclass of trimesh's Resolver, made on first use so importing this module needs no trimesh.)"""
    from trimesh.resolvers import Resolver

    class ZipMembers(Resolver):
        def __init__(self, archive: zipfile.ZipFile, folder: str):
            self.archive, self.folder = archive, folder
            self.names = {n.lower(): n for n in archive.namelist()}

        def get(self, name: str) -> bytes:
            path = posixpath.normpath(posixpath.join(self.folder, str(name).replace("\\", "/")))
            member = self.names.get(path.lower())
            if member is None:
                raise FileNotFoundError(name)
            return self.archive.read(member)

        def keys(self):
            return []

        def namespaced(self, namespace: str):
            return ZipMembers(self.archive, posixpath.join(self.folder, namespace))

        def write(self, name, data) -> None:
            raise OSError("the furniture libraries are read-only")

    return ZipMembers


def load_model(archive: str, member: str, rotation: tuple[float, ...] | None = None) -> Model:
    """An OBJ model inside a .sh3f zip, stood up by its `modelRotation` (row-major 3x3)."""
    import trimesh

    with zipfile.ZipFile(archive) as z:
        try:
            data = z.read(member)
        except KeyError:
            raise ValueError(f"{archive} has no model {member!r}") from None
        scene = trimesh.load(io.BytesIO(data), file_type="obj", resolver=_zip_resolver_class()(z, posixpath.dirname(member)),
                             force="scene", process=False)
        parts = []
        turn = np.asarray(rotation, np.float64).reshape(3, 3) if rotation else np.eye(3)
        for node in scene.graph.nodes_geometry:
            transform, name = scene.graph[node]
            mesh = scene.geometry[name]
            if len(mesh.faces) == 0:
                continue
            vertices = trimesh.transform_points(mesh.vertices, transform) @ turn.T
            normals = (np.asarray(mesh.vertex_normals) @ transform[:3, :3].T) @ turn.T
            faces = np.asarray(mesh.faces)
            visual = mesh.visual
            material = getattr(visual, "material", None)
            main = getattr(material, "main_color", None) if material is not None else None
            if main is None:
                main = getattr(visual, "main_color", None)
            color = np.asarray(main if main is not None else (180, 180, 180, 255), np.float64)[:4] / 255.0
            image = getattr(material, "image", None) if material is not None else None
            uv = getattr(visual, "uv", None)
            textured = image is not None and uv is not None and len(uv) == len(mesh.vertices)
            parts.append(Part(
                positions=vertices[faces].reshape(-1, 3).astype(np.float32),
                normals=normals[faces].reshape(-1, 3).astype(np.float32),
                uvs=np.asarray(uv)[faces].reshape(-1, 2).astype(np.float32) if textured else None,
                color=tuple(float(c) for c in color),
                texture=image.convert("RGBA").transpose(Image.Transpose.FLIP_TOP_BOTTOM) if textured else None))
    if not parts:
        raise ValueError(f"{archive}:{member} has no triangles")
    everything = np.concatenate([p.positions for p in parts])
    return Model(tuple(parts), everything.min(0), everything.max(0))


def _look_at(eye: np.ndarray, target: np.ndarray, up=(0.0, 1.0, 0.0)) -> np.ndarray:
    forward = target - eye
    forward /= np.linalg.norm(forward)
    if abs(forward @ np.asarray(up)) > 0.999:          # looking straight down: any horizontal up will do
        up = (0.0, 0.0, -1.0)
    side = np.cross(forward, up)
    side /= np.linalg.norm(side)
    true_up = np.cross(side, forward)
    view = np.eye(4)
    view[0, :3], view[1, :3], view[2, :3] = side, true_up, -forward
    view[:3, 3] = -view[:3, :3] @ eye
    return view


def _perspective(fov: float, near: float, far: float) -> np.ndarray:
    f = 1.0 / math.tan(math.radians(fov) / 2)
    projection = np.zeros((4, 4))
    projection[0, 0] = projection[1, 1] = f
    projection[2, 2] = (far + near) / (near - far)
    projection[2, 3] = 2 * far * near / (near - far)
    projection[3, 2] = -1.0
    return projection


def camera(model: Model, azimuth: float, elevation: float) -> tuple[np.ndarray, np.ndarray]:
    """(model-view-projection, unit vector from the centre to the eye) framing the model's bounding sphere."""
    centre = (model.low + model.high) / 2
    radius = max(float(np.linalg.norm(model.high - model.low)) / 2, 1e-6)
    distance = radius / math.sin(math.radians(FOV_DEGREES) / 2)
    a, e = math.radians(azimuth), math.radians(elevation)
    direction = np.array([math.cos(e) * math.sin(a), math.sin(e), math.cos(e) * math.cos(a)])
    eye = centre + distance * direction
    mvp = _perspective(FOV_DEGREES, distance - radius * 1.5 if distance > radius * 1.5 else distance * 0.05,
                       distance + radius * 2) @ _look_at(eye, centre)
    return mvp, direction


class Renderer:
    """One OpenGL context for many renders (creating one costs ~0.5 s); not shared across threads."""

    def __init__(self):
        try:
            import moderngl
        except ImportError as exc:
            raise RenderUnavailable("rendering needs moderngl: pip install moderngl trimesh") from exc
        try:
            self.ctx = moderngl.create_standalone_context(backend="egl")
        except Exception as exc:  # noqa: BLE001 - glcontext raises bare Exceptions naming the missing library
            raise RenderUnavailable(f"no headless OpenGL (EGL) here: {exc}; on Debian: apt-get install "
                                    "libegl-mesa0 libgl1-mesa-dri") from exc
        self.program = self.ctx.program(vertex_shader=VERTEX, fragment_shader=FRAGMENT)
        self.program["image"].value = 0
        self._framebuffers: dict[int, object] = {}

    def _framebuffer(self, side: int):
        if side not in self._framebuffers:
            self._framebuffers[side] = self.ctx.simple_framebuffer((side, side), components=4)
        return self._framebuffers[side]

    def _upload(self, model: Model) -> list[tuple]:
        """Each part's vertex buffer (and texture) on the GPU once, for all the views of one model."""
        uploaded = []
        for part in model.parts:
            uvs = part.uvs if part.uvs is not None else np.zeros((len(part.positions), 2), np.float32)
            buffer = self.ctx.buffer(np.hstack([part.positions, part.normals, uvs]).astype("f4").tobytes())
            vao = self.ctx.vertex_array(self.program, [(buffer, "3f 3f 2f", "position", "normal", "uv")])
            texture = None
            if part.texture is not None:
                texture = self.ctx.texture(part.texture.size, 4, part.texture.tobytes())
                texture.repeat_x = texture.repeat_y = True
                texture.build_mipmaps()
            uploaded.append((part, vao, buffer, texture))
        return uploaded

    def _draw(self, uploaded: list[tuple], floor: float, mvp: np.ndarray, eye_dir: np.ndarray, key: np.ndarray,
              fill: np.ndarray, side: int, shadow: bool, lit: bool = True,
              cast: tuple[float, ...] = (0.0, 1.0, 0.0)) -> np.ndarray:
        import moderngl

        fbo = self._framebuffer(side)
        fbo.use()
        fbo.clear(0.0, 0.0, 0.0, 0.0, depth=1.0)
        self.ctx.enable(moderngl.DEPTH_TEST)
        self.ctx.disable(moderngl.CULL_FACE)
        program = self.program
        program["mvp"].write(mvp.T.astype("f4").tobytes())          # column-major for GLSL
        program["key"].value, program["fill"].value = tuple(key), tuple(fill)
        program["eye_dir"].value = tuple(eye_dir)
        program["shadow"].value = program["flatten"].value = shadow
        program["floor_y"].value = floor
        program["cast_dir"].value = tuple(cast)
        program["lit"].value = lit
        for part, vao, _, texture in uploaded:
            if texture is not None and not shadow:
                texture.use(0)
            program["textured"].value = texture is not None and not shadow
            program["base"].value = part.color
            vao.render(moderngl.TRIANGLES)
        pixels = np.frombuffer(fbo.read(components=4), np.uint8).reshape(side, side, 4)
        return pixels[::-1].copy()                    # OpenGL's rows run bottom-up

    def render(self, model: Model, size: int = 128, azimuth: float = 0.0, elevation: float = 20.0,
               seed: int = 0, shadow: bool = True, light: str = "camera") -> Image.Image:
        """The model from (azimuth, elevation) degrees, size x size RGBA on transparency."""
        return self.render_views(model, size, [(azimuth, elevation)], seed=seed, shadow=shadow, light=light)[0]

    def render_views(self, model: Model, size: int, angles, seed: int = 0, shadow: bool = True,
                     lit: bool = True, light: str = "camera") -> list[Image.Image]:
        """The model from each (azimuth, elevation) in `angles`, uploaded once. `lit=False` draws the surface
        colours without light or shadow (what colour the product is, not how it is lit); `light` places the
        key light (the module's docstring)."""
        if size not in SIZES:
            raise ValueError(f"render sizes are {', '.join(map(str, SIZES))}, got {size!r}")
        if light not in LIGHTS:
            raise ValueError(f"light is one of {', '.join(LIGHTS)}, got {light!r}")
        angles = [(float(a), float(e)) for a, e in angles]
        for _, elevation in angles:
            if not -90 <= elevation <= 90:
                raise ValueError(f"elevation is -90..90 degrees, got {elevation!r}")
        with self.ctx:                                 # current on this thread, whichever context was before
            uploaded = self._upload(model)
            try:
                return [self._view(uploaded, model, size, a, e, seed, shadow and lit, lit, light)
                        for a, e in angles]
            finally:
                for _, vao, buffer, texture in uploaded:
                    vao.release()
                    buffer.release()
                    if texture is not None:
                        texture.release()

    def _view(self, uploaded, model: Model, size: int, azimuth: float, elevation: float, seed: int,
              shadow: bool, lit: bool = True, light: str = "camera") -> Image.Image:
        side = size * SUPERSAMPLE
        mvp, eye_dir = camera(model, azimuth, elevation)
        # fill to the right of the camera, turning with it (vectors in the model's space)
        a = math.radians(azimuth)
        jitter = np.random.default_rng(seed).normal(0, 0.15, 2) if seed else np.zeros(2)
        right = np.array([math.cos(a), 0.0, -math.sin(a)])
        fill = eye_dir + 0.8 * right
        if light == "world":                       # the key fixed on the set; the shadow cast along it
            key_a, key_e = math.radians(WORLD_KEY[0] + 20 * jitter[0]), math.radians(WORLD_KEY[1] + 20 * jitter[1])
            key = np.array([math.cos(key_e) * math.sin(key_a), math.sin(key_e), math.cos(key_e) * math.cos(key_a)])
            cast = tuple(key)
        else:                                      # the key above-left of the camera; the shadow straight down
            key = eye_dir + (-0.6 + jitter[0]) * right + np.array([0.0, 0.9 + jitter[1], 0.0])
            cast = (0.0, 1.0, 0.0)
        key, fill = key / np.linalg.norm(key), fill / np.linalg.norm(fill)
        floor = float(model.low[1])
        color = self._draw(uploaded, floor, mvp, eye_dir, key, fill, side, shadow=False, lit=lit)
        rgba = Image.fromarray(color, "RGBA")
        if shadow and elevation > 0:
            laid = self._draw(uploaded, floor, mvp, eye_dir, key, fill, side, shadow=True, cast=cast)[..., 3]
            soft = Image.fromarray(laid, "L").filter(ImageFilter.GaussianBlur(side * 0.02))
            shade = np.asarray(soft, np.float32) / 255.0 * SHADOW_OPACITY
            alpha = color[..., 3].astype(np.float32) / 255.0
            out_alpha = alpha + shade * (1 - alpha)
            rgb = color[..., :3].astype(np.float32) * alpha[..., None]          # the shadow is black
            rgb = np.where(out_alpha[..., None] > 0, rgb / np.maximum(out_alpha[..., None], 1e-6), 0)
            rgba = Image.fromarray(np.dstack([np.clip(rgb + 0.5, 0, 255), out_alpha * 255 + 0.5]).astype(np.uint8),
                                   "RGBA")
        # reduce premultiplied, so the transparent pixels' colour never fringes the edges
        return rgba.convert("RGBa").resize((size, size), Image.Resampling.BOX).convert("RGBA")

    def close(self) -> None:
        for fbo in self._framebuffers.values():
            fbo.release()
        self.ctx.release()
