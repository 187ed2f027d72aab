"""The demo policy library: 744 seeded policies in realistic shapes, each with its own test cases.

Rules:

* the same seed gives the same policies (ids ``DEMO-0001`` …, texts byte for byte);
* exactly ``no_application`` of them (default 429, the district's figure) are 免申即享; those never
  depend on application inputs; the rest are 即申即享 or ordinary applications;
* levels are spread over national, provincial, city and district; amounts and budgets lie in the
  ranges such policies use (a few thousand 元 per hire up to a few million 元 per enterprise);
* every policy is built from one of a dozen families (reaching the statistical threshold, high-tech
  recognition, R&D subsidy, tax contribution, growth, jobs, specialised SMEs, patents, financing,
  start-ups, hiring subsidies, equipment investment, energy saving), with parameters drawn from
  small sets, so many policies share conditions — as real policy books do;
* every policy carries one eligible and one failing test case made from the same parameters.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import yaml

TESTS_AS_OF = "2026-10-31"
TOTAL = 744
NO_APPLICATION = 429

LEVELS = [("district", 0.5), ("city", 0.25), ("provincial", 0.15), ("national", 0.10)]
ISSUERS = {"district": "杭州市余杭区人民政府", "city": "杭州市人民政府", "provincial": "浙江省人民政府",
           "national": "国务院有关部门"}
DOC_PREFIX = {"district": "余政发", "city": "杭政", "provincial": "浙政发", "national": "国发"}
TOWNS = ["330110005", "330110009", "330110010", "330110011", "330110012", "330110013", "330110014",
         "330110109", "330110110", "330110111", "330110112", "330110113"]
TOWN_NAMES = {"330110005": "五常街道", "330110009": "仁和街道", "330110010": "良渚街道", "330110011": "闲林街道",
              "330110012": "仓前街道", "330110013": "余杭街道", "330110014": "中泰街道", "330110109": "径山镇",
              "330110110": "瓶窑镇", "330110111": "鸬鸟镇", "330110112": "百丈镇", "330110113": "黄湖镇"}
#: (division, a class under it, Chinese name of the industry)
INDUSTRIES = [("39", "3911", "计算机、通信和其他电子设备制造业"), ("35", "3511", "专用设备制造业"),
              ("27", "2710", "医药制造业"), ("38", "3811", "电气机械和器材制造业"), ("26", "2611", "化学原料和化学制品制造业"),
              ("17", "1711", "纺织业"), ("34", "3411", "通用设备制造业"), ("65", "6511", "软件和信息技术服务业"),
              ("64", "6421", "互联网和相关服务"), ("73", "7320", "研究和试验发展"), ("51", "5131", "批发业"),
              ("72", "7211", "商务服务业")]
SECTIONS = {"C": ("3911", "制造业"), "I": ("6511", "信息传输、软件和信息技术服务业"), "M": ("7320", "科学研究和技术服务业"),
            "F": ("5131", "批发和零售业"), "L": ("7211", "租赁和商务服务业")}
NOT_LISTED = {"field": "has(dishonesty_list, active=true)", "op": "is_false", "id": "no_dishonesty",
              "label": "被列入失信被执行人名单", "ref": "通用条款"}


@dataclass
class Draft:
    family: str
    title: str
    department: str
    eligibility: list
    amount: dict | str | None
    cases: list  # (name, enterprise, inputs, expect)
    inputs: dict | None = None
    materials: tuple[str, ...] = ()
    application_only: bool = False
    description: str = ""
    targets: str = ""
    caps: dict | None = None


def _wan(n) -> str:
    return f"{n}万元"


def _months(last12_each: str | None = None, prev12_each: str | None = None, series: str = "revenue") -> dict:
    parts = []
    if prev12_each is not None:
        parts.append({"from": "2024-11", "to": "2025-10", "each": prev12_each})
    if last12_each is not None:
        parts.append({"from": "2025-11", "to": "2026-10", "each": last12_each})
    return {series: parts}


def f_scale_up(rng: random.Random) -> Draft:
    scope, section, name = rng.choice([("industry", "C", "规上工业"), ("wholesale", "F", "限上批发"),
                                       ("retail", "F", "限上零售"), ("services", "I", "规上服务业"),
                                       ("services", "M", "规上服务业")])
    amount = rng.choice([5, 10, 15, 20, 30])
    cls = SECTIONS[section][0]
    return Draft("scale_up", f"首次纳入{name}统计企业奖励", rng.choice(["jxj", "tjj", "swj", "fgj"]), [
        {"id": "industry", "field": "industry", "op": "under", "value": section, "ref": "第二条"},
        {"id": "first_in_scope", "field": f"has(survey_list, scope='{scope}', months=12)", "op": "is_true",
         "label": f"近12个月首次纳入{name}统计名录", "ref": "第二条"},
        dict(NOT_LISTED),
    ], _wan(amount), [
        ("新纳统企业", {"industry": cls, "survey_list": [{"scope": scope, "included_month": "2026-03"}]}, None,
         {"status": "eligible", "amount": _wan(amount)}),
        ("早已纳统的企业", {"industry": cls, "survey_list": [{"scope": scope, "included_month": "2020-01"}]}, None,
         {"status": "not_eligible", "failed": ["first_in_scope"]}),
    ], description=f"对首次纳入{name}统计的企业一次性奖励{amount}万元。", targets=f"首次纳入{name}统计名录的企业")


def f_high_tech(rng: random.Random) -> Draft:
    amount = rng.choice([20, 30, 40, 50])
    tiered = rng.random() < 0.4
    spec: dict | str
    if tiered:
        spec = {"tiers": {"by": "annual.revenue", "bands": [
            {"below": "5000万元", "amount": _wan(amount)}, {"below": "2亿元", "amount": _wan(amount + 10)},
            {"amount": _wan(amount + 20)}]}}
    else:
        spec = _wan(amount)
    return Draft("high_tech", "新认定国家高新技术企业奖励", "kjj", [
        {"id": "new_high_tech", "field": "has(certifications, kind='high_tech', months=12)", "op": "is_true",
         "label": "近12个月新认定为高新技术企业", "ref": "第三条"},
        dict(NOT_LISTED),
    ], spec, [
        ("新认定的高企", {"industry": "3911", "certifications": [{"kind": "high_tech", "certified_on": "2026-05-01",
                                                                "valid_until": "2029-04-30"}],
                          "annual": {"revenue": "3000万元"}}, None, {"status": "eligible", "amount": _wan(amount)}),
        ("三年前认定的高企", {"industry": "3911", "certifications": [{"kind": "high_tech", "certified_on": "2023-05-01",
                                                                  "valid_until": "2026-04-30"}]}, None,
         {"status": "not_eligible", "failed": ["new_high_tech"]}),
    ], description="对新认定的国家高新技术企业给予一次性奖励。", targets="近一年新认定的国家高新技术企业")


def f_rd(rng: random.Random) -> Draft:
    section = rng.choice(["C", "I", "M"])
    rate = rng.choice([5, 8, 10, 15])
    cap = rng.choice([50, 100, 200])
    cls = SECTIONS[section][0]
    amount = {"rate": f"{rate}%", "base": "annual.rd_expense", "max": _wan(cap), "round": {"unit": "100元"}}
    expected = min(300 * rate // 100 * 10000, cap * 10000)  # rd 300万 × rate, in 元
    return Draft("rd", f"企业研发投入补助（{SECTIONS[section][1]}）", "kjj", [
        {"id": "industry", "field": "industry", "op": "under", "value": section, "ref": "第四条"},
        {"id": "rd_ratio", "field": "annual.rd_expense / annual.revenue", "label": "上年度研发费用占营业收入比例",
         "op": ">=", "ref": "第四条", "value_by": {"field": "annual.revenue", "bands": [
             {"below": "5000万元", "value": "5%"}, {"below": "2亿元", "value": "4%"}, {"value": "3%"}]}},
        {"id": "rd_amount", "field": "annual.rd_expense", "op": ">=", "value": "100万元", "ref": "第四条"},
        dict(NOT_LISTED),
    ], amount, [
        ("研发投入强度达标", {"industry": cls, "annual": {"revenue": "6000万元", "rd_expense": "300万元"}}, None,
         {"status": "eligible", "amount": f"{expected}元"}),
        ("研发投入强度略低", {"industry": cls, "annual": {"revenue": "8000万元", "rd_expense": "300万元"}}, None,
         {"status": "near_miss", "failed": ["rd_ratio"]}),
    ], description=f"按上年度研发费用的{rate}%给予补助，最高{cap}万元。", targets="研发投入强度达到标准的企业")


def f_tax(rng: random.Random) -> Draft:
    threshold = rng.choice([50, 100, 200, 500])
    town = rng.choice(TOWNS) if rng.random() < 0.5 else None
    rate = rng.choice([2, 3, 5])
    cap = rng.choice([50, 100, 300])
    cond = [{"id": "tax", "field": "sum(tax, months=12)", "op": ">=", "value": _wan(threshold), "ref": "第五条"}]
    title = "纳税贡献奖励"
    if town:
        cond.append({"id": "town", "field": "town", "op": "=", "value": town, "ref": "第一条"})
        title = f"{TOWN_NAMES[town]}纳税贡献奖励"
    monthly_each = threshold * 10000 // 10  # 元 per month → 12 months = 1.2 × threshold
    total = monthly_each * 12
    expected = min(total * rate // 100, cap * 10000)
    ent = {"industry": "3911", "town": town or "330110005", "monthly": _months(f"{monthly_each}元", series="tax")}
    low = {"industry": "3911", "town": town or "330110005", "monthly": _months(f"{monthly_each // 2}元", series="tax")}
    return Draft("tax", title, "sw" if not town else "czj", cond + [dict(NOT_LISTED)],
                 {"rate": f"{rate}%", "base": "sum(tax, months=12)", "max": _wan(cap), "round": {"unit": "1元"}}, [
        ("纳税达标企业", ent, None, {"status": "eligible", "amount": f"{expected}元"}),
        ("纳税未达标企业", low, None, {"status": "not_eligible", "failed": ["tax"]}),
    ], description=f"近12个月纳税达到{threshold}万元的企业，按纳税额的{rate}%奖励，最高{cap}万元。",
        targets="纳税贡献较大的企业")


def f_growth(rng: random.Random) -> Draft:
    g = rng.choice([10, 15, 20, 30])
    base = rng.choice([500, 2000, 10000])
    years = rng.choice([1, 1, 2])
    amount = rng.choice([10, 20, 30, 50])
    cond = [
        {"id": "growth", "field": "growth(revenue, months=12)", "op": ">=", "value": f"{g}%", "ref": "第六条",
         **({"each_year": 2} if years == 2 else {}), "label": "营业收入同比增长率"},
        {"id": "scale", "field": "sum(revenue, months=12)", "op": ">=", "value": _wan(base), "ref": "第六条"},
        dict(NOT_LISTED),
    ]
    now = base * 10000 // 10  # 元 per month: 1.2 × base a year
    prev = now * 100 // (100 + g + 10)
    months = {"revenue": [{"from": "2023-11", "to": "2024-10", "each": f"{prev * 100 // (100 + g + 10)}元"},
                          {"from": "2024-11", "to": "2025-10", "each": f"{prev}元"},
                          {"from": "2025-11", "to": "2026-10", "each": f"{now}元"}]}
    flat = {"revenue": [{"from": "2023-11", "to": "2026-10", "each": f"{now}元"}]}
    title = f"营业收入快速增长企业奖励（{'连续两年' if years == 2 else ''}增长{g}%以上）"
    return Draft("growth", title, rng.choice(["jxj", "fgj", "swj"]), cond, _wan(amount), [
        ("快速增长企业", {"industry": "3911", "monthly": months}, None, {"status": "eligible", "amount": _wan(amount)}),
        ("营收持平企业", {"industry": "3911", "monthly": flat}, None, {"status": "not_eligible", "failed": ["growth"]}),
    ], description=f"营业收入达到{base}万元且同比增长{g}%以上的企业奖励{amount}万元。", targets="营收规模和增速达标的企业")


def f_jobs(rng: random.Random) -> Draft:
    n = rng.choice([5, 10, 20])
    per = rng.choice([1000, 2000, 3000])
    cap = rng.choice([10, 20, 50])
    increase = "coalesce(latest(headcount, months=3), 0人) - coalesce(latest(headcount, months=3, offset=12), 0人)"
    expected = min((n + 5) * per, cap * 10000)
    return Draft("jobs", "稳岗扩岗奖励", "rsj", [
        {"id": "increase", "field": increase, "label": "参保人数较上年同期增加", "op": ">=", "value": f"{n}人",
         "ref": "第七条"},
        dict(NOT_LISTED),
    ], {"per_unit": f"{per}元", "units": increase, "max": _wan(cap),
        "label": f"参保人数较上年同期每增加1人奖励{per}元，最高{cap}万元"}, [
        ("扩岗企业", {"industry": "3911", "monthly": {"headcount": [{"from": "2025-08", "to": "2025-10", "each": "50人"},
                                                                   {"from": "2026-08", "to": "2026-10", "each": f"{55 + n}人"}]}},
         None, {"status": "eligible", "amount": f"{expected}元"}),
        ("人数持平企业", {"industry": "3911", "monthly": {"headcount": [{"from": "2025-08", "to": "2026-10", "each": "50人"}]}},
         None, {"status": "not_eligible", "failed": ["increase"]}),
    ], description=f"参保人数较上年同期增加{n}人以上的企业，每增加1人奖励{per}元。", targets="扩大就业的企业")


def f_specialised(rng: random.Random) -> Draft:
    giant, sme = rng.choice([(100, 20), (100, 30), (50, 20), (80, 10)])
    return Draft("specialised", "专精特新企业认定奖励", "jxj", [
        {"id": "new_title", "field": "count(certifications, kind=['little_giant', 'specialised_sme'], months=12)",
         "op": ">=", "value": 1, "label": "近12个月新获专精特新认定数", "ref": "第八条"},
        dict(NOT_LISTED),
    ], {"choose": [{"when": "has(certifications, kind='little_giant', months=12)", "amount": _wan(giant)},
                   {"otherwise": _wan(sme)}]}, [
        ("新认定小巨人", {"industry": "3511", "certifications": [{"kind": "little_giant", "certified_on": "2026-07-01",
                                                                "valid_until": "2029-06-30"}]}, None,
         {"status": "eligible", "amount": _wan(giant)}),
        ("新认定专精特新中小企业", {"industry": "3511", "certifications": [{"kind": "specialised_sme", "certified_on": "2026-07-01",
                                                                         "valid_until": "2029-06-30"}]}, None,
         {"status": "eligible", "amount": _wan(sme)}),
        ("无认定企业", {"industry": "3511"}, None, {"status": "not_eligible", "failed": ["new_title"]}),
    ], description=f"新认定国家级专精特新“小巨人”企业奖励{giant}万元，省级专精特新中小企业奖励{sme}万元。",
        targets="近一年新获专精特新认定的企业")


def f_patents(rng: random.Random) -> Draft:
    per = rng.choice([5000, 10000, 20000])
    cap = rng.choice([20, 50])
    count = "count(ip_rights, kind='invention_patent', months=12)"
    return Draft("patents", "发明专利授权奖励", "scjgj", [
        {"id": "patents", "field": count, "op": ">=", "value": 1, "label": "近12个月授权发明专利数", "ref": "第九条"},
        dict(NOT_LISTED),
    ], {"per_unit": f"{per}元", "units": count, "max": _wan(cap)}, [
        ("新获两项发明专利", {"industry": "3911", "ip_rights": [
            {"kind": "invention_patent", "granted_on": "2026-03-01", "registration_no": "ZL1"},
            {"kind": "invention_patent", "granted_on": "2026-06-01", "registration_no": "ZL2"}]}, None,
         {"status": "eligible", "amount": f"{min(2 * per, cap * 10000)}元"}),
        ("只有实用新型", {"industry": "3911", "ip_rights": [{"kind": "utility_model", "granted_on": "2026-03-01",
                                                          "registration_no": "ZL3"}]}, None,
         {"status": "not_eligible", "failed": ["patents"]}),
    ], description=f"近一年每授权一件发明专利奖励{per}元，每家企业最高{cap}万元。", targets="获得发明专利授权的企业")


def f_financing(rng: random.Random) -> Draft:
    rate = rng.choice([1, 2])
    cap = rng.choice([100, 200, 300])
    threshold = rng.choice([500, 1000, 2000])
    total = "sum(financing.amount, months=12)"
    raised = threshold * 2
    return Draft("financing", "股权融资奖励", "fgj", [
        {"id": "raised", "field": total, "op": ">=", "value": _wan(threshold), "label": "近12个月股权融资金额",
         "ref": "第十条"},
        dict(NOT_LISTED),
    ], {"rate": f"{rate}%", "base": total, "max": _wan(cap)}, [
        ("完成A轮融资", {"industry": "6511", "financing": [{"round": "a", "financed_on": "2026-04-01",
                                                          "amount": _wan(raised)}]}, None,
         {"status": "eligible", "amount": _wan(min(raised * rate // 100, cap))}),
        ("没有融资", {"industry": "6511"}, None, {"status": "not_eligible", "failed": ["raised"]}),
    ], materials=("融资协议", "资金到账凭证"), description=f"近一年股权融资达到{threshold}万元的企业，按融资额的{rate}%奖励。",
        targets="获得股权融资的企业")


def f_startup(rng: random.Random) -> Draft:
    section = rng.choice(["I", "M", "L"])
    amount = rng.choice([2, 5, 10])
    cls = SECTIONS[section][0]
    return Draft("startup", f"初创企业扶持（{SECTIONS[section][1]}）", "rsj", [
        {"id": "young", "field": "established_on", "op": "within_last", "value": "3年", "label": "成立时间", "ref": "第十一条"},
        {"id": "industry", "field": "industry", "op": "under", "value": section, "ref": "第十一条"},
        {"id": "graduate", "field": "input.founder_graduate", "op": "is_true", "ref": "第十一条"},
        dict(NOT_LISTED),
    ], _wan(amount), [
        ("高校毕业生创办的新企业", {"industry": cls, "established_on": "2025-03-01"}, {"founder_graduate": True},
         {"status": "eligible", "amount": _wan(amount)}),
        ("成立多年的企业", {"industry": cls, "established_on": "2015-03-01"}, {"founder_graduate": True},
         {"status": "not_eligible", "failed": ["young"]}),
    ], inputs={"founder_graduate": {"type": "bool", "label": "创办人为毕业5年内高校毕业生"}},
        materials=("创办人毕业证书", "营业执照"), application_only=True,
        description=f"高校毕业生创办的成立3年内企业，一次性扶持{amount}万元。", targets="大学生创业企业")


def f_hires(rng: random.Random) -> Draft:
    per = rng.choice([1000, 1500, 2000])
    section = rng.choice(["I", "M", "C"])
    cls = SECTIONS[section][0]
    return Draft("hires", f"一次性扩岗补助（{SECTIONS[section][1]}）", "rsj", [
        {"id": "industry", "field": "industry", "op": "under", "value": section, "ref": "第十二条"},
        {"id": "size", "field": "size_class", "op": "in", "value": ["small", "micro"], "label": "企业规模", "ref": "第十二条"},
        {"id": "hires", "field": "input.hires", "op": ">=", "value": 1, "ref": "第十二条"},
        {"id": "insured", "field": "latest(headcount, months=3)", "op": ">=", "value": "1人", "label": "最近参保人数",
         "ref": "第十二条"},
    ], {"per_unit": f"{per}元", "units": "input.hires"}, [
        ("招用3名毕业生的小型企业", {"industry": cls, "annual": {"employees": 20, "revenue": "500万元", "assets": "300万元"},
                                  "monthly": {"headcount": [{"from": "2026-08", "to": "2026-10", "each": "20人"}]}},
         {"hires": 3}, {"status": "eligible", "amount": f"{3 * per}元"}),
        ("未申报招用人数", {"industry": cls, "annual": {"employees": 20, "revenue": "500万元", "assets": "300万元"},
                            "monthly": {"headcount": [{"from": "2026-08", "to": "2026-10", "each": "20人"}]}},
         None, {"status": "missing_data", "unknown": ["hires"]}),
        ("大型企业", {"industry": cls, "annual": {"employees": 3000, "revenue": "50亿元", "assets": "80亿元"},
                      "monthly": {"headcount": [{"from": "2026-08", "to": "2026-10", "each": "3000人"}]}},
         {"hires": 3}, {"status": "not_eligible", "failed": ["size"]}),
    ], inputs={"hires": {"type": "number", "unit": "人", "label": "招用符合条件的高校毕业生和青年人数"}},
        materials=("劳动合同", "社保缴费记录"), application_only=True,
        description=f"招用离校2年内未就业高校毕业生或16-24岁登记失业青年，按每人{per}元给予补助。",
        targets="招用高校毕业生和青年的企业")


def f_equipment(rng: random.Random) -> Draft:
    div, cls, name = rng.choice([x for x in INDUSTRIES if x[1][0] in "123"])
    rate = rng.choice([8, 10, 12])
    cap = rng.choice([300, 500, 1000])
    return Draft("equipment", f"{name}技术改造设备投资补助", "jxj", [
        {"id": "industry", "field": "industry", "op": "under", "value": div, "ref": "第十三条"},
        {"id": "investment", "field": "input.equipment_investment", "op": ">=", "value": "500万元", "ref": "第十三条"},
        dict(NOT_LISTED),
    ], {"rate": f"{rate}%", "base": "input.equipment_investment", "max": _wan(cap), "round": {"unit": "100元"}}, [
        ("设备投资1000万元", {"industry": cls}, {"equipment_investment": "1000万元"}, {"status": "eligible",
                                                                                 "amount": _wan(min(10 * rate, cap))}),
        ("设备投资不足", {"industry": cls}, {"equipment_investment": "200万元"},
         {"status": "not_eligible", "failed": ["investment"]}),
    ], inputs={"equipment_investment": {"type": "number", "unit": "元", "label": "技改设备投资额"}},
        materials=("设备采购合同", "发票", "项目备案文件"), application_only=True,
        description=f"技改项目设备投资500万元以上的，按设备投资额的{rate}%补助，最高{cap}万元。",
        targets=f"{name}企业")


def f_energy(rng: random.Random) -> Draft:
    drop = rng.choice([5, 10])
    amount = rng.choice([5, 10])
    return Draft("energy", "工业企业节能降耗奖励", "fgj", [
        {"id": "industry", "field": "industry", "op": "under", "value": "C", "ref": "第十四条"},
        {"id": "saving", "field": "growth(electricity, months=12)", "op": "<=", "value": f"-{drop}%",
         "label": "用电量同比变化", "ref": "第十四条"},
        dict(NOT_LISTED),
    ], _wan(amount), [
        ("用电下降的工厂", {"industry": "1711", "monthly": {"electricity": [{"from": "2024-11", "to": "2025-10", "each": "10000kWh"},
                                                                          {"from": "2025-11", "to": "2026-10", "each": "8000kWh"}]}},
         None, {"status": "eligible", "amount": _wan(amount)}),
        ("用电持平的工厂", {"industry": "1711", "monthly": {"electricity": [{"from": "2024-11", "to": "2026-10", "each": "10000kWh"}]}},
         None, {"status": "not_eligible", "failed": ["saving"]}),
    ], description=f"用电量同比下降{drop}%以上的工业企业奖励{amount}万元。", targets="节能降耗的工业企业")


FAMILIES = [(f_scale_up, 14), (f_high_tech, 8), (f_rd, 10), (f_tax, 12), (f_growth, 12), (f_jobs, 8),
            (f_specialised, 6), (f_patents, 6), (f_financing, 5), (f_startup, 4), (f_hires, 4), (f_equipment, 6),
            (f_energy, 4)]


def _pick(rng: random.Random, weighted):
    total = sum(w for _, w in weighted)
    x = rng.random() * total
    for item, w in weighted:
        x -= w
        if x < 0:
            return item
    return weighted[-1][0]


def generate(seed: int = 20241, total: int = TOTAL, no_application: int = NO_APPLICATION) -> list[dict]:
    """``total`` policy mappings (ready to dump as YAML), ``no_application`` of them 免申即享."""
    rng = random.Random(seed)
    drafts = [_pick(rng, FAMILIES)(rng) for _ in range(total)]
    eligible_for_na = [i for i, d in enumerate(drafts) if not d.application_only]
    if len(eligible_for_na) < no_application:
        raise ValueError(f"only {len(eligible_for_na)} generated policies can be no-application")
    na = set(rng.sample(eligible_for_na, no_application))
    out = []
    for i, d in enumerate(drafts):
        level = _pick(rng, LEVELS)
        year = rng.choice([2024, 2025, 2026])
        delivery = "no_application" if i in na else ("instant_application" if rng.random() < 0.5 else "ordinary")
        n = i + 1
        budget = rng.choice([100, 200, 500, 1000, 2000, 5000]) * (3 if level in ("city", "provincial") else 1)
        policy = {
            "id": f"DEMO-{n:04d}",
            "title": f"{d.title}（{ {'district': '区级', 'city': '市级', 'provincial': '省级', 'national': '国家级'}[level]}第{n}号）",
            "issuer": ISSUERS[level],
            "level": level,
            "department": d.department,
            "legal_basis": {"document": f"{DOC_PREFIX[level]}〔{year}〕{rng.randint(1, 60)}号",
                            "article": "第二条至第十四条"},
            "valid_from": f"{year}-01-01" if year < 2026 else "2025-01-01",
            "valid_until": "2027-12-31",
            "budget": f"{budget}万元",
            "delivery": delivery,
            "targets": d.targets,
            "description": d.description,
        }
        if d.materials or delivery != "no_application":
            policy["materials"] = list(d.materials) or ["申请表", "营业执照"]
        if d.inputs:
            policy["inputs"] = d.inputs
        policy["eligibility"] = {"all": d.eligibility}
        if d.amount is not None:
            policy["amount"] = d.amount
        policy["tests_as_of"] = TESTS_AS_OF
        policy["tests"] = [{"name": name, "enterprise": ent, **({"inputs": inputs} if inputs else {}), "expect": expect}
                           for name, ent, inputs, expect in d.cases]
        out.append(policy)
    return out


def dump(policy: dict) -> str:
    """A policy mapping as YAML text (the form stored and edited)."""
    return yaml.safe_dump(policy, allow_unicode=True, sort_keys=False, width=120)
