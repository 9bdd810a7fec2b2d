"""How merchants ask for products, in English and Chinese: the phrasing bank the prompt-understanding heads
learn from (studio/train/understand.py). Much wider than the caption templates the generators were trained
on: merchant and marketplace wording, attribute-first and attribute-only prompts, word order, typos.

Everything here is written for this project from general shop vocabulary; none of it is taken from the
evaluation prompt suites (studio/eval/prompts/), which stay held out. One exception, said plainly: the wider
Chinese tables (`--zh-wide`) were written after reading the shipped heads' misreads of fashion-zh-2, so that
list guided them and decides nothing; fashion-zh-3 was written after them and is the held-out one.

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
# `train understand --en-colours`: product colours the English lists above lack, although merchants use them
# ("cream knit cardigan"); "cream" is also a backdrop word there, so the heads learn it from its place
EN_COLOR_EXTRA = {"white": ("ivory", "off-white", "off white", "ecru"), "beige": ("cream", "creamy", "cream-coloured")}
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

# ---- Chinese, wider (`train understand --zh-wide`): the English lists' words in Chinese, more colour words,
#      a backdrop named by its colour alone ("背景是浅灰色"), cuts, materials, styles and who it is for, and the
#      request forms merchants type ("帮我生成一张...主图"). Extra words and templates beside the ones above.
ZH_CATEGORY_WIDE = {
    "tshirt": ("印花T恤", "纯棉T恤", "V领T恤", "上衣", "背心", "基础款T恤", "宽松T恤", "Polo衫", "半袖", "短袖上衣"),
    "trouser": ("卡其裤", "束脚裤", "打底裤", "工装裤", "正装裤", "运动裤", "卫裤", "直筒裤", "九分裤", "喇叭裤"),
    "pullover": ("连帽卫衣", "圆领卫衣", "开衫", "针织开衫", "抓绒衫", "高领毛衣", "圆领毛衣", "麻花毛衣", "羊绒衫"),
    "dress": ("礼服", "晚礼服", "太阳裙", "长款连衣裙", "鸡尾酒裙", "裹身裙", "短款连衣裙", "碎花连衣裙", "旗袍"),
    "coat": ("派克大衣", "西服", "长款风衣", "棉服", "羽绒外套", "雨衣", "冲锋衣", "牛仔外套", "飞行员夹克", "棒球服",
             "皮衣", "毛呢大衣"),
    "sandal": ("人字拖", "一字拖", "草编凉鞋", "高跟凉鞋", "坡跟凉鞋", "沙滩拖鞋", "家居拖鞋", "夹脚拖"),
    "shirt": ("正装衬衫", "法兰绒衬衫", "亚麻衬衫", "工装衬衫", "牛仔衬衫", "翻领衬衫", "格子衬衫", "雪纺衬衫"),
    "sneaker": ("慢跑鞋", "网球鞋", "高帮运动鞋", "高帮鞋", "帆布鞋", "篮球鞋", "低帮运动鞋", "老爹鞋", "训练鞋"),
    "bag": ("背包", "双肩背包", "手拿包", "斜挎包", "剑桥包", "皮包", "购物袋", "邮差包", "水桶包", "帆布包", "腋下包"),
    "ankle_boot": ("短筒靴", "切尔西短靴", "军靴", "工装靴", "皮靴", "高跟短靴", "沙漠靴", "机车靴"),
}
ZH_COLOR_WIDE = {
    "black": ("哑光黑", "曜石黑", "炭黑色"), "white": ("乳白色", "本白色", "雪白色"),
    "gray": ("银色", "银灰色", "炭灰色", "烟灰色", "麻灰色"), "red": ("砖红色", "枣红色", "火红色", "宝石红"),
    "orange": ("琥珀色", "焦橙色", "珊瑚橙"), "yellow": ("芥末黄", "金黄色", "金色", "明黄色"),
    "green": ("橄榄绿", "薄荷绿", "草绿色", "牛油果绿"), "teal": ("松石绿", "水蓝色", "孔雀蓝"),
    "blue": ("湛蓝色", "牛仔蓝", "宝石蓝", "克莱因蓝"), "navy": ("靛蓝色", "墨蓝色", "深海蓝"),
    "purple": ("淡紫色", "丁香紫", "香芋紫", "紫红色"), "pink": ("樱花粉", "裸粉色", "玫粉色", "桃粉色"),
    "brown": ("焦糖色", "摩卡色", "胡桃色", "深棕色"), "beige": ("奶茶色", "裸色", "燕麦色", "沙色"),
}
ZH_BACKGROUND_WIDE = {
    "white": ("白底图", "白色背景板"), "light_gray": ("浅灰色底", "灰白背景"), "cream": ("米色背景", "奶白色背景"),
    "pastel_blue": ("淡蓝色底", "浅蓝背景"), "pastel_pink": ("淡粉底", "浅粉背景"), "black": ("黑色底", "纯黑底"),
}
ZH_BACKDROP_COLOR = {              # a backdrop named by its colour alone, after 背景
    "white": ("白色", "纯白色", "纯白"), "light_gray": ("浅灰色", "淡灰色", "浅灰"), "cream": ("米白色", "奶油色", "米白"),
    "pastel_blue": ("浅蓝色", "淡蓝色", "浅蓝"), "pastel_pink": ("浅粉色", "淡粉色", "浅粉"), "black": ("黑色", "纯黑色", "黑"),
}
ZH_MEASURE = {"tshirt": "件", "trouser": "条", "pullover": "件", "dress": "条", "coat": "件", "sandal": "双",
              "shirt": "件", "sneaker": "双", "bag": "个", "ankle_boot": "双"}
ZH_WHO = ("男款", "女款", "男士", "女士", "男式", "女式", "儿童", "情侣款")
ZH_MODIFIERS = ("宽松", "修身", "长款", "短款", "高腰", "直筒", "纯棉", "真皮", "皮质", "针织", "亚麻", "羊绒", "羊毛",
                "牛仔", "帆布", "雪纺", "丝绸", "蕾丝", "灯芯绒", "麂皮", "毛呢", "简约", "复古", "时尚", "休闲", "百搭",
                "韩版", "新款", "经典款", "基础款", "夏季", "冬季", "秋冬", "春夏", "加厚", "轻薄", "纯色", "条纹", "格子",
                "印花", "碎花", "简约风格的", "高级感", "ins风")
ZH_SHOP_WORDS = ("淘宝主图", "电商主图", "商品主图", "详情页", "高清", "产品图", "主图")
# {c}{n}: colour and noun (the noun may carry a cut or material); {b}: a backdrop phrase; {bc}: a backdrop colour
# alone; {q}: the noun's measure word; {s}: a shop word
ZH_TEMPLATES_WIDE = ("{b}下的{c}{n}", "{c}{n}，背景是{bc}", "{c}{n}，背景用{bc}", "{c}{n}，背景{bc}",
                     "帮我生成一张{b}的{c}{n}{s}", "请生成：{c}{n}，{b}", "我要一{q}{c}{n}，{b}", "要一{q}{c}的{n}，背景用{bc}",
                     "在{b}上放一{q}{c}{n}", "{c}{n}（{b}）", "{b}图：{c}{n}", "{b}，一{q}{c}{n}", "一{q}{c}{n}，放在{b}上",
                     "{c}{n}放在{b}上", "{c}{n}，{b}，{s}", "{b} {c}{n}", "{c}{n} {b}", "背景{bc}，{c}{n}")
ZH_NO_BACKGROUND_WIDE = ("一{q}{c}{n}", "{c}{n}，{s}", "帮我生成{c}{n}的图片", "{n}，{c}", "请生成一{q}{c}的{n}",
                         "{c}{n}{s}")
ZH_NO_COLOR_WIDE = ("{n}，背景是{bc}", "{b}下的{n}", "一{q}{n}，{b}", "帮我生成一张{b}的{n}{s}", "{n}（{b}）")
UNKNOWN_TEMPLATES_ZH_WIDE = ("帮我生成一张{b}的{c}{u}{s}", "{c}{u}，背景是{bc}", "{b}下的{c}{u}", "一个{c}{u}，{b}",
                             "{c}{u}（{b}）", "请生成：{c}{u}", "{u}，{c}，{s}")
FURNITURE_ZH_MODIFIERS = ("实木", "木制", "木质", "金属", "铁艺", "皮质", "布艺", "北欧风", "现代简约", "中式", "欧式",
                          "复古", "小户型", "简约")

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
FURNITURE_ZH_TEMPLATES_WIDE = ("{n}，背景是{bc}", "{b}下的{n}", "帮我生成一张{b}的{n}渲染图")
FURNITURE_ZH_COLOR_TEMPLATES_WIDE = ("{c}{n}，背景是{bc}", "{b}下的{c}{n}", "帮我生成一张{b}的{c}{n}渲染图",
                                     "一个{c}的{n}，背景用{bc}")

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


def phrase_fashion(labels: dict, rng: np.random.Generator, language: str = "en", wide: bool = False,
                   en_colours: bool = False) -> str:
    """One merchant phrasing of fashion labels (category required; colour/background may be None). wide: the
    Chinese phrasings draw on the wider tables too; en_colours: the English ones on EN_COLOR_EXTRA too (without
    either, the phrasings are drawn exactly as before)."""
    category, color, background = labels["category"], labels.get("color"), labels.get("background")
    if language == "zh" and wide:
        return _phrase_fashion_zh_wide(category, color, background, rng)
    if language == "zh":
        n, c = _pick(rng, ZH_CATEGORY[category]), _pick(rng, ZH_COLOR[color]) if color else ""
        b = _pick(rng, ZH_BACKGROUND[background]) if background else ""
        templates = ZH_TEMPLATES if color and background else ZH_NO_BACKGROUND if color else ZH_NO_COLOR \
            if background else ("{n}", "{n}产品图")
        return _pick(rng, templates).format(n=n, c=c, b=b)
    n, c = _pick(rng, EN_CATEGORY[category]), _pick(rng, _en_colour_words(color, en_colours)) if color else ""
    b = _pick(rng, EN_BACKGROUND[background]) if background else ""
    templates = EN_TEMPLATES if color and background else EN_NO_BACKGROUND if color else EN_NO_COLOR \
        if background else ("{n}", "a {n}", "{n} product photo")
    text = _pick(rng, templates).format(p=f"{c} {n}".strip(), c=c, n=n, b=b, bn=_pick(rng, EN_BACKGROUND_NOUNS))
    return text if rng.random() > 0.15 else typo(text, rng)


def _en_colour_words(color: str, extra: bool) -> tuple[str, ...]:
    return EN_COLOR[color] + (EN_COLOR_EXTRA.get(color, ()) if extra else ())


def _zh_slots(rng: np.random.Generator, color: str | None, background: str | None) -> dict:
    """The colour, backdrop, backdrop-colour and shop-word slots of a wide Chinese phrasing."""
    return {"c": _pick(rng, ZH_COLOR[color] + ZH_COLOR_WIDE[color]) if color else "",
            "b": _pick(rng, ZH_BACKGROUND[background] + ZH_BACKGROUND_WIDE[background]) if background else "",
            "bc": _pick(rng, ZH_BACKDROP_COLOR[background]) if background else "", "s": _pick(rng, ZH_SHOP_WORDS)}


def _phrase_fashion_zh_wide(category: str, color: str | None, background: str | None,
                            rng: np.random.Generator) -> str:
    n = _pick(rng, ZH_CATEGORY[category] + ZH_CATEGORY_WIDE[category])
    if rng.random() < 0.35:                                    # a cut, material or style: 修身牛仔裤, 真皮短靴
        n = _pick(rng, ZH_MODIFIERS) + n
    slots = _zh_slots(rng, color, background)
    if rng.random() < 0.15:                                    # who it is for: 女士酒红色大衣, 男款西裤
        who = _pick(rng, ZH_WHO)
        slots["c"], n = (who + slots["c"], n) if color else ("", who + n)
    templates = ((ZH_TEMPLATES + ZH_TEMPLATES_WIDE) if background else ZH_NO_BACKGROUND + ZH_NO_BACKGROUND_WIDE) \
        if color else saying(ZH_NO_COLOR + ZH_NO_COLOR_WIDE) if background else ("{n}", "{n}产品图", "一{q}{n}",
                                                                                  "帮我生成{n}的图片")
    return _pick(rng, templates).format(n=n, q=ZH_MEASURE[category], **slots)


def saying(templates: tuple[str, ...]) -> tuple[str, ...]:
    """The templates that name the backdrop ({b} or {bc}): the narrow tables' "{n}" and "{n}产品图" say none,
    yet the narrow bank files them under the backdrop drawn (kept so for the old recipe; the wide one is exact)."""
    return tuple(t for t in templates if "{b}" in t or "{bc}" in t)


def phrase_unknown(rng: np.random.Generator, language: str = "en", products=None, wide: bool = False,
                   en_colours: bool = False) -> str:
    """A request for a product no installed model makes, sometimes with a colour and a background (wide: in
    the wider Chinese phrasings too, the product sometimes with a cut or material: 纯棉毛巾)."""
    from .vocab import BACKGROUNDS, COLORS

    c = _pick(rng, list(COLORS))
    b = _pick(rng, list(BACKGROUNDS))
    if language == "zh" and wide:
        u = _pick(rng, products or UNKNOWN_ZH)
        u = _pick(rng, ZH_MODIFIERS) + u if rng.random() < 0.35 else u
        return _pick(rng, UNKNOWN_TEMPLATES_ZH + UNKNOWN_TEMPLATES_ZH_WIDE).format(u=u, **_zh_slots(rng, c, b))
    if language == "zh":
        return _pick(rng, UNKNOWN_TEMPLATES_ZH).format(u=_pick(rng, products or UNKNOWN_ZH), c=_pick(rng, ZH_COLOR[c]),
                                                      b=_pick(rng, ZH_BACKGROUND[b]))
    return _pick(rng, UNKNOWN_TEMPLATES_EN).format(u=_pick(rng, products or UNKNOWN_EN),
                                                   c=_pick(rng, _en_colour_words(c, en_colours)),
                                                   b=_pick(rng, EN_BACKGROUND[b]))


def zh_templates(wide: bool = False) -> tuple[str, ...]:
    """Every Chinese template here (fashion, furniture, unknown products; wide: the wider ones too): their fixed
    parts are words the heads know (the vocabulary) and words that name no product (filler_words)."""
    narrow = (*ZH_TEMPLATES, *ZH_NO_BACKGROUND, *ZH_NO_COLOR, *FURNITURE_ZH_TEMPLATES, *FURNITURE_ZH_COLOR_TEMPLATES,
              *FURNITURE_ZH_COLOR_ONLY, *UNKNOWN_TEMPLATES_ZH)
    return narrow + (ZH_TEMPLATES_WIDE + ZH_NO_BACKGROUND_WIDE + ZH_NO_COLOR_WIDE + UNKNOWN_TEMPLATES_ZH_WIDE +
                     FURNITURE_ZH_TEMPLATES_WIDE + FURNITURE_ZH_COLOR_TEMPLATES_WIDE if wide else ())


def zh_wide_words() -> set[str]:
    """The wider tables' words that name no product: colours, backdrops, cuts and materials, who a product is
    for, shop words and measure words."""
    return {w for table in (ZH_COLOR_WIDE, ZH_BACKGROUND_WIDE, ZH_BACKDROP_COLOR) for words in table.values()
            for w in words} | {*ZH_WHO, *ZH_MODIFIERS, *ZH_SHOP_WORDS, *FURNITURE_ZH_MODIFIERS, *ZH_MEASURE.values()}


def zh_product_nouns() -> tuple[str, ...]:
    """The Chinese product nouns of every table (two characters or more): a text holding one names a product,
    whatever cut or material words (filler) it also holds."""
    return tuple(sorted({n for table in (ZH_CATEGORY, ZH_CATEGORY_WIDE, FURNITURE_NOUNS_ZH) for nouns in table.values()
                         for n in nouns if len(n) > 1}, key=len, reverse=True))


# English words that ask for an image rather than describe one ("can you generate ...", "I'd like ...",
# "show me ...", "... please"): the reader never counts them as words it cannot place, and a prompt left with
# nothing but them and template words names no product. No product noun is among them.
EN_REQUEST_WORDS = frozenset({
    "generate", "create", "make", "show", "draw", "render", "design", "produce", "give", "get", "want", "wanted",
    "need", "like", "love", "would", "could", "can", "will", "please", "pls", "plz", "me", "us", "you", "i", "i'd",
    "i'm", "we", "we'd", "we're", "let's", "let", "some", "looking", "just", "kindly", "hi", "hello",
})
# Nouns that say which catalog a request is for, whatever its other words (`catalog_nouns`): fashion's from the
# category words, furniture's from the item-class rules of the pieces the furniture generator draws; words that
# also name a colour, a material, a view or another thing ("light" grey, "denim", "top", "stand", "chest") stay out
_NOT_A_CATALOG_NOUN = frozenset({"top", "denim", "fleece", "knit", "knitwear", "light", "candle", "lantern",
                                 "flashlight", "spotlight", "fluorescent", "stand", "seat", "safe", "island", "chest",
                                 "vanity", "locker", "blind", "shutter", "elevator", "slides", "press", "bath", "shower",
                                 "puff", "potty", "lamppost"})
_FURNITURE_NOUN_CLASSES = ("lamp", "armchair", "sofa", "bed", "bathroom fixture", "cabinet", "shelf", "table", "chair",
                           "door", "window")


# English words for the furniture noun head's labels beyond the labels themselves, each of the same item class
# (studio.data.taxonomy): what the reader reads a furniture noun from when the heads read none
FURNITURE_NOUN_ALIASES = {"couch": "sofa", "refrigerator": "fridge", "shelf": "bookcase", "shelves": "bookcase",
                          "bookshelf": "bookcase", "basin": "washbasin", "sink": "washbasin", "cupboard": "cabinet",
                          "drawers": "cabinet", "dresser": "cabinet",
                          # common synonyms merchants write (runs/reader-synonyms-rule.txt)
                          **{w: "sofa" for w in ("loveseat", "settee", "sectional", "chesterfield", "divan", "chaise")},
                          **{w: "armchair" for w in ("recliner", "wingback")},
                          **{w: "cabinet" for w in ("sideboard", "credenza", "buffet", "hutch", "nightstand", "bureau",
                                                    "tallboy", "highboy", "vitrine")},
                          "armoire": "wardrobe", "etagere": "bookcase",
                          **{w: "bed" for w in ("daybed", "crib", "cot")},
                          **{w: "stool" for w in ("footstool", "pouf", "pouffe", "barstool")},
                          **{w: "lamp" for w in ("chandelier", "sconce")}}


def catalog_nouns() -> dict[str, frozenset[str]]:
    """Catalog -> the English nouns (one word each, lower case) that name a product of it: "sneakers", "parka",
    "sofa", "wardrobe". The reader sends an English request naming furniture nouns and no fashion noun to
    furniture (`PromptReader.named_catalog`); either catalog's noun alone stops its lean-based unknown flag."""
    from .taxonomy import RULES

    fashion = {phrase.split()[-1] for table in (CATEGORY_WORDS, EN_CATEGORY) for words in table.values()
               for phrase in words}
    furniture = {word for cls, words in RULES if cls in _FURNITURE_NOUN_CLASSES for word in words if " " not in word}
    furniture |= {noun for noun in FURNITURE_NOUNS_ZH if noun not in ("plant", "oven", "fridge", "piano")}
    furniture |= {alias for alias, noun in FURNITURE_NOUN_ALIASES.items() if noun not in ("fridge", "washbasin")}
    return {"fashion": frozenset(fashion - _NOT_A_CATALOG_NOUN), "furniture": frozenset(furniture - _NOT_A_CATALOG_NOUN)}


