"""The harness end to end at tiny sizes: a freshly trained (dry-run) judge, real test images, prompts."""

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import needs_fashion

from studio.__main__ import main
from studio.checkpoints import open_network
from studio.data import captions
from studio.data.vocab import BACKGROUNDS, CATEGORIES, COLORS, is_visible
from studio.eval.prompts import FASHION_VISIBLE, build_fashion_suite, load_prompts

REQUIRED_KEYS = {"attribute_accuracy", "fd_evaluator", "kid_evaluator", "fd_effnet", "diversity", "sharpness",
                 "memorization", "n_images", "seconds", "real_reference"}


def test_shipped_suite_is_what_the_generator_writes(tmp_path):
    assert main(["eval", "prompts", "--out", str(tmp_path / "suite.jsonl")]) == 0
    assert (tmp_path / "suite.jsonl").read_text() == FASHION_VISIBLE.read_text()


def test_suite_covers_every_label_with_visible_pairs_and_free_phrasings():
    specs = load_prompts(FASHION_VISIBLE)
    assert len(specs) >= 200
    assert {s.category for s in specs} == set(CATEGORIES)
    assert {s.color for s in specs} - {None} == set(COLORS)
    assert {s.background for s in specs} - {None} == set(BACKGROUNDS)
    assert all(is_visible(s.color, s.background) for s in specs if s.color and s.background)
    free = [s for s in specs if s.style == "free"]
    assert 0.25 < len(free) / len(specs) < 0.6
    assert any(s.color is None for s in specs) and any(s.background is None for s in specs)
    for spec in specs:
        if spec.style == "template":                     # template prompts say exactly their labels
            assert captions.parse(spec.prompt) == spec.labels(), spec.prompt
    assert len({s.prompt for s in specs}) == len(specs)


def test_suite_generation_is_deterministic():
    assert build_fashion_suite(seed=3) == build_fashion_suite(seed=3)
    assert build_fashion_suite(seed=3) != build_fashion_suite(seed=4)


def test_shipped_suite_by_short_names(tmp_path):
    assert load_prompts("eval/prompts/fashion-visible.jsonl") == load_prompts(FASHION_VISIBLE)
    assert load_prompts("fashion-visible") == load_prompts(FASHION_VISIBLE)
    with pytest.raises(ValueError, match=r"does not exist \(shipped suites: .*\bfashion-visible\b"):
        load_prompts(tmp_path / "nope.jsonl")


def test_bad_suite_lines(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"prompt": "red bag", "category": "bag"}\n{"prompt": "x", "category": "hat"}\n')
    with pytest.raises(ValueError, match="bad.jsonl:2: unknown category 'hat'"):
        load_prompts(path)
    path.write_text('{"category": "bag"}\n')
    with pytest.raises(ValueError, match=":1: not a prompt record"):
        load_prompts(path)


@pytest.fixture(scope="module")
def tiny_judge(tmp_path_factory):
    out = tmp_path_factory.mktemp("judge") / "evaluator"
    assert main(["train", "evaluator", "--catalog", "fashion", "--dry-run", "--out", str(out)]) == 0
    return out


@needs_fashion
def test_trained_evaluator_round_trips(tiny_judge):
    from studio.models import AttributeEvaluator

    model = open_network(tiny_judge, AttributeEvaluator)
    config = model.config
    assert tuple(config.labels[0]) == CATEGORIES and config.catalog == "fashion"
    assert set(config.training["test_accuracy"]) == {"category", "color", "background"}
    assert (tiny_judge / "README.md").read_text().startswith(f"# {tiny_judge.name}")


