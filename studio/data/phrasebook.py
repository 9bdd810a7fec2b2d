"""How merchants ask for products, in English and Chinese: the phrasing bank the prompt-understanding heads
learn from (studio/train/understand.py). Much wider than the caption templates the generators were trained
on: merchant and marketplace wording, attribute-first and attribute-only prompts, word order, typos.

Everything here is written for this project from general shop vocabulary; none of it is taken from the
evaluation prompt suites (studio/eval/prompts/), which stay held out.

    >>> rng = np.random.default_rng(0)
    >>> phrase_fashion({"category": "sneaker", "color": "red", "background": "white"}, rng, "zh")
    '白底红色运动鞋'
"""

from __future__ import annotations

import numpy as np

from .captions import BACKGROUND_WORDS, CATEGORY_WORDS, COLOR_WORDS

# ---- English: more words per label than the captions use --------------------------------------------
EN_CATEGORY = {
    "tshirt": CATEGORY_WORDS["tshirt"] + ("tshirt", "graphic tee", "cotton t-shirt", "v-neck tee", "top",
                                          "tank top", "basic tee", "oversized tee", "polo shirt"),
    "trouser": CATEGORY_WORDS["trouser"] + ("jeans", "chinos", "joggers", "leggings", "cargo pants",
                                            "wide-leg pants", "dress pants", "denim", "sweatpants"),
    "pullover": CATEGORY_WORDS["pullover"] + ("hoodie", "sweatshirt", "cardigan", "knitwear", "fleece",
                                              "turtleneck", "crewneck", "wool sweater", "cable knit"),
    "dress": CATEGORY_WORDS["dress"] + ("gown", "sundress", "maxi dress", "cocktail dress", "slip dress",
                                        "evening dress", "wrap dress", "mini dress"),
    "coat": CATEGORY_WORDS["coat"] + ("parka", "blazer", "trench coat", "puffer jacket", "raincoat",
                                      "windbreaker", "denim jacket", "bomber jacket", "anorak"),
    "sandal": CATEGORY_WORDS["sandal"] + ("flip flops", "slides", "espadrilles", "heeled sandals",
                                          "beach sandals", "slippers", "gladiator sandals"),
    "shirt": CATEGORY_WORDS["shirt"] + ("oxford shirt", "dress shirt", "flannel shirt", "linen shirt",
                                        "work shirt", "denim shirt", "collared shirt"),
    "sneaker": CATEGORY_WORDS["sneaker"] + ("running shoes", "kicks", "tennis shoes", "high-tops",
                                            "canvas shoes", "basketball shoes", "low-top sneakers", "runners"),
    "bag": CATEGORY_WORDS["bag"] + ("backpack", "clutch", "crossbody bag", "satchel", "leather bag",
                                    "shopping bag", "messenger bag", "hobo bag", "bucket bag"),
    "ankle_boot": CATEGORY_WORDS["ankle_boot"] + ("booties", "chelsea boots", "combat boots", "boots",
                                                  "leather boots", "heeled boots", "desert boots"),
}
EN_COLOR = {
    "black": COLOR_WORDS["black"] + ("onyx", "pitch black", "matte black"),
    "white": COLOR_WORDS["white"] + ("pure white", "chalk white", "milky white"),
    "gray": COLOR_WORDS["gray"] + ("charcoal grey", "heather grey", "silver", "stone grey"),
    "red": COLOR_WORDS["red"] + ("ruby", "fire red", "brick red", "wine red", "burgundy"),
    "orange": COLOR_WORDS["orange"] + ("coral orange", "amber", "burnt orange", "rust"),
    "yellow": COLOR_WORDS["yellow"] + ("mustard", "canary yellow", "butter yellow", "gold"),
    "green": COLOR_WORDS["green"] + ("olive", "lime green", "grass green", "mint green", "khaki green"),
    "teal": COLOR_WORDS["teal"] + ("turquoise", "aqua", "peacock blue", "sea green"),
    "blue": COLOR_WORDS["blue"] + ("sky blue", "azure", "denim blue", "electric blue", "sapphire"),
    "navy": COLOR_WORDS["navy"] + ("deep navy", "ink blue", "marine blue", "indigo"),
    "purple": COLOR_WORDS["purple"] + ("lavender", "lilac", "mauve", "eggplant", "magenta"),
    "pink": COLOR_WORDS["pink"] + ("blush pink", "fuchsia", "salmon pink", "dusty pink"),
    "brown": COLOR_WORDS["brown"] + ("coffee", "mocha", "walnut", "tobacco brown", "cognac"),
    "beige": COLOR_WORDS["beige"] + ("khaki", "nude", "oatmeal", "taupe", "sand beige"),
}
EN_BACKGROUND = {
    "white": BACKGROUND_WORDS["white"] + ("clean white", "all-white", "bright white"),
    "light_gray": BACKGROUND_WORDS["light_gray"] + ("silver grey", "light grey seamless", "dove grey"),
    "cream": BACKGROUND_WORDS["cream"] + ("warm white", "beige", "champagne", "vanilla"),
    "pastel_blue": BACKGROUND_WORDS["pastel_blue"] + ("sky blue", "pale blue", "soft blue"),
    "pastel_pink": BACKGROUND_WORDS["pastel_pink"] + ("pale pink", "soft pink", "rose pink"),
    "black": BACKGROUND_WORDS["black"] + ("jet black", "dark grey", "pitch black"),
}
EN_BACKGROUND_NOUNS = ("background", "backdrop", "seamless", "studio background", "sweep", "bg")