# English material and finish words: they say what a product is made of, never what it is. The reader counts them
# understood (`descriptive_words`) for both catalogs; they are not filler: the rest of a prompt without its unknown
# words still names something when a material is left ("wood bank" without "bank": a wooden something).
# Written from general furniture and clothing vocabulary
EN_MATERIAL_WORDS = frozenset({
    "metal", "metallic", "steel", "stainless", "iron", "wrought", "cast", "chrome", "chromed", "brass", "copper",
    "bronze", "aluminium", "aluminum", "tin", "zinc", "nickel", "pewter",
    "wood", "wooden", "timber", "solid", "oak", "walnut", "pine", "teak", "birch", "beech", "maple", "mahogany",
    "ash", "elm", "acacia", "bamboo", "plywood", "veneer", "mdf", "rattan", "wicker", "cane", "jute", "seagrass",
    "marble", "granite", "stone", "slate", "travertine", "terrazzo", "concrete", "ceramic", "porcelain", "glass",
    "frosted", "acrylic", "plastic", "resin", "lacquer", "lacquered", "painted", "varnished", "polished", "brushed",
    "hammered", "matte", "matt", "glossy", "gloss", "satin", "upholstered", "tufted", "quilted", "padded", "carved",
    "velvet", "velour", "linen", "cotton", "wool", "woollen", "woolen", "cashmere", "merino", "silk", "chiffon",
    "leather", "faux", "suede", "nubuck", "canvas", "boucle", "bouclé", "corduroy", "tweed", "felt", "fabric",
    "nylon", "polyester", "mesh", "lace", "sheepskin", "shearling",
})