@needs_fashion
def test_eval_generate_real_and_retrieval(tiny_judge, tmp_path):
    from studio.eval.generate import RealSampler, RetrievalSampler, evaluate_generation
    from studio.eval.judge import Judge

    judge = Judge(tiny_judge)
    specs = load_prompts(FASHION_VISIBLE)[:12]
    real = evaluate_generation(RealSampler(half=1), specs, 3, 0, judge, memorization_reference=600, log=lambda m: None)
    assert REQUIRED_KEYS <= set(real) and REQUIRED_KEYS - {"real_reference", "seconds"} <= set(real["real_reference"])
    assert real["n_images"] == 36 and set(real["attribute_accuracy"]) == {"category", "color", "background", "all"}
    retrieval = RetrievalSampler(pool=400)
    copied = evaluate_generation(retrieval, specs, 3, 0, judge, memorization_reference=600, log=lambda m: None)
    # the baseline returns training images: it sits on the training set, real test images do not
    assert copied["memorization"]["copies"] == 1.0 and copied["memorization"]["ratio"] < 1e-3
    assert real["memorization"]["ratio"] > 0.3
    # the same seed gives the same numbers
    again = evaluate_generation(RealSampler(half=1), specs, 3, 0, judge, memorization_reference=600, log=lambda m: None)
    assert again["fd_evaluator"] == real["fd_evaluator"]


