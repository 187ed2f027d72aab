"""Chinese text for the synthetic district: company names, addresses, people, phone numbers.

Names follow the registered pattern 行政区划 + 字号 + 行业表述 + 组织形式 (e.g. 杭州 + 睿泽 +
网络科技 + 有限公司). Brands (字号) are invented from a pool of characters common in Chinese
company names; every full name is unique, as registration requires. All text is built column-wise
with numpy string operations, and every character is encodable in GBK because two departments
deliver GBK files.
"""

from __future__ import annotations

import numpy as np

from shengxin.synth.codes import digits_string
from shengxin.synth.profiles import SECTOR_INDEX


def _pool(text: str) -> np.ndarray:
    seen: dict[str, None] = {}
    for ch in text:
        if not ch.isspace():
            seen.setdefault(ch, None)
    return np.asarray(list(seen))


BRAND_CHARS = _pool(
    "华创鑫盛达恒信通博睿智云星宇泰安和嘉瑞祥富源丰天海新金光明宏远利德凯晨辰昊航峰聚汇联众"
    "启卓越优佳美乐康健福诚正精锐捷迅领帆驰腾飞龙鹏鸿润泽澜涵清森林青蓝朗逸欣悦雅尚品致迪兴隆"
    "昌旺荣辉灿烨东南江湖山川溪岳石玉琪琳璟宸宁静思维哲慧灵若易百千万亿之道合数象元谷禾米麦"
    "橙柚杉桐松竹梅兰菊樱枫柏舟航帆洲岸湾港屿峻崇巍宏伟奥广坤乾坤炎焱淼鼎铭铂钰锦绣纳维拓普"
)
assert len(BRAND_CHARS) >= 150

#: Industry wording per sector, and for manufacturing per division.
SECTOR_WORDS: dict[str, tuple[str, ...]] = {
    "software": ("科技", "网络科技", "信息技术", "软件", "数据科技", "智能科技", "数字科技", "信息科技"),
    "internet": ("网络科技", "互联网科技", "网络技术", "数字科技", "信息服务"),
    "telecom": ("通信技术", "通讯", "信息网络"),
    "wholesale": ("贸易", "商贸", "供应链管理", "进出口", "实业", "国际贸易"),
    "retail": ("商贸", "百货", "贸易", "商行"),
    "ecommerce": ("电子商务", "电商", "网络科技", "贸易"),
    "construction": ("建设工程", "建筑工程", "装饰工程", "市政工程", "建设"),
    "real_estate": ("置业", "房地产开发", "置地"),
    "property_services": ("物业管理", "房产经纪", "资产管理"),
    "business_services": ("企业管理咨询", "人力资源", "广告", "文化传媒", "会展服务", "商务咨询", "供应链管理"),
    "tech_services": ("生物科技", "技术研究", "科技", "检测技术", "工程设计", "科技服务", "环保科技"),
    "transport": ("物流", "供应链", "运输", "仓储服务"),
    "hospitality": ("餐饮管理", "酒店管理", "餐饮"),
    "culture": ("文化传媒", "影视文化", "文化创意", "体育文化"),
    "finance": ("投资管理", "资产管理", "商务信息咨询"),
    "social_services": ("教育科技", "健康管理", "家政服务", "医疗科技"),
    "agriculture": ("农业开发", "生态农业", "农业科技"),
}
DIVISION_WORDS: dict[str, tuple[str, ...]] = {
    "13": ("食品",), "14": ("食品", "饮品"), "17": ("纺织", "织造"), "18": ("服饰", "服装"),
    "21": ("家具", "家居"), "22": ("纸业", "包装"), "23": ("印刷", "包装印务"),
    "24": ("文体用品", "工艺品"), "26": ("化工", "新材料"), "27": ("生物医药", "医药", "制药"),
    "29": ("塑业", "橡塑制品"), "30": ("建材", "新型材料"), "33": ("五金", "金属制品"),
    "34": ("机械", "机电设备"), "35": ("智能装备", "机械设备"), "36": ("汽车零部件", "汽配"),
    "38": ("电气", "电器"), "39": ("电子", "光电科技", "微电子"), "40": ("仪器仪表", "精密仪器"),
    "41": ("工艺品", "制品"), "44": ("能源", "电力"),
}