# Chinese material and finish words (two characters or more; a single 木 or 铁 is part of too many other words),
# from general furniture and clothing vocabulary: a run the reader cannot place that is made of them only is
# understood (`PromptReader.unplaced_words`). Not filler, as in English. Some are also cut/material filler above
ZH_MATERIAL_WORDS = (
    "丝绒", "天鹅绒", "真皮", "皮质", "皮革", "牛皮", "头层牛皮", "羊皮", "羊羔毛", "麂皮", "绒面", "仿皮", "人造革", "PU皮",
    "实木", "原木", "木制", "木质", "橡木", "白橡木", "胡桃木", "黑胡桃木", "松木", "柚木", "樱桃木", "榉木", "桦木", "樟木",
    "红木", "竹制", "竹编", "藤编", "藤艺", "藤制", "柳编", "大理石", "岩板", "石材", "水磨石", "混凝土", "水泥",
    "不锈钢", "金属", "铁艺", "钢制", "铝合金", "黄铜", "紫铜", "铜制", "镀铬", "玻璃", "钢化玻璃", "亚克力", "塑料",
    "树脂", "陶瓷", "瓷质", "布艺", "软包", "绒布", "亚麻", "棉麻", "纯棉", "全棉", "棉质", "羊毛", "羊绒", "真丝",
    "丝绸", "桑蚕丝", "雪纺", "帆布", "灯芯绒", "蕾丝", "毛呢", "呢子", "涤纶", "尼龙", "网布", "针织", "哑光", "亮面",
    "烤漆", "磨砂", "拉丝", "镂空",
)
# Chinese style, selling and size words (runs/reader-styles-rule.txt), understood the same way
ZH_STYLE_WORDS = (
    "现代", "现代风", "现代风格", "风格", "轻奢", "轻奢风", "奢华", "高档", "高端", "日式", "美式", "法式", "英式", "意式",
    "北欧", "工业风", "极简", "极简风", "简约风", "复古风", "中古", "中古风", "侘寂风", "田园", "田园风", "文艺", "小清新",
    "爆款", "网红", "潮流", "潮牌", "热卖", "热销", "畅销", "新品", "气质", "优雅", "甜美", "可爱", "时髦", "舒适", "百搭",
    "大码", "小码", "大号", "小号", "中号", "男女同款", "中性", "韩系", "日系", "欧美", "港风", "家用", "户外", "室内",
    "便携", "折叠", "可折叠", "多功能", "高级", "精致", "耐用", "透气", "防水",
)