# {p}: the product phrase ("red sneakers"); {c}, {n}: colour and noun; {b}: background word.
EN_TEMPLATES = (
    "{p} on a {b} background", "{p} on {b}", "{p}, {b} backdrop", "{n}, {c}, {b} background",
    "{c} {n} against a {b} {bn}", "{b} background, {p}", "{p} product photo, {b} {bn}",
    "main image: {p} on {b}", "{p} for my shop, {b} {bn} please", "photo of {p}, studio shot, {b} {bn}",
    "{n} in {c} on a {b} {bn}", "{n} {c} {b} {bn}", "listing photo {p} {b} {bn}", "{p} isolated on {b}",
    "i need {p} on a {b} background", "{p} with a {b} {bn}", "{c} colored {n}, {b} {bn}",
    "hero shot of {p} on {b}", "{p}, flat lay, {b} {bn}", "{b} {bn} with {p}",
)
EN_NO_BACKGROUND = ("{p}", "{p} product photo", "a {c} {n}", "{n} in {c}", "{c} {n} studio shot",
                    "photo of {p}", "{n}, {c}", "{p} for an online store")
EN_NO_COLOR = ("{n} on a {b} background", "{n}, {b} {bn}", "a {n}", "{n} product photo", "{n} on {b}",
               "photo of a {n}, {b} {bn}", "{n}")

# ---- Chinese --------------------------------------------------------------------------------------
ZH_CATEGORY = {
    "tshirt": ("T恤", "短袖", "短袖T恤", "圆领T恤", "体恤", "打底衫"),
    "trouser": ("裤子", "长裤", "西裤", "休闲裤", "牛仔裤", "阔腿裤"),
    "pullover": ("毛衣", "针织衫", "套头衫", "卫衣", "羊毛衫", "套头毛衣"),
    "dress": ("连衣裙", "裙子", "长裙", "礼服裙", "吊带裙", "半身长裙"),
    "coat": ("外套", "大衣", "夹克", "风衣", "羽绒服", "西装外套"),
    "sandal": ("凉鞋", "拖鞋", "凉拖", "沙滩鞋", "罗马凉鞋"),
    "shirt": ("衬衫", "衬衣", "女式衬衫", "长袖衬衫", "牛津衬衫"),
    "sneaker": ("运动鞋", "跑鞋", "球鞋", "板鞋", "休闲鞋", "跑步鞋"),
    "bag": ("包", "手提包", "包包", "托特包", "单肩包", "挎包", "双肩包", "女包"),
    "ankle_boot": ("短靴", "踝靴", "切尔西靴", "马丁靴", "靴子", "裸靴"),
}
ZH_COLOR = {
    "black": ("黑色", "黑", "纯黑"), "white": ("白色", "白", "纯白"), "gray": ("灰色", "灰", "深灰色"),
    "red": ("红色", "红", "大红色", "酒红色"), "orange": ("橙色", "橘色", "橘红色"),
    "yellow": ("黄色", "黄", "柠檬黄"), "green": ("绿色", "绿", "墨绿色", "军绿色"),
    "teal": ("青色", "蓝绿色", "孔雀绿"), "blue": ("蓝色", "蓝", "宝蓝色", "天蓝色"),
    "navy": ("藏青色", "海军蓝", "深蓝色", "藏蓝色"), "purple": ("紫色", "紫", "薰衣草紫"),
    "pink": ("粉色", "粉红色", "粉"), "brown": ("棕色", "咖啡色", "褐色", "巧克力色"),
    "beige": ("米色", "卡其色", "驼色", "杏色"),
}
ZH_BACKGROUND = {
    "white": ("白色背景", "白底", "纯白背景", "白色底"), "light_gray": ("浅灰色背景", "浅灰底", "淡灰色背景"),
    "cream": ("米白色背景", "奶油色背景", "象牙白背景", "米白底"),
    "pastel_blue": ("浅蓝色背景", "淡蓝底", "浅蓝底", "淡蓝色背景"),
    "pastel_pink": ("浅粉色背景", "淡粉色背景", "浅粉底"), "black": ("黑色背景", "黑底", "纯黑背景"),
}
ZH_TEMPLATES = ("{b}上的{c}{n}", "{c}{n}，{b}", "{b}{c}{n}", "{c}{n} {b} 主图", "{n}，{c}，{b}",
                "电商主图：{c}{n}，{b}", "{c}的{n}放在{b}上", "一件{c}{n}，{b}", "{b}，{c}{n}产品图",
                "{c}{n}商品图，{b}", "要一张{c}{n}的图，{b}")
