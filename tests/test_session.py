import numpy as np
import pytest

from conftest import product_photo
from studio.edits.export import Provenance, read_metadata
from studio.edits.session import EditSession


def ops(session):
    return [step["op"] for step in session.recipe.steps]


def test_sliders_are_one_trailing_step_and_never_replace_other_steps(tmp_path):
    session = EditSession.open(product_photo((120, 90)))
    session.push({"op": "rotate", "degrees": 90})
    session.commit_adjust({"brightness": 1.2})
    assert ops(session) == ["rotate", "adjust"]
    session.commit_adjust({"brightness": 1.4, "contrast": 1.1})          # the same drag, refined
    assert ops(session) == ["rotate", "adjust"] and session.slider_values()["brightness"] == 1.4
    session.undo()
    assert ops(session) == ["rotate"] and session.slider_values()["brightness"] == 1.0
    session.redo()
    session.push({"op": "flip", "axis": "horizontal"})
    session.commit_adjust({"saturation": 1.3})
    assert ops(session) == ["rotate", "adjust", "flip", "adjust"]
    session.commit_adjust({})                                            # sliders back to neutral: step gone
    assert ops(session) == ["rotate", "adjust", "flip"]


def test_live_preview_records_nothing_and_export_is_full_resolution(tmp_path):
    photo = product_photo((1200, 900))
    session = EditSession.open(photo, Provenance("generated", prompt="navy boot", seed=4, model="m"))
    live = session.live({"brightness": 1.5})
    assert max(live.size) <= 512 and ops(session) == []
    assert np.asarray(live).mean() > np.asarray(session.before()).mean()
    session.commit_adjust({"brightness": 1.5})
    path = session.export(tmp_path, "jpeg", 90)
    assert path.name == "navy-boot-seed4.jpg"
    found = read_metadata(path)
    assert found["seed"] == 4 and found["recipe"] == session.recipe
    from PIL import Image

    assert Image.open(path).size == (1200, 900)
    assert session.render() is session.render()                           # cached per recipe
    with pytest.raises(ValueError, match="mode"):
        EditSession.open(photo.convert("L"))
