import json
import multiprocessing
import zipfile

import numpy as np
import pytest

from conftest import product_photo
from studio.edits.export import read_metadata
from studio.edits.recipe import Recipe
from studio.review import Board, BoardError

RECIPE = Recipe.from_json([{"op": "adjust", "brightness": 1.1}])


def test_items_keep_how_they_were_made_and_survive_a_restart(tmp_path, board_url):
    board = Board(tmp_path, board_url)
    item = board.add(product_photo((40, 30)), added_by="ana", prompt="red sneaker", seed=7, model="gan-fashion",
                     recipe=RECIPE)
    assert item.status == "pending" and item.title == "red sneaker"
    board.decide(item.id, "ben", "approve")
    board.decide(item.id, "ben", "star")
    board.decide(item.id, "cy", "comment", "lovely colour")
    board.close()
    again = Board(tmp_path, board_url).get(item.id)                    # a new process would do the same
    assert (again.prompt, again.seed, again.model, again.recipe) == ("red sneaker", 7, "gan-fashion", RECIPE)
    assert again.status == "approved" and again.approvals == ("ben",) and again.stars == ("ben",)
    assert again.comments[0][:2] == ("cy", "lovely colour")
    assert np.array_equal(np.asarray(again.image()), np.asarray(product_photo((40, 30))))
    assert read_metadata(again.image_path)["digital_source_type"] == "trainedAlgorithmicMedia"


def test_status_follows_each_reviewers_latest_verdict_and_the_log_keeps_everything(tmp_path, board_url):
    board = Board(tmp_path, board_url)
    item = board.add(product_photo((20, 20)), added_by="ana", origin="upload")
    board.decide(item.id, "ben", "approve")
    board.decide(item.id, "cy", "reject")
    assert board.get(item.id).status == "rejected"
    board.decide(item.id, "cy", "reset")
    assert board.get(item.id).status == "approved"
    board.decide(item.id, "ben", "reset")
    assert board.get(item.id).status == "pending"
    trail = board.history(item.id)
    assert [(d.reviewer, d.action) for d in trail] == [("ben", "approve"), ("cy", "reject"), ("cy", "reset"),
                                                      ("ben", "reset")]
    assert all(a.at <= b.at for a, b in zip(trail, trail[1:]))
    assert board.history(item.id, limit=2) == trail[-2:]                   # the latest two, oldest first


def test_filters_and_approved_export_with_manifest(tmp_path):
    board = Board(tmp_path / "data")
    kept = board.add(product_photo((30, 30), seed=1), added_by="ana", prompt="navy boot", seed=1, recipe=RECIPE)
    board.add(product_photo((30, 30), seed=2), added_by="ana", prompt="pink bag", seed=2)
    board.decide(kept.id, "ben", "approve")
    assert [i.id for i in board.items(status="approved")] == [kept.id]
    assert len(board.items(status="pending")) == 1 and board.items(starred=True) == []
    path = board.export_approved(tmp_path / "approved.zip")
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        assert [m["prompt"] for m in manifest] == ["navy boot"]
        assert manifest[0]["approved_by"] == ["ben"] and Recipe.from_json(manifest[0]["recipe"]) == RECIPE
        assert manifest[0]["file"] in archive.namelist() and "manifest.csv" in archive.namelist()
    with pytest.raises(BoardError, match="nothing to export"):
        board.export_zip(tmp_path / "none.zip", board.items(status="rejected"))


def test_bad_requests_are_clear_errors(tmp_path, board_url):
    board = Board(tmp_path, board_url)
    item = board.add(product_photo((10, 10)), added_by="ana")
    with pytest.raises(BoardError, match="no board item"):
        board.decide("nope", "ben", "approve")
    with pytest.raises(BoardError, match="unknown action"):
        board.decide(item.id, "ben", "like")
    with pytest.raises(BoardError, match="reviewer"):
        board.decide(item.id, "  ", "approve")
    with pytest.raises(BoardError, match="needs some text"):
        board.decide(item.id, "ben", "comment", " ")
    with pytest.raises(BoardError, match="status"):
        board.items(status="done")


def _reviewer(data_dir: str, url: str | None, item_ids: list[str], name: str, rounds: int) -> None:
    board = Board(data_dir, url)
    for n in range(rounds):
        for item_id in item_ids:
            board.decide(item_id, name, "comment", f"{name} {n}")


def test_two_processes_writing_at_once_lose_nothing(tmp_path, board_url):
    board = Board(tmp_path, board_url)
    ids = [board.add(product_photo((10, 10), seed=i), added_by="ana").id for i in range(3)]
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_reviewer, args=(str(tmp_path), board_url, ids, name, 40))
               for name in ("ben", "cy")]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
        assert w.exitcode == 0
    trail = board.history()
    assert len(trail) == 2 * 40 * 3 and len({d.id for d in trail}) == len(trail)
    for name in ("ben", "cy"):
        for item_id in ids:                                    # each reviewer's own order survives, per item
            texts = [d.comment for d in trail if d.reviewer == name and d.item_id == item_id]
            assert texts == [f"{name} {n}" for n in range(40)]
    assert all(len(board.get(i).comments) == 80 for i in ids)


def test_thumbnails_are_written_once_and_enlarge_small_images(tmp_path):
    board = Board(tmp_path)
    item = board.add(product_photo((32, 24)), added_by="ana")
    path = board.thumbnail(item.id)
    first = path.stat().st_mtime_ns
    from PIL import Image

    assert Image.open(path).size == (256, 192)
    assert board.thumbnail(item.id).stat().st_mtime_ns == first


def test_a_set_of_angles_is_saved_together_and_reviewed_item_by_item(tmp_path, board_url):
    board = Board(tmp_path, board_url)
    views = ["front", "side", "back"]
    images = [(product_photo((32, 32), product=(40 * i, 90, 200)), f"a grey sofa, seen from the {v}")
              for i, v in enumerate(views)]
    saved = board.add_set(images, added_by="ana", seed=3, model="vae-furniture-views")
    assert len({s.set_id for s in saved}) == 1 and saved[0].set_id is not None
    assert [s.prompt for s in board.in_set(saved[0].set_id)] == [p for _, p in images]      # the order kept
    single = board.add(product_photo((20, 20)), added_by="ana", prompt="a chair")
    assert single.set_id is None and board.in_set("nothing") == []
    board.decide(saved[1].id, "ben", "reject")
    assert [s.status for s in board.in_set(saved[0].set_id)] == ["pending", "rejected", "pending"]
    before = len(board.items())
    with pytest.raises(BoardError, match="RGB or RGBA"):          # one bad image: nothing of the set is saved
        board.add_set([images[0], (images[1][0].convert("L"), "x")], added_by="ana")
    with pytest.raises(BoardError, match="a set holds"):
        board.add_set([], added_by="ana")
    assert len(board.items()) == before