ZH_NO_BACKGROUND = ("{c}{n}", "{c}的{n}", "一件{c}{n}", "{c}{n}产品图", "{n} {c}")
ZH_NO_COLOR = ("{b}上的{n}", "{n}，{b}", "{n}", "{n}产品图", "{b}{n}主图")

# ---- furniture nouns both languages share (the furniture model's own names are English) ------------
FURNITURE_NOUNS_ZH = {
    "sofa": ("沙发", "布艺沙发", "双人沙发"), "armchair": ("扶手椅", "单人沙发"), "chair": ("椅子", "餐椅", "办公椅"),
    "table": ("桌子", "餐桌", "茶几"), "desk": ("书桌", "写字台"), "bed": ("床", "双人床", "单人床"),
    "lamp": ("台灯", "落地灯", "灯"), "bookcase": ("书架", "书柜"), "cabinet": ("柜子", "橱柜", "储物柜"),
    "wardrobe": ("衣柜",), "stool": ("凳子", "高脚凳"), "bench": ("长凳", "长椅"), "plant": ("盆栽", "绿植"),
    "door": ("门", "木门"), "window": ("窗户",), "bathtub": ("浴缸",), "toilet": ("马桶",),
    "washbasin": ("洗手盆", "洗脸盆"), "oven": ("烤箱",), "fridge": ("冰箱",), "piano": ("钢琴",),
}
FURNITURE_ZH_TEMPLATES = ("{b}上的{n}", "{n}，{b}", "{n}", "一张{n}的渲染图", "{n} 3D渲染，{b}", "{b}{n}")
# ... and with the colour of the piece (a colour word before a furniture noun is the piece's, never the backdrop's)
FURNITURE_ZH_COLOR_TEMPLATES = ("{b}上的{c}{n}", "{c}{n}，{b}", "{c}的{n}，{b}", "{b}{c}{n}", "{c}{n}放在{b}上",
                                "一张{c}{n}的渲染图，{b}", "{c}{n} {b}", "{n}，{c}，{b}")
FURNITURE_ZH_COLOR_ONLY = ("{c}{n}", "{c}的{n}", "一张{c}{n}", "一个{c}{n}", "{c}{n}的渲染图", "{n} {c}")

