"""The headless renderer: a model built here (an OBJ + MTL + texture in a zip, as the .sh3f libraries hold
them) seen from known angles, and the real libraries when Debian's package is there."""

import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from conftest import CUBE_FRONT, CUBE_REST, CUBE_VERTICES, FURNITURE_ROOT, needs_furniture

render = pytest.importorskip("studio.data.render")
pytest.importorskip("moderngl")
pytest.importorskip("trimesh")

# A unit cube: its +z face (the front, by Sweet Home 3D's convention) red, the rest blue; a textured quad
# floating above its top, facing +z, whose texture is green on its upper half and yellow on its lower.
OBJ = ("mtllib box.mtl\n" + CUBE_VERTICES
       + "v -1 2.2 1.2\nv 1 2.2 1.2\nv 1 4.2 1.2\nv -1 4.2 1.2\nvt 0 0\nvt 1 0\nvt 1 1\nvt 0 1\n"
       + "usemtl front\n" + CUBE_FRONT + "usemtl body\n" + CUBE_REST
       + "usemtl picture\nf 9/1 10/2 11/3\nf 9/1 11/3 12/4\n")
MTL = """newmtl front
Kd 0.9 0.1 0.1
newmtl body
Kd 0.1 0.1 0.9
newmtl picture
Kd 1 1 1
map_Kd picture.png
"""


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    path = tmp_path_factory.mktemp("lib") / "test.sh3f"
    picture = Image.new("RGB", (8, 8), (240, 220, 20))
    picture.paste((20, 200, 40), (0, 0, 8, 4))                   # the upper half of the image is green
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("lib/box/box.obj", OBJ)
        z.writestr("lib/box/box.mtl", MTL)
        z.writestr("lib/box/picture.png", buffer.getvalue())
        z.writestr("lib/plain/plain.obj",
                   "mtllib plain.mtl\n" + CUBE_VERTICES + "usemtl grey\n" + CUBE_FRONT + CUBE_REST)
        z.writestr("lib/plain/plain.mtl", "newmtl grey\nKd 0.6 0.6 0.6\n")
    return str(path)


@pytest.fixture(scope="module")
def renderer():
    try:
        made = render.Renderer()
    except render.RenderUnavailable as exc:
        pytest.skip(str(exc))
    yield made
    made.close()


def _pixel(image: Image.Image, x: float, y: float) -> np.ndarray:
    return np.asarray(image)[int(y * image.height), int(x * image.width)].astype(int)


def test_the_front_is_azimuth_zero_and_materials_are_read(library, renderer):
    model = render.load_model(library, "lib/box/box.obj")
    assert model.triangles == 14 and np.allclose(model.low, [-1, 0, -1]) and np.allclose(model.high, [1, 4.2, 1.2])
    front = renderer.render(model, 128, azimuth=0, elevation=0, shadow=False)
    back = renderer.render(model, 128, azimuth=180, elevation=0, shadow=False)
    box_centre = (0.5, 0.62)                                     # the box is the lower half of the frame
    red, blue = _pixel(front, *box_centre), _pixel(back, *box_centre)
    assert red[3] == 255 and red[0] > 2 * red[2], red
    assert blue[3] == 255 and blue[2] > 2 * blue[0], blue


def test_textures_keep_their_orientation(library, renderer):
    front = renderer.render(render.load_model(library, "lib/box/box.obj"), 128, 0, 0, shadow=False)
    upper, lower = _pixel(front, 0.5, 0.2), _pixel(front, 0.5, 0.34)
    assert upper[1] > 2 * upper[0] and upper[1] > 2 * upper[2], upper        # green on top
    assert lower[0] > 2 * lower[2] and lower[1] > 2 * lower[2], lower        # yellow below


def test_transparent_background_soft_shadow_and_determinism(library, renderer):
    model = render.load_model(library, "lib/box/box.obj")
    plain = renderer.render(model, 64, 30, 25, shadow=False)
    shaded = renderer.render(model, 64, 30, 25)
    alpha, shaded_alpha = np.asarray(plain)[..., 3], np.asarray(shaded)[..., 3]
    assert alpha[0, 0] == 0 and alpha[-1, -1] == 0 and alpha[32, 32] == 255
    soft = (shaded_alpha > 0) & (shaded_alpha < 200) & (alpha == 0)
    assert soft.sum() > 20                                       # a soft shadow where there was nothing
    assert np.array_equal(np.asarray(renderer.render(model, 64, 30, 25)), np.asarray(shaded))
    again = render.Renderer()
    try:
        assert np.array_equal(np.asarray(again.render(model, 64, 30, 25)), np.asarray(shaded))
    finally:
        again.close()
    views = renderer.render_views(model, 64, [(30, 25), (120, 10)])
    assert np.array_equal(np.asarray(views[0]), np.asarray(shaded))
    assert not np.array_equal(np.asarray(views[1]), np.asarray(shaded))
    assert not np.array_equal(np.asarray(renderer.render(model, 64, 30, 25, seed=3)), np.asarray(shaded))