#: Legal forms (企业类型) as registered, their share and the name suffix they require.
LEGAL_FORMS: tuple[tuple[str, float, str], ...] = (
    ("有限责任公司（自然人投资或控股）", 0.55, "有限公司"),
    ("有限责任公司（自然人独资）", 0.18, "有限公司"),
    ("有限责任公司（非自然人投资或控股的法人独资）", 0.08, "有限公司"),
    ("其他有限责任公司", 0.035, "有限公司"),
    ("股份有限公司（非上市、自然人投资或控股）", 0.04, "股份有限公司"),
    ("有限责任公司（外国法人独资）", 0.01, "有限公司"),
    ("有限责任公司（台港澳法人独资）", 0.01, "有限公司"),
    ("有限合伙企业", 0.03, "合伙企业（有限合伙）"),
    ("个人独资企业", 0.02, "经营部"),
    ("股份有限公司（上市、自然人投资或控股）", 0.0, "股份有限公司"),
    ("农民专业合作社", 0.0, "专业合作社"),
)
LISTED_FORM = 9
COOPERATIVE_FORM = 10

SURNAMES = _pool(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
)
GIVEN_CHARS = _pool(
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍建国红文辉力斌波宇浩凯健俊帆鹏晨"
    "阳琳雪婷颖倩欣怡佳瑶梓涵子轩浩然一鸣志远嘉豪思远晓峰海燕春梅立新永庆建平国强卫东"
)
ROADS = np.asarray([
    "文创西路", "科创大道", "梦想路", "云谷路", "数智街", "创新路", "海创街", "未来路", "智慧大道",
    "高新路", "兴业街", "通达路", "丰收路", "工业大道", "振兴路", "长安路", "和睦街", "禾丰路",
    "湖滨路", "山水路", "运溪路", "迎宾大道", "金桥路", "银湖街", "凤栖路", "竹园路", "桃源街",
    "荷花路", "溪畔路", "城北路", "城南大道", "良田路", "仓兴街", "闲湖路", "径行路", "翠苑路",
])


def choose(rng: np.random.Generator, options, n: int, p=None) -> np.ndarray:
    return np.asarray(options)[rng.choice(len(options), size=n, p=p)]


