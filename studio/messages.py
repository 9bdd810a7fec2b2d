"""What the studio says to a merchant, in the merchant's language.

The library's messages (errors, the prompt reader's warnings) are English sentences. A merchant who writes in
Chinese gets them in Chinese: `localise` looks a message up in a catalogue of patterns, one per sentence the
studio says, and fills the translation with the message's own details (file names, numbers, the words the
merchant typed); product, colour and backdrop labels come out in the shop words of the phrasebook. A
sentence the catalogue does not know keeps its English detail after a Chinese lead, so a Chinese reader
always learns that it was not done.

    >>> localise("describe the product first (the description is empty)", "zh")
    '请先描述商品（描述为空）'
"""

from __future__ import annotations

import re

from .data.phrasebook import FURNITURE_NOUNS_ZH, ZH_BACKGROUND, ZH_CATEGORY, ZH_COLOR

CJK = re.compile(r"[\u3400-\u9fff]+")                   # runs of Chinese characters
NOT_DONE = {"en": "Not done", "zh": "未完成"}


def language_of(*texts) -> str:
    """'zh' when any of the texts (what the merchant typed) has Chinese characters, else 'en'."""
    return "zh" if any(isinstance(t, str) and CJK.search(t) for t in texts) else "en"


# ---- labels in shop words: the phrasebook's first (most common) word for each
_LABELS_ZH = {
    **{k: v[0] for k, v in ZH_CATEGORY.items()},
    **{k: v[0] for k, v in FURNITURE_NOUNS_ZH.items()},
    **{f"{k} background": v[0] for k, v in ZH_BACKGROUND.items()},
    **{k: v[0] for k, v in ZH_COLOR.items()},
}
_HEADS_ZH = {"category": "商品", "furniture noun": "家具", "color": "颜色", "colour": "颜色", "background": "背景",
             "product": "商品"}
_DOMAINS_ZH = {"fashion": "服饰", "furniture": "家具", "furniture-views": "多角度家具", "unknown": "未知商品"}
_VIEWS_ZH = {"front": "正面", "three-quarter": "斜前方", "side": "侧面", "rear three-quarter": "斜后方", "back": "背面",
             "top": "俯视"}
_WHAT_ZH = {"seed": "种子", "number of variants": "变体数量", "diversity": "多样性", "steps": "步数",
            "guidance": "引导强度", "strength": "强度", "description": "描述", "brightness": "亮度", "contrast": "对比度",
            "saturation": "饱和度", "sharpness": "锐度", "warmth": "色温", "quality": "质量", "degrees": "角度",
            "radius": "半径", "factor": "倍数", "width": "宽度", "height": "高度"}


def label_zh(words: str) -> str:
    """A label as the app shows it ('ankle boot', 'light gray background') in Chinese shop words; words it
    does not know stay as they are."""
    key = words.strip().replace(" ", "_")
    if key.endswith("_background"):
        key = key[: -len("_background")] + " background"
    return _LABELS_ZH.get(key, words)


def summary_zh(summary: str) -> str:
    """Understanding.summary() ('red · sneaker · white background') in Chinese."""
    fixed = {"a product no model makes": "模型不会生成的商品", "nothing placed": "没有读出任何标签"}
    return " · ".join(fixed.get(p, label_zh(p)) for p in summary.split(" · "))


def _list_zh(text: str) -> str:
    return "、".join(label_zh(w) for w in re.split(r", | or ", text))


def _said_zh(text: str) -> str:
    """'category sneaker, color left to the model' -> '商品 运动鞋，颜色 由模型决定'."""
    parts = []
    for part in text.split(", "):
        head = next((h for h in sorted(_HEADS_ZH, key=len, reverse=True) if part.startswith(h + " ")), None)
        if head is None:
            parts.append(part)
            continue
        value = part[len(head) + 1:]
        parts.append(f"{_HEADS_ZH[head]} {'由模型决定' if value == 'left to the model' else label_zh(value)}")
    return "，".join(parts)