@needs_fashion
def test_cli_eval_generate_writes_json(tiny_judge, tmp_path, monkeypatch):
    import studio.eval.generate as generate

    monkeypatch.setattr(generate, "MEMORIZATION_REFERENCE", 500)
    suite = tmp_path / "suite.jsonl"
    suite.write_text("".join(line + "\n" for line in FASHION_VISIBLE.read_text().splitlines()[:6]))
    out = tmp_path / "real.json"
    assert main(["eval", "generate", "--model", "real", "--prompts", str(suite), "--per-prompt", "2",
                 "--evaluator", str(tiny_judge), "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert REQUIRED_KEYS <= set(result) and result["n_images"] == 12
    assert main(["eval", "generate", "--model", str(tiny_judge), "--prompts", str(suite),
                 "--evaluator", str(tiny_judge)]) == 2                       # an evaluator cannot generate


@needs_fashion
def test_eval_repair_ranks_a_good_fill_above_a_bad_one(tmp_path):
    from studio.edits.repair import CLASSICAL, RepairMethod
    from studio.eval.repair import evaluate_repair

    class PaintBlack(RepairMethod):
        name = "black"

        def fill(self, rgb, hole, radius):
            out = rgb.copy()
            out[hole] = 0
            return out

    fake = lambda images: np.stack([np.asarray(im, np.float64).reshape(-1)[:64] for im in images])  # noqa: E731
    methods = CLASSICAL.with_method(PaintBlack())
    black = evaluate_repair("black", masks=("thin", "thick"), n=20, effnet=fake, methods=methods)
    telea = evaluate_repair("telea", masks=("thin", "thick"), n=20, effnet=fake)
    assert "black" not in CLASSICAL
    for kind in ("thin", "thick"):
        assert telea["masks"][kind]["psnr_hole"] > black["masks"][kind]["psnr_hole"] + 5
        assert telea["masks"][kind]["ssim"] > black["masks"][kind]["ssim"]
    assert main(["eval", "repair", "--method", "lama", "--n", "4"]) == 2


@needs_fashion
def test_swap_test_passes_real_images_and_fails_a_colour_blind_sampler(tiny_judge):
    from studio.eval.generate import RealSampler
    from studio.eval.judge import Judge, default_evaluator
    from studio.eval.swap import SWAPPABLE, swap_pairs, swap_test

    if not (default_evaluator("fashion") / "config.json").is_file():
        pytest.skip("needs the shipped evaluator")
    judge = Judge(default_evaluator("fashion"))
    pairs = swap_pairs(10, seed=1)
    assert all(SWAPPABLE[a.color] == b.background and SWAPPABLE[b.color] == a.background for a, b in pairs)
    real = RealSampler(half=1)

    class ColourBlind:                      # ignores which colour goes where: always the first order
        name, size = "colour-blind", 32
        first = {b.prompt: a for a, b in pairs}

        def sample(self, spec, n, seed):
            return real.sample(self.first.get(spec.prompt, spec), n, seed)

    assert swap_test(real, judge, pairs, per_prompt=2)["swap_accuracy"] == 1.0
    blind = swap_test(ColourBlind(), judge, pairs, per_prompt=2)["swap_accuracy"]
    assert blind <= 0.55


@needs_fashion
def test_validation_set_shares_nothing_with_the_test_set(tmp_path):
    """`eval validate` chooses between legs: its prompts, swap pairs and real images are not the test's."""
    from studio.eval.generate import RealSampler
    from studio.eval.judge import default_evaluator
    from studio.eval.swap import swap_pairs
    from studio.eval.validate import COLUMNS, markdown_table, validate, validation_pairs, validation_suite

    test_pairs = {(a.prompt, b.prompt) for a, b in swap_pairs(50)}
    pairs = validation_pairs(30)
    assert len(pairs) == 30 and not test_pairs & {(a.prompt, b.prompt) for a, b in pairs}
    assert not {s.prompt for s in validation_suite()} & {s.prompt for s in load_prompts(FASHION_VISIBLE)}
    spec = load_prompts(FASHION_VISIBLE)[0]
    val = RealSampler(half=0, split="val").sample(spec, 4, 0)
    test = RealSampler(half=0).sample(spec, 4, 0)
    assert all(not np.array_equal(np.asarray(v), np.asarray(t)) for v, t in zip(val, test))
    with pytest.raises(ValueError, match="only .* swap pairs are left"):
        validation_pairs(200)

    folder = Path("weights/diffusion-fashion")
    if not (folder / "model_index.json").is_file() or not (default_evaluator("fashion") / "config.json").is_file():
        pytest.skip("needs the shipped diffusion model and judge")
    rows = validate([str(folder)], per_prompt=2, prompts=3, pairs=1, memorization_reference=100,
                    guidance=(None, 1.0), log=lambda m: None)
    guided = f"{folder} (guidance 1)"
    assert list(rows) == [str(folder), "real validation images", guided]
    assert rows["real validation images"]["swap"] is None and 0 <= rows[str(folder)]["swap"] <= 1
    assert all(0 <= rows[str(folder)][c] <= 1 for c in ("all", "category", "color", "background"))
    assert rows[guided]["fd_evaluator"] != rows[str(folder)]["fd_evaluator"]     # the scale reached the sampler
    table = markdown_table(rows)
    assert table.count("\n") == 4 and all(c in table.splitlines()[0] for c in COLUMNS)


def test_eval_repair_on_held_out_photo_crops(tmp_path):
    from test_upscale import photo_tree

    from studio.eval.repair import evaluate_repair, photo_crops

    root = photo_tree(tmp_path / "share")
    crops = photo_crops(6, 64, seed=0, root=root)
    assert len(crops) == 6 and all(c.size == (64, 64) for c in crops)
    assert [np.asarray(c).tobytes() for c in crops] == [np.asarray(c).tobytes()
                                                       for c in photo_crops(6, 64, seed=0, root=root)]
    fake = lambda images: np.stack([np.asarray(im, np.float64).reshape(-1)[:64] for im in images])  # noqa: E731
    result = evaluate_repair("ns", catalog="photos", masks=("medium",), n=6, size=64, effnet=fake, photo_root=root)
    assert result["catalog"] == "photos" and result["size"] == 64 and result["n"] == 6
    assert 5 < result["masks"]["medium"]["psnr_hole"] < 100
    with pytest.raises(ValueError, match="do not fit"):
        photo_crops(2, 512, root=root)


@needs_fashion
def test_real_reference_from_the_validation_split_for_model_selection():
    from studio.data import open_catalog
    from studio.eval.generate import RealSampler
    from studio.eval.prompts import PromptSpec

    val, test = RealSampler(half=0, split="val"), RealSampler(half=0)
    assert val.name == "real-val-half-A" and test.name == "real-test-half-A"
    assert len(val.catalog) == len(open_catalog("fashion", split="val"))
    spec = PromptSpec("a red dress on a white background", "fashion", "dress", "red", "white", "template")
    drawn = val.sample(spec, 3, seed=4)
    assert [im.size for im in drawn] == [(32, 32)] * 3
    assert all(val.catalog.label(int(i))["category"] == "dress" for i in val.by_category["dress"])
    assert np.asarray(drawn[0]).tobytes() == np.asarray(val.sample(spec, 3, seed=4)[0]).tobytes()