# Words that describe a product's style, fit, audience, size, season, pattern or price and never name one, from
# general merchant vocabulary: understood like the material words (runs/reader-styles-rule.txt), not filler
EN_STYLE_WORDS = frozenset({
    "modern", "contemporary", "classic", "classical", "timeless", "vintage", "retro", "antique", "rustic", "farmhouse",
    "industrial", "scandinavian", "nordic", "japanese", "japandi", "bohemian", "boho", "coastal", "traditional",
    "mid-century", "minimalist", "minimalistic", "minimal", "elegant", "chic", "stylish", "trendy", "fashionable",
    "luxury", "luxurious", "premium", "deluxe", "high-end", "upscale", "designer", "affordable", "budget", "cheap",
    "casual", "formal", "sporty", "athletic", "cozy", "cosy", "comfortable", "comfy", "soft", "sleek", "simple",
    "cute", "pretty", "beautiful", "gorgeous", "unisex", "womens", "women's", "mens", "men's", "ladies", "ladies'",
    "kids", "kid's", "children's", "boys", "boys'", "girls", "girls'", "lightweight", "oversized", "slim", "fitted",
    "loose", "relaxed", "regular", "large", "small", "big", "tiny", "compact", "tall", "mini", "midi", "maxi",
    "summer", "winter", "spring", "autumn", "seasonal", "floral", "striped", "stripy", "plaid", "checked",
    "patterned", "printed", "plain", "new", "best", "seller", "bestseller", "bestselling", "popular", "quality",
    "handmade", "handcrafted", "custom", "style", "styled", "everyday", "indoor", "outdoor", "versatile", "durable",
    "stackable", "foldable", "folding", "adjustable", "ergonomic", "space-saving", "breathable", "waterproof",
})
# How many and what size (runs/reader-quantities-rule.txt): filler, as "a" is ("pair of" alone names no product,
# so an unknown product asked as "a pair of ice skates" is still found by the ablation)
EN_QUANTITY_WORDS = frozenset({
    "set", "sets", "pair", "pairs", "piece", "pieces", "pc", "pcs", "pack", "packs", "bundle", "lot", "one", "two",
    "three", "four", "five", "six", "seven", "eight", "nine", "ten", "dozen", "single", "double", "twin", "triple",
    "seater", "two-seater", "three-seater", "four-seater", "2-seater", "3-seater", "queen", "king", "size", "sized",
    "person", "people", "xs", "xl", "xxl",
})
# A Chinese quantity: a numeral and a measure word, then 装 or 位 maybe ("两件装", "三人位", "四把")
ZH_QUANTITY = r"[一二两三四五六七八九十几多]+[个件套对双只条张把组位人台盏款][装位]?"