def test_bad_requests_are_clear_errors(library, renderer):
    model = render.load_model(library, "lib/box/box.obj")
    with pytest.raises(ValueError, match="render sizes are 64, 128, 256"):
        renderer.render(model, 100)
    with pytest.raises(ValueError, match="elevation"):
        renderer.render(model, 64, 0, 120)
    with pytest.raises(ValueError, match="light is one of camera, world"):
        renderer.render(model, 64, 0, 20, light="sun")
    with pytest.raises(ValueError, match="has no model"):
        render.load_model(library, "lib/missing.obj")


@needs_furniture
def test_every_library_renders(renderer):
    from studio.data.furniture import read_library

    for path in sorted(FURNITURE_ROOT.glob("*.sh3f")):
        item = next(i for i in read_library(path) if i.model)
        image = renderer.render(render.load_model(item.archive, item.model, item.rotation), 64, 45, 20)
        coverage = (np.asarray(image)[..., 3] > 128).mean()
        assert 0.02 < coverage < 0.9, (path.name, item.name, coverage)


def test_unlit_renders_show_the_surface_colour_itself(library, renderer):
    model = render.load_model(library, "lib/box/box.obj")
    flat = renderer.render_views(model, 64, [(0, 0)], lit=False)[0]
    assert np.abs(_pixel(flat, 0.5, 0.62)[:3] - np.array([230, 26, 26])).max() <= 2     # Kd 0.9 0.1 0.1
    lit = renderer.render_views(model, 64, [(0, 15)])[0]
    unlit = renderer.render_views(model, 64, [(0, 15)], lit=False)[0]
    shadow = (np.asarray(lit)[..., 3] > 0) & (np.asarray(unlit)[..., 3] == 0)
    assert shadow.sum() > 20 and np.asarray(unlit)[..., 3][shadow].max() == 0      # no shadow when unlit


def _shadow_centre_x(lit: Image.Image, bare: Image.Image) -> tuple[float, float]:
    """(x of the shadow's centre, x of the object's centre), 0..1 across the frame."""
    lit_alpha, bare_alpha = np.asarray(lit)[..., 3], np.asarray(bare)[..., 3]
    xs = np.arange(lit_alpha.shape[1]) / lit_alpha.shape[1]
    shadow = (lit_alpha > 0) & (bare_alpha == 0)
    return float(xs[np.nonzero(shadow)[1]].mean()), float(xs[np.nonzero(bare_alpha > 128)[1]].mean())


def test_a_key_light_fixed_on_the_set_tells_the_front_of_a_symmetric_item_from_its_back(library, renderer):
    cube = render.load_model(library, "lib/plain/plain.obj")         # one grey cube: every side looks alike
    angles = [(0, 15), (180, 15)]
    camera_front, camera_back = renderer.render_views(cube, 64, angles)
    assert np.abs(np.asarray(camera_front, int) - np.asarray(camera_back, int)).max() <= 2   # the light turns too
    front, back = renderer.render_views(cube, 64, angles, light="world")
    bare_front, bare_back = renderer.render_views(cube, 64, angles, shadow=False, light="world")
    assert np.abs(np.asarray(front, int) - np.asarray(back, int)).mean() > 5
    # the key stands above the front-left: seen from the front its shadow falls to the right, from the back
    # to the left, and the lit front face is brighter than the back face in the key's shade
    shadow_x, object_x = _shadow_centre_x(front, bare_front)
    assert shadow_x > object_x + 0.05, (shadow_x, object_x)
    shadow_x, object_x = _shadow_centre_x(back, bare_back)
    assert shadow_x < object_x - 0.05, (shadow_x, object_x)
    assert _pixel(bare_front, 0.5, 0.62)[:3].sum() > _pixel(bare_back, 0.5, 0.62)[:3].sum() + 30
    again = renderer.render_views(cube, 64, angles, light="world")
    assert all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(again, (front, back)))