# ---- products no installed model makes (training negatives; the held-out list is
#      studio/eval/prompts/unknown-products.txt, and no negative shares its product noun with a line there) ----
# Chosen so none names a Sweet Home 3D item or a fashion category (checked when the bank is built).
UNKNOWN_EN = (
    "headphones", "sunglasses", "necklace", "earrings", "diamond ring", "baseball cap", "silk scarf",
    "leather gloves", "leather belt", "necktie", "wool socks", "smartphone", "tablet computer",
    "digital camera", "mechanical keyboard", "computer mouse", "teddy bear", "lipstick", "shampoo bottle",
    "scented candle", "coffee mug", "teapot", "water bottle", "acoustic guitar", "football", "tennis racket",
    "skateboard", "bicycle helmet", "dog collar", "phone case", "sneaker cleaner kit", "protein powder",
    "face cream", "nail polish", "hair dryer", "electric toothbrush", "board game", "jigsaw puzzle",
    "fishing rod", "yoga mat", "dumbbells", "smart speaker", "power bank", "usb cable", "video game console",
    "drawing tablet", "sewing machine", "rice cooker", "kettle", "cutting board", "chopsticks",
    "coffee maker", "air fryer", "food processor", "waffle iron", "saucepan", "wok", "kitchen knife",
    "drum kit", "flute", "saxophone", "cello", "ukulele", "harmonica", "tennis ball", "volleyball",
    "baseball bat", "hockey stick", "ski goggles", "snowboard", "kayak", "fitness tracker", "e-reader",
    "gaming headset", "webcam", "router", "hard drive", "memory card", "graphics card", "monitor arm",
    "highlighter pens", "sticky notes", "paper clips", "pencil case", "eraser",
    "lip gloss", "mascara", "eyeshadow palette", "hair clip", "sunscreen", "body lotion", "razor",
    "pendant", "brooch", "anklet", "cufflinks", "tiara", "hair band", "bow tie", "suspenders",
    "lego set", "action figure", "doll", "kite", "yo-yo", "puzzle cube", "toy train",
    "screwdriver", "hammer", "power drill", "tape measure", "wrench", "garden gloves", "paint roller",
    "chocolate bar", "coffee beans", "olive oil", "honey jar", "tea bags", "cereal box", "wine glass set",
    "thermos flask", "picnic blanket", "hiking poles", "sleeping mask", "earplugs", "hand sanitizer", "face mask",
    "bubble tea", "party balloons", "pet carrier", "bird feeder", "watering can", "greeting card", "baby bib",
    "car phone mount", "cat litter", "dog leash", "protein bar", "jump rope", "swim goggles", "badminton racket",
    "watercolor paints", "crayons", "envelope", "wax seal", "car air freshener", "windshield wiper", "motor oil",
    "pill organizer", "blood pressure monitor", "heating pad", "hot water bottle",
)
UNKNOWN_ZH = ("耳机", "太阳镜", "项链", "耳环", "戒指", "棒球帽", "丝巾", "手套", "皮带", "领带", "袜子", "智能手机",
              "平板电脑", "相机", "键盘", "鼠标", "毛绒玩具", "口红", "洗发水", "香薰蜡烛", "咖啡杯", "茶壶", "水杯",
              "吉他", "足球", "网球拍", "滑板", "头盔", "手机壳", "面霜", "指甲油", "吹风机", "电动牙刷", "瑜伽垫",
              "哑铃", "充电宝", "数据线", "游戏机", "电饭煲", "电水壶", "砧板", "筷子", "咖啡机", "空气炸锅", "炒锅",
              "菜刀", "小提琴琴弓", "萨克斯", "二胡", "篮球架", "羽毛球拍", "滑雪镜", "智能手环", "电子书阅读器",
              "路由器", "硬盘", "内存卡", "显卡", "荧光笔", "便利贴", "铅笔盒", "橡皮", "唇彩", "睫毛膏", "眼影盘",
              "发夹", "防晒霜", "身体乳", "剃须刀", "吊坠", "胸针", "袖扣", "发带", "领结", "积木", "手办", "娃娃",
              "风筝", "魔方", "螺丝刀", "锤子", "电钻", "卷尺", "扳手", "巧克力", "咖啡豆", "橄榄油", "蜂蜜", "茶包",
              "保温杯", "野餐垫", "登山杖", "眼罩", "耳塞", "洗手液", "口罩", "奶茶", "气球", "宠物航空箱", "喂鸟器",
              "洒水壶", "贺卡", "车载手机支架", "围兜", "猫砂", "狗绳", "跳绳", "泳镜", "水彩颜料", "蜡笔", "信封",
              "火花塞", "药盒", "血压计", "暖宝宝")
UNKNOWN_TEMPLATES_EN = ("{u}", "{c} {u}", "{c} {u} on a {b} background", "{u}, {c}, studio shot", "{u} product photo",
                        "{u} on {b}", "photo of a {u}")
UNKNOWN_TEMPLATES_ZH = ("{u}", "{c}{u}", "{b}上的{c}{u}", "{u}，{c}，{b}", "{u}产品图")


def _pick(rng: np.random.Generator, options):
    return options[int(rng.integers(len(options)))]


def typo(text: str, rng: np.random.Generator) -> str:
    """One keyboard slip in a word of three or more letters: a dropped, doubled or swapped letter."""
    words = text.split(" ")
    long = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha() and w.isascii()]
    if not long:
        return text
    i = long[int(rng.integers(len(long)))]
    w, k = words[i], int(rng.integers(1, len(words[i]) - 1))
    kind = int(rng.integers(3))
    words[i] = (w[:k] + w[k + 1:]) if kind == 0 else (w[:k] + w[k] + w[k:]) if kind == 1 else \
        (w[:k - 1] + w[k] + w[k - 1] + w[k + 1:])
    return " ".join(words)