def brand_strings(rng: np.random.Generator, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Brands of the given lengths (2-4 characters) and an integer key identifying each."""
    n = len(lengths)
    k = len(BRAND_CHARS)
    idx = rng.integers(0, k, size=(n, 4))
    # avoid doubled characters (花花) which look unlike registered brands
    for j in range(1, 4):
        same = idx[:, j] == idx[:, j - 1]
        idx[same, j] = (idx[same, j] + 1 + rng.integers(0, k - 1, size=same.sum())) % k
    chars = BRAND_CHARS[idx]
    out = np.char.add(chars[:, 0], chars[:, 1])
    out = np.where(lengths >= 3, np.char.add(out, chars[:, 2]), out)
    out = np.where(lengths >= 4, np.char.add(out, chars[:, 3]), out)
    key = np.zeros(n, dtype=np.int64)
    for j in range(4):
        key = key * (k + 1) + np.where(lengths > j, idx[:, j] + 1, 0)
    return out, key


def industry_words(rng: np.random.Generator, sectors: np.ndarray, classes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The 行业表述 of each name (by division for manufacturing) and a small integer id of it."""
    vocabulary: list[str] = []
    index_of: dict[str, int] = {}

    def ids(words: tuple[str, ...]) -> np.ndarray:
        for w in words:
            if w not in index_of:
                index_of[w] = len(vocabulary)
                vocabulary.append(w)
        return np.asarray([index_of[w] for w in words])

    word_id = np.zeros(len(sectors), dtype=np.int64)
    divisions = np.asarray([c[:2] for c in classes]) if len(classes) else np.asarray([], dtype="U2")
    manufacturing = SECTOR_INDEX["manufacturing"]
    for key, words in SECTOR_WORDS.items():
        sel = np.flatnonzero(sectors == SECTOR_INDEX[key])
        if len(sel):
            word_id[sel] = ids(words)[rng.integers(0, len(words), size=len(sel))]
    for division in sorted(set(divisions[sectors == manufacturing])):
        words = DIVISION_WORDS.get(division, ("实业", "制造"))
        sel = np.flatnonzero((sectors == manufacturing) & (divisions == division))
        word_id[sel] = ids(words)[rng.integers(0, len(words), size=len(sel))]
    return np.asarray(vocabulary)[word_id], word_id


def company_names(
    rng: np.random.Generator,
    sectors: np.ndarray,
    classes: np.ndarray,
    legal_form: np.ndarray,
    provincial: np.ndarray,
) -> np.ndarray:
    """Unique company names; ``provincial`` firms (large capital) carry 浙江 instead of 杭州."""
    n = len(sectors)
    words, word_id = industry_words(rng, sectors, classes)
    suffix_of_form = np.asarray([f[2] for f in LEGAL_FORMS])
    suffixes = sorted(set(suffix_of_form))
    suffix_id = np.asarray([suffixes.index(s) for s in suffix_of_form])[legal_form]
    lengths = choose(rng, [2, 3, 4], n, p=[0.55, 0.35, 0.10])
    brands, brand_key = brand_strings(rng, lengths)
    # a name is unique when (prefix, brand, word, suffix) is; draw again the few that collide
    while True:
        key = ((brand_key * 64 + word_id) * len(suffixes) + suffix_id) * 2 + provincial
        _, first = np.unique(key, return_index=True)
        dup = np.ones(n, dtype=bool)
        dup[first] = False
        if not dup.any():
            break
        again = np.flatnonzero(dup)
        b, bk = brand_strings(rng, np.maximum(lengths[again], 3))
        brands[again], brand_key[again] = b, bk
    prefix = np.where(provincial, "浙江", "杭州")
    return np.char.add(np.char.add(np.char.add(prefix, brands), words), suffix_of_form[legal_form])


def person_names(rng: np.random.Generator, n: int) -> np.ndarray:
    # surnames roughly follow their frequency order: earlier ones are more common
    w = 1.0 / np.arange(1, len(SURNAMES) + 1) ** 0.8
    surname = SURNAMES[rng.choice(len(SURNAMES), size=n, p=w / w.sum())]
    g1 = GIVEN_CHARS[rng.integers(0, len(GIVEN_CHARS), size=n)]
    g2 = GIVEN_CHARS[rng.integers(0, len(GIVEN_CHARS), size=n)]
    two = rng.random(n) < 0.7
    return np.char.add(surname, np.where(two, np.char.add(g1, g2), g1))


def phone_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """Mobile numbers (1 + 3/5/7/8/9 + 9 digits) and Hangzhou landlines (0571-8xxxxxxx)."""
    second = choose(rng, ["3", "5", "7", "8", "9"], n, p=[0.3, 0.25, 0.1, 0.25, 0.1])
    mobile = np.char.add(np.char.add("1", second), digits_string(rng.integers(0, 10**9, size=n), 9))
    landline = np.char.add("0571-8", digits_string(rng.integers(0, 10**7, size=n), 7))
    return np.where(rng.random(n) < 0.75, mobile, landline)


def addresses(rng: np.random.Generator, prefix: np.ndarray, town_names: np.ndarray) -> np.ndarray:
    """``{province city district}{town}{road}{number}号{building}幢{room}室``."""
    n = len(town_names)
    road = ROADS[rng.integers(0, len(ROADS), size=n)]
    number = rng.integers(1, 1500, size=n).astype("U4")
    building = rng.integers(1, 30, size=n).astype("U2")
    room = (rng.integers(1, 25, size=n) * 100 + rng.integers(1, 30, size=n)).astype("U4")
    out = np.char.add(np.char.add(prefix, town_names), road)
    out = np.char.add(np.char.add(out, number), "号")
    out = np.char.add(np.char.add(out, building), "幢")
    return np.char.add(np.char.add(out, room), "室")
