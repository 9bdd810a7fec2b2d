import numpy as np
import pytest

from conftest import product_photo
from studio.edits.export import Provenance, read_metadata
from studio.edits.session import EditSession


def ops(session):
    return [step["op"] for step in session.recipe.steps]


def test_sliders_edit_their_step_in_place_and_keep_showing_it():
    session = EditSession.open(product_photo((120, 90)))
    session.push({"op": "rotate", "degrees": 90})
    session.commit_adjust({"brightness": 1.2})
    assert ops(session) == ["rotate", "adjust"]
    session.commit_adjust({"brightness": 1.4, "contrast": 1.1})          # another release: the same undo step
    assert ops(session) == ["rotate", "adjust"] and session.slider_values()["brightness"] == 1.4
    session.undo()
    assert ops(session) == ["rotate"] and session.slider_values()["brightness"] == 1.0
    session.redo()
    session.push({"op": "flip", "axis": "horizontal"})
    # after another step the sliders still show the adjustment that applies ...
    assert session.slider_values()["brightness"] == 1.4 and session.slider_values()["contrast"] == 1.1
    # ... and moving them changes that step where it stands, not a second one on top
    session.commit_adjust({"brightness": 1.4, "contrast": 1.1, "saturation": 1.3})
    assert ops(session) == ["rotate", "adjust", "flip"] and session.recipe.steps[1]["saturation"] == 1.3
    live = session.live({"brightness": 2.0, "contrast": 1.1, "saturation": 1.3})
    assert np.asarray(live).mean() > np.asarray(session.preview()).mean() and ops(session)[1] == "adjust"
    session.undo()                                                       # back to before the saturation
    assert "saturation" not in session.recipe.steps[1] and ops(session) == ["rotate", "adjust", "flip"]
    session.redo()
    session.commit_adjust({})                                            # sliders back to neutral: step gone
    assert ops(session) == ["rotate", "flip"] and session.slider_values()["brightness"] == 1.0
    session.undo()
    assert ops(session) == ["rotate", "adjust", "flip"]


def test_regional_adjustments_are_not_the_sliders():
    session = EditSession.open(product_photo((120, 90)))
    session.push({"op": "adjust", "brightness": 1.5, "region": "product"})
    assert session.slider_values()["brightness"] == 1.0
    session.commit_adjust({"contrast": 1.2})
    assert [s.get("region") for s in session.recipe.steps] == ["product", None]


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