def phrase_fashion(labels: dict, rng: np.random.Generator, language: str = "en") -> str:
    """One merchant phrasing of fashion labels (category required; colour/background may be None)."""
    category, color, background = labels["category"], labels.get("color"), labels.get("background")
    if language == "zh":
        n, c = _pick(rng, ZH_CATEGORY[category]), _pick(rng, ZH_COLOR[color]) if color else ""
        b = _pick(rng, ZH_BACKGROUND[background]) if background else ""
        templates = ZH_TEMPLATES if color and background else ZH_NO_BACKGROUND if color else ZH_NO_COLOR \
            if background else ("{n}", "{n}产品图")
        return _pick(rng, templates).format(n=n, c=c, b=b)
    n, c = _pick(rng, EN_CATEGORY[category]), _pick(rng, EN_COLOR[color]) if color else ""
    b = _pick(rng, EN_BACKGROUND[background]) if background else ""
    templates = EN_TEMPLATES if color and background else EN_NO_BACKGROUND if color else EN_NO_COLOR \
        if background else ("{n}", "a {n}", "{n} product photo")
    text = _pick(rng, templates).format(p=f"{c} {n}".strip(), c=c, n=n, b=b, bn=_pick(rng, EN_BACKGROUND_NOUNS))
    return text if rng.random() > 0.15 else typo(text, rng)


def phrase_unknown(rng: np.random.Generator, language: str = "en", products=None) -> str:
    """A request for a product no installed model makes, sometimes with a colour and a background."""
    from .vocab import BACKGROUNDS, COLORS

    c = _pick(rng, list(COLORS))
    b = _pick(rng, list(BACKGROUNDS))
    if language == "zh":
        return _pick(rng, UNKNOWN_TEMPLATES_ZH).format(u=_pick(rng, products or UNKNOWN_ZH), c=_pick(rng, ZH_COLOR[c]),
                                                      b=_pick(rng, ZH_BACKGROUND[b]))
    return _pick(rng, UNKNOWN_TEMPLATES_EN).format(u=_pick(rng, products or UNKNOWN_EN), c=_pick(rng, EN_COLOR[c]),
                                                   b=_pick(rng, EN_BACKGROUND[b]))


def zh_templates() -> tuple[str, ...]:
    """Every Chinese template here (fashion, furniture, unknown products): their fixed parts are words the
    heads know (the vocabulary) and words that name no product (filler_words)."""
    return (*ZH_TEMPLATES, *ZH_NO_BACKGROUND, *ZH_NO_COLOR, *FURNITURE_ZH_TEMPLATES, *FURNITURE_ZH_COLOR_TEMPLATES,
            *FURNITURE_ZH_COLOR_ONLY, *UNKNOWN_TEMPLATES_ZH)


def filler_words() -> tuple[frozenset[str], tuple[str, ...]]:
    """Words that name no product: colours, backgrounds, rooms and the fixed words of every template here
    and in the captions ("product photo of", "on a ... backdrop", "白底", "主图"). English as a set; Chinese
    longest first (removed from a run in that order). A prompt left with nothing but these says no product."""
    import re

    from .captions import (BACKGROUND_ALIASES, BACKGROUND_NOUNS, FURNITURE_ROOMS, FURNITURE_TEMPLATES, TEMPLATES)

    english: set[str] = {"a", "an", "the", "of", "for", "with", "and", "in", "on", "to", "at", "over", "me", "show"}
    for table in (EN_COLOR, EN_BACKGROUND, BACKGROUND_WORDS, BACKGROUND_ALIASES, COLOR_WORDS):
        english.update(w for words in table.values() for phrase in words for w in re.findall(r"[a-z][a-z'-]*", phrase))
    english.update(w for phrase in (*EN_BACKGROUND_NOUNS, *BACKGROUND_NOUNS, *filter(None, FURNITURE_ROOMS.values()))
                   for w in phrase.split())
    for template in (*EN_TEMPLATES, *EN_NO_BACKGROUND, *EN_NO_COLOR, *UNKNOWN_TEMPLATES_EN, *TEMPLATES,
                     *FURNITURE_TEMPLATES):
        english.update(re.findall(r"[a-z][a-z'-]*", re.sub(r"\{\w+\}", " ", template.lower())))
    chinese: set[str] = {w for table in (ZH_COLOR, ZH_BACKGROUND) for words in table.values() for w in words}
    for template in zh_templates():
        chinese.update(p for p in re.split(r"\{\w+\}|[，：\s]", template) if re.fullmatch(r"[\u3400-\u9fff]+", p))
    return frozenset(english), tuple(sorted(chinese, key=len, reverse=True))