def zh_descriptive_words() -> tuple[str, ...]:
    """The Chinese material and style words (ZH_MATERIAL_WORDS, ZH_STYLE_WORDS) but any that holds a Chinese product
    noun, longest first (taken out of a run in that order)."""
    nouns = zh_product_nouns()
    return tuple(sorted((w for w in (*ZH_MATERIAL_WORDS, *ZH_STYLE_WORDS) if not any(n in w for n in nouns)),
                        key=len, reverse=True))


def descriptive_words() -> frozenset[str]:
    """The English material and style words (EN_MATERIAL_WORDS, EN_STYLE_WORDS) but any a category table uses as a
    product word (none today; the check keeps it so)."""
    product_words = {phrase.split()[-1] for table in (CATEGORY_WORDS, EN_CATEGORY) for words in table.values()
                     for phrase in words}
    return (EN_MATERIAL_WORDS | EN_STYLE_WORDS) - product_words


def filler_words() -> tuple[frozenset[str], tuple[str, ...]]:
    """Words that name no product: colours, backgrounds, rooms and the fixed words of every template here
    and in the captions ("product photo of", "on a ... backdrop", "白底", "主图"). English as a set; Chinese
    longest first (removed from a run in that order). A prompt left with nothing but these says no product."""
    import re

    from .captions import (BACKGROUND_ALIASES, BACKGROUND_NOUNS, FURNITURE_ROOMS, FURNITURE_TEMPLATES, TEMPLATES)

    english: set[str] = {"a", "an", "the", "of", "for", "with", "and", "in", "on", "to", "at", "over", *EN_REQUEST_WORDS,
                         *EN_QUANTITY_WORDS}
    for table in (EN_COLOR, EN_COLOR_EXTRA, EN_BACKGROUND, BACKGROUND_WORDS, BACKGROUND_ALIASES, COLOR_WORDS):
        english.update(w for words in table.values() for phrase in words for w in re.findall(r"[a-z][a-z'-]*", phrase))
    english.update(w for phrase in (*EN_BACKGROUND_NOUNS, *BACKGROUND_NOUNS, *filter(None, FURNITURE_ROOMS.values()))
                   for w in phrase.split())
    for template in (*EN_TEMPLATES, *EN_NO_BACKGROUND, *EN_NO_COLOR, *UNKNOWN_TEMPLATES_EN, *TEMPLATES,
                     *FURNITURE_TEMPLATES):
        english.update(re.findall(r"[a-z][a-z'-]*", re.sub(r"\{\w+\}", " ", template.lower())))
    chinese: set[str] = {w for table in (ZH_COLOR, ZH_BACKGROUND) for words in table.values() for w in words}
    chinese |= {w for w in zh_wide_words() if len(w) > 1}
    for template in zh_templates(wide=True):
        chinese.update(p for p in re.split(r"\{\w+\}|[，：\s]", template) if re.fullmatch(r"[\u3400-\u9fff]+", p))
    return frozenset(english), tuple(sorted(chinese, key=len, reverse=True))
