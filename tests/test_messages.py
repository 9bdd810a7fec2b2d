"""Messages in the merchant's language: the studio's own English sentences, raised by the real code paths,
come out in Chinese for a merchant who writes in Chinese, with their details kept."""

import pytest

from studio.checkpoints import WEIGHTS_DIR
from studio.images import ImageLoadError, load_image
from studio.messages import CJK, language_of, localise, summary_zh
from studio.text import MAX_PROMPT_CHARS, check_prompt

SHIPPED = WEIGHTS_DIR / "understand"


def raised(fn, *args) -> str:
    with pytest.raises(ValueError) as caught:
        fn(*args)
    return str(caught.value)


def test_the_language_is_what_the_merchant_typed():
    assert language_of("红色运动鞋") == "zh" and language_of("navy boot", "白底主图") == "zh"
    assert language_of("navy boot", None, 3, ["红色"]) == "en"          # only text arguments count


def test_errors_raised_by_the_studio_read_in_chinese_with_their_details():
    empty = raised(check_prompt, "  ")
    assert localise(empty, "en") == empty and localise(empty, "zh") == "请先描述商品（描述为空）"
    long = localise(raised(check_prompt, "红" * (MAX_PROMPT_CHARS + 5)), "zh")
    assert f"{MAX_PROMPT_CHARS + 5}" in long and f"{MAX_PROMPT_CHARS}" in long and "上限" in long
    with pytest.raises(ImageLoadError) as caught:
        load_image(b"this is not a picture")
    broken = localise(str(caught.value), "zh")
    assert "图片格式" in broken and "PNG" in broken and str(caught.value).split(" is ")[0] in broken


def test_a_sentence_the_catalogue_lacks_keeps_its_detail_after_a_chinese_lead():
    message = "the board item 12 was deleted by ana"
    zh = localise(message, "zh")
    assert zh.startswith("未能完成") and zh.endswith(message)


def test_labels_come_out_in_shop_words():
    assert summary_zh("red · ankle boot · light gray background") == "红色 · 短靴 · 浅灰色背景"
    assert summary_zh("a product no model makes") == "模型不会生成的商品"


@pytest.mark.skipif(not (SHIPPED / "config.json").is_file(), reason="no understanding heads shipped")
def test_the_readers_warnings_on_a_chinese_prompt_read_in_chinese():
    from studio.understand import PromptReader

    reader = PromptReader(SHIPPED)
    unknown = reader.read("白色背景上的耳机")                  # headphones: no model makes them
    assert unknown.language == "zh" and unknown.warnings
    for warning in unknown.warnings:
        zh = localise(warning, "zh")
        assert not zh.startswith("未能完成") and CJK.search(zh), (warning, zh)
    by_hand = reader.read("白色背景上的红色运动鞋").with_labels({"color": "navy"})
    said = [localise(w, "zh") for w in by_hand.warnings if w.startswith("set by hand")]
    assert said == ["手动设置：颜色 藏青色"]


def test_the_browsers_first_language_by_its_weight():
    from types import SimpleNamespace

    from ui.common import browser_language

    def asking(header):
        return SimpleNamespace(headers={"accept-language": header})

    assert browser_language(asking("zh-CN,zh;q=0.9,en;q=0.8")) == "zh"
    assert browser_language(asking("en-US,en;q=0.9,zh-CN;q=0.8")) == "en"
    assert browser_language(asking("en;q=0.5, zh-TW")) == "zh"           # weights, not order, decide
    assert browser_language(asking("zhx, fr;q=bad")) == "en"
    assert browser_language(None) == "en" and browser_language(asking("")) == "en"


def test_a_recipe_steps_refusal_reads_in_chinese_step_and_detail():
    from studio.edits import Recipe

    for recipe, expected in (('[{"op": "melt"}]', "第 1 步：未知的操作 'melt'；可用的操作："),
                             ('[{"op": "adjust", "brightness": 1.1}, {"op": "rotate", "degrees": "abc"}]', "第 2 步（rotate）：角度必须是 -360 到 360 之间的数字，收到的是 'abc'"),
                             ("[{", "配方不是有效的 JSON：")):
        zh = localise(raised(Recipe.from_json, recipe), "zh")
        assert zh.startswith(expected), zh