# ---- the catalogue: (the English sentence as a pattern, the Chinese one); fields are filled by name, a
# field's translator (below) applied first where it has one
_ZH: tuple[tuple[str, str], ...] = (
    # descriptions (studio/text.py, ui/generate.py)
    (r"describe the product first \(the description is empty\)", "请先描述商品（描述为空）"),
    (r"the description is (?P<n>[\d,]+) characters long; the limit is (?P<limit>\d+)",
     "描述有 {n} 个字符，超过了 {limit} 个字符的上限"),
    (r"describe the product first; then set what should change", "请先描述商品，再设置要修改的内容"),
    (r"choose the product from the list", "请从列表中选择商品"),
    # models and variants
    (r"unknown model (?P<model>.*); available: (?P<available>.*)", "未知的模型 {model}；可用的模型：{available}"),
    (r"no generator that can (?P<what>\w+) in .*", "这里没有可以完成此操作的生成模型"),
    (r"generate some variants first", "请先生成一些变体"),
    (r"there is no variant #(?P<k>\d+); pick one of 1\.\.(?P<n>\d+)", "没有第 {k} 个变体，请在 1 到 {n} 之间选择"),
    (r"there are no earlier variants to go back to", "没有更早的变体可以返回"),
    (r"show a variant from other angles first; then save the set", "请先查看变体的其他角度，再保存这一组"),
    # values
    (r"(?P<what>.+) must be a whole number", "{what}必须是整数"),
    (r"(?P<what>.+) must be a number", "{what}必须是数字"),
    (r"(?P<what>.+) must be text or a number, not a list or an object", "{what}必须是文字或数字，不能是列表或对象"),
    (r"(?P<what>.+) must be text", "{what}必须是文字"),
    # images and uploads (studio/images.py, ui/common.py)
    (r"upload a photo or pick a variant first", "请先上传照片或选择一个变体"),
    (r"no file was given", "没有收到文件"),
    (r"only files uploaded to this app can be used; upload the image again", "只能使用上传到本应用的文件，请重新上传图片"),
    (r"(?P<name>.+) is not an image format this studio reads \(PNG, JPEG, WebP, GIF, BMP or TIFF\)",
     "{name} 不是本工具能读取的图片格式（PNG、JPEG、WebP、GIF、BMP 或 TIFF）"),
    (r"(?P<name>.+) is larger than the limit of (?P<limit>[\d,]+) pixels \(about (?P<mp>\d+) megapixels\); "
     r"downscale it before uploading", "{name} 超过了 {limit} 像素（约 {mp} 百万像素）的上限，请缩小后再上传"),
    (r"(?P<name>.+) is (?P<w>\d+)x(?P<h>\d+) = (?P<n>[\d,]+) pixels, above the limit of (?P<limit>[\d,]+) "
     r"\(about (?P<mp>\d+) megapixels\); downscale it before uploading",
     "{name} 为 {w}x{h} = {n} 像素，超过了 {limit} 像素（约 {mp} 百万像素）的上限，请缩小后再上传"),
    (r"(?P<name>.+) is corrupt: its header cannot be read", "{name} 已损坏：无法读取文件头"),
    (r"(?P<name>.+) is truncated or corrupt and cannot be decoded", "{name} 不完整或已损坏，无法解码"),
    (r"(?P<name>.+) has an empty canvas \((?P<size>\d+x\d+)\)", "{name} 的画布为空（{size}）"),
    (r"(?P<name>.+) is empty \(0 bytes\)", "{name} 是空文件（0 字节）"),
    (r"(?P<name>.+) is larger than the (?P<mb>\d+) MB limit", "{name} 超过了 {mb} MB 的上限"),
    (r"(?P<name>.+) is (?P<size>\d+) MB, above the (?P<mb>\d+) MB limit", "{name} 有 {size} MB，超过了 {mb} MB 的上限"),
    # the edit room, recipes and the board
    (r"paint over the part to repair first \(the brush paints the mask\)", "请先用画笔涂抹需要修复的部分"),
    (r"the mask is empty: paint over the part to repair", "蒙版是空的：请涂抹需要修复的部分"),
    (r"upload a style reference photo first", "请先上传一张风格参考照片"),
    (r"upload a style reference photo first, or choose a house style", "请先上传风格参考照片，或选择一种店铺风格"),
    (r"this page's session id is not valid; reload the page", "此页面的会话无效，请刷新页面"),
    (r"step (?P<k>\d+)(?: \((?P<op>[\w-]+)\))?: (?P<rest>.+)", "第 {k} 步{op}：{rest}"),
    (r"unknown operation (?P<name>.+); known: (?P<known>.+)", "未知的操作 {name}；可用的操作：{known}"),
    (r"step (?P<k>\d+) \((?P<op>[\w-]+)\) would make the image (?P<size>[\d,]+x[\d,]+ = [\d,]+) pixels, above the "
     r"limit of (?P<limit>[\d,]+); remove that step", "第 {k} 步{op}会让图片变为 {size} 像素，超过了 {limit} 像素的上限，请删除这一步"),
    (r"the recipe is too much work for one request from step (?P<k>\d+) \((?P<op>[\w-]+)\) on: split it or work on "
     r"a smaller image", "从第 {k} 步{op}起，这个配方超出了单次请求的工作量：请拆分配方或使用较小的图片"),
    (r"a recipe has at most (?P<most>[\d,]+) steps, this one has (?P<n>[\d,]+)", "一个配方最多 {most} 步，这个有 {n} 步"),
    (r"recipe is not valid JSON: (?P<detail>.+)", "配方不是有效的 JSON：{detail}"),
    (r"there is no step (?P<k>\d+) to change", "没有第 {k} 步可以修改"),
    (r"(?P<what>.+) must be a number in \[(?P<low>\S+), (?P<high>\S+)\], got (?P<got>.*)",
     "{what}必须是 {low} 到 {high} 之间的数字，收到的是 {got}"),
    (r"(?P<what>.+) must be one of (?P<options>.+), got (?P<got>.*)", "{what}必须是以下之一：{options}；收到的是 {got}"),
    (r"(?P<what>.+) must be (?P<kind>a number|a whole number) from (?P<low>\S+) to (?P<high>\S+), got (?P<got>.*)",
     "{what}必须是 {low} 到 {high} 之间的{kind}，收到的是 {got}"),
    (r"sign in to use the board", "请先登录再使用看板"),
    (r"enter your name at the top of the page before reviewing", "审阅前请先在页面顶部填写您的名字"),
    (r"select an item on the board first", "请先在看板上选择一项"),
    # the server
    (r"something went wrong on our side while doing that; please try again", "处理时我们这边出了问题，请重试"),
    (r"that request needs more memory than this server has; try a smaller image", "该请求所需内存超出了服务器的容量，请换一张较小的图片"),
    # the prompt reader's warnings (studio/understand.py, studio/studio.py)
    (r"(?P<what>.+): not a product these models know; nearest: (?P<nearest>.+)",
     "{what}：这些模型不认识这种商品；最接近的是：{nearest}"),
    (r"not sure which (?P<head>.+) this asks for; the model will choose", "不确定要哪种{head}，由模型决定"),
    (r"not understood, so left out: (?P<words>.+)", "没有读懂，已略去：{words}"),
    (r"not understood: (?P<words>.+)", "没有读懂：{words}"),
    (r"set by hand: (?P<said>.+)", "手动设置：{said}"),
    (r"no installed model makes furniture", "没有已安装的模型能生成家具"),
    (r"this reads as (?P<domain>\w+), and (?P<model>.+) was trained on (?P<catalog>[\w-]+)",
     "这看起来是{domain}，而 {model} 是用{catalog}数据训练的"),
    (r"(?P<model>.+) shows products from one view: the (?P<view>[\w -]+) view asked for is not guaranteed",
     "{model} 只会从一个角度展示商品：无法保证所要的{view}视角"),
)
_FIELDS_ZH = {
    "what": lambda s: {"this product": "这种商品"}.get(s, _WHAT_ZH.get(s.removeprefix("the "), s)),
    "nearest": _list_zh, "head": lambda s: _HEADS_ZH.get(s, s), "said": _said_zh,
    "domain": lambda s: _DOMAINS_ZH.get(s, s), "catalog": lambda s: _DOMAINS_ZH.get(s, s),
    "view": lambda s: _VIEWS_ZH.get(s, s),
    "op": lambda s: f"（{s}）" if s else "", "kind": lambda s: {"a number": "数字", "a whole number": "整数"}[s],
    "rest": lambda s: _translate(s) or s,                          # the step's own message, when known
}
_COMPILED = tuple((re.compile(pattern, re.S), template) for pattern, template in _ZH)


def _translate(message: str) -> str | None:
    """The Chinese of one of the catalogue's sentences, else None."""
    for pattern, template in _COMPILED:
        found = pattern.fullmatch(message)
        if found:
            return template.format(**{k: _FIELDS_ZH.get(k, str)(v or "") for k, v in found.groupdict().items()})
    return None


def localise(message: str, language: str) -> str:
    """`message` (one of the studio's English sentences) in `language` ('en' or 'zh')."""
    if language != "zh" or not message:
        return message
    return _translate(message) or f"未能完成：{message}"
