"""Appeal classifier: segmentation, corpus, reproducible training, suggestions, corrections, persistence."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import Counter

import jieba
import joblib
import numpy as np
import pytest
import yaml

from shengxin.appeals.classify import corpus, segment
from shengxin.appeals.classify import evaluate as ev
from shengxin.appeals.classify import model as m
from shengxin.appeals.classify.taxonomy import CATEGORIES_FILE, load_taxonomy, parse_taxonomy
from shengxin.errors import InvalidInput


@pytest.fixture(scope="module")
def small_examples():
    """Generated examples, 12 per subcategory: enough to train in about a second."""
    return corpus.generate(per_subcategory=12, seed=99)


@pytest.fixture(scope="module")
def small_model(small_examples):
    return m.train(small_examples, seed=7)


# -- segmentation ---------------------------------------------------------------------------------

def test_segmentation_keeps_domain_words_whole():
    words = segment.tokens("我们是专精特新小巨人企业，员工想申请人才公寓，社保和公积金都在余杭交")
    assert "人才公寓" in words
    assert "专精特新小巨人" in words or {"专精特新", "小巨人"} <= set(words)
    assert {"社保", "公积金"} <= set(words)
    # jieba's own dictionary alone splits them: the shipped user dictionary is what keeps them whole
    jieba.setLogLevel(logging.WARNING)
    plain = jieba.Tokenizer().lcut("员工想申请人才公寓，我们是专精特新小巨人企业")
    assert "人才公寓" not in plain and "小巨人" not in plain


def test_every_user_dictionary_word_is_one_token():
    for word in segment.user_dictionary_words():
        assert segment.tokens(word) == [segment.normalise(word)], word


def test_normalise_and_tokens_drop_noise():
    assert segment.normalise("ＡＢＣ　１２３，ｘ") == "abc 123,x"
    toks = segment.tokens("贷款５００万！！！   急")
    assert "#" in toks and "！" not in "".join(toks) and "急" in toks
    assert "的" in segment.tokens("我的问题") and "的" not in segment.content_tokens("我的问题")


# -- taxonomy and corpus --------------------------------------------------------------------------

def test_taxonomy_resolves_units_and_refuses_bad_labels():
    tax = load_taxonomy()
    subs = tax.active_subcategories()
    assert len(subs) >= 40 and all(s.unit for s in subs)
    assert tax.subcategory("policy.payout").unit == "czj"  # the subcategory's own unit
    assert tax.subcategory("policy.consult").unit == tax.category("policy").unit
    with pytest.raises(InvalidInput, match="unknown subcategory"):
        tax.check_labels("tax", "tax.nonsense", where="x")
    with pytest.raises(InvalidInput, match="belongs to category 'tax'"):
        tax.check_labels("finance", "tax.refund", where="x")


def test_committed_examples_are_exactly_what_the_generator_builds():
    committed = corpus.EXAMPLES_CSV.read_text(encoding="utf-8")
    assert committed == corpus.examples_csv_text(corpus.build_examples()), (
        "examples.csv is out of date: run `shengxin appeals-model build-examples`")
    assert corpus.EXAMPLES_CSV.stat().st_size < 2 * 1024 * 1024


def test_examples_cover_every_subcategory_with_valid_distinct_texts():
    examples = corpus.load_examples()
    tax = load_taxonomy()
    counts = Counter(e.subcategory for e in examples)
    assert set(counts) == {s.code for s in tax.active_subcategories()}
    assert min(counts.values()) >= corpus.DEFAULT_PER_SUBCATEGORY
    assert len({e.text for e in examples}) == len(examples)
    sources = Counter(e.source for e in examples)
    assert sources["handwritten"] >= 250 and sources["generated"] == 47 * corpus.DEFAULT_PER_SUBCATEGORY
    for e in examples:
        assert e.unit == tax.subcategory(e.subcategory).unit
    hard = corpus.load_hard_examples()
    assert len(hard) >= 120 and {e.kind for e in hard} == {"paraphrase", "colloquial", "mixed"}
    assert not {e.text for e in hard} & {e.text for e in examples}


def test_generator_is_seeded_and_noisy():
    a = corpus.generate(per_subcategory=5, seed=1)
    assert a == corpus.generate(per_subcategory=5, seed=1)
    assert [e.text for e in a] != [e.text for e in corpus.generate(per_subcategory=5, seed=2)]
    many = corpus.generate(per_subcategory=40, seed=3)
    texts = [e.text for e in many]
    assert any(t.startswith(("来电人反映", "企业来电反映", "市长热线转办")) for t in texts)  # hotline style
    assert any(typo in t for t in texts for typo in corpus.TYPOS.values())  # typos
    assert any("," in t for t in texts)  # ASCII punctuation
    assert not any("{" in t or "}" in t for t in texts)  # every slot filled


def test_labelled_csv_errors_name_file_and_row(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("text,category,subcategory\n好的问题,tax,tax.refund\n,tax,tax.refund\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as err:
        corpus.read_labelled_csv(path, "correction")
    assert err.value.where.endswith("row 3") and "empty text" in err.value.message
    path.write_text("text,category\nx,tax\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="missing columns"):
        corpus.read_labelled_csv(path, "correction")


# -- demo appeals ---------------------------------------------------------------------------------

def test_demo_appeals_have_realistic_timestamps_and_fields():
    rows = corpus.generate_demo_appeals(4000, 2025, 7)
    assert rows == corpus.generate_demo_appeals(4000, 2025, 7)
    assert len(rows) == 4000
    times = [r["submitted_at"] for r in rows]
    assert times == sorted(times) and all(t.utcoffset() == dt.timedelta(0) for t in times)
    local = [t.astimezone(corpus.CHINA_TZ) for t in times]
    assert all(t.year == 2025 for t in local)
    weekday_share = sum(t.weekday() < 5 for t in local) / len(local)
    assert weekday_share > 0.85  # weekends and holidays are quiet
    hours = Counter(t.hour for t in local)
    assert hours[10] > 5 * hours[7] and hours[15] > 5 * hours[22]  # working-hour peaks
    sf = dt.date(2025, 1, 29)
    lull = sum(1 for t in local if -7 <= (t.date() - sf).days <= 15) / 23
    march = sum(1 for t in local if t.month == 3) / 31
    assert lull < 0.6 * march  # the Spring Festival lull
    tax = load_taxonomy()
    from shengxin.reference.district import load_district
    towns = {t.code for t in load_district().towns}
    for r in rows[:500]:
        sub = tax.subcategory(r["subcategory_code"])
        assert sub.category_code == r["category_code"] and sub.unit == r["unit_code"]
        assert r["town_code"] in towns and r["channel"] in corpus.CHANNEL_WEIGHTS and r["text"]
    cats = Counter(r["category_code"] for r in rows)
    assert cats.most_common(1)[0][0] == "policy" and set(cats) == {c.code for c in tax.categories}
    hot = [r for r in rows if r["hotspot"] == 0]
    assert len(hot) >= 20 and all(corpus.HOTSPOTS[0][2][:8] in r["text"] for r in hot)


def test_demo_appeals_refuse_bad_arguments():
    with pytest.raises(InvalidInput, match="n must be"):
        corpus.generate_demo_appeals(0, 2025, 1)
    with pytest.raises(InvalidInput, match="year"):
        corpus.generate_demo_appeals(10, 1900, 1)


# -- training and suggestions --------------------------------------------------------------------

def test_training_is_reproducible(small_examples, small_model):
    again = m.train(list(reversed(small_examples)), seed=7)  # row order does not matter
    texts = [e.text for e in corpus.load_hard_examples()]
    assert again.fingerprint == small_model.fingerprint
    np.testing.assert_array_equal(again.predict_proba(texts), small_model.predict_proba(texts))
    assert [s.subcategory_code for s in again.suggest_many(texts)] == \
           [s.subcategory_code for s in small_model.suggest_many(texts)]
    other = m.train(small_examples, seed=8)
    assert other.fingerprint != small_model.fingerprint


def test_suggestion_shape(small_model):
    tax = load_taxonomy()
    s = small_model.suggest("公司流动资金紧张，想申请500万元贷款，银行说要抵押，希望帮忙对接银行")
    assert s.category_code == "finance" and s.subcategory_code == "finance.loan"
    assert s.unit_code == tax.subcategory("finance.loan").unit and s.source == "model"
    assert 0 < s.confidence <= s.category_confidence <= 1.0
    assert len(s.alternatives) == m.ALTERNATIVES
    subs = [a.subcategory_code for a in s.alternatives]
    assert s.subcategory_code not in subs and len(set(subs)) == len(subs)
    assert [a.confidence for a in s.alternatives] == sorted((a.confidence for a in s.alternatives), reverse=True)
    for a in s.alternatives:
        assert tax.subcategory(a.subcategory_code).category_code == a.category_code
    assert json.loads(json.dumps(s.as_dict()))["subcategory_code"] == "finance.loan"


def test_category_is_chosen_by_summed_probability(small_model):
    texts = [e.text for e in corpus.load_hard_examples()]
    proba = small_model.predict_proba(texts)
    cats = np.asarray(small_model.class_category)
    for s, row in zip(small_model.suggest_many(texts), proba):
        sums = {c: row[cats == c].sum() for c in set(small_model.class_category)}
        assert s.category_code == max(sums, key=sums.get)
        assert s.category_confidence == pytest.approx(sums[s.category_code])


def test_corrections_change_the_answer(small_examples, small_model):
    text = "园区门口的路灯坏了好几个月，晚上下班很黑，希望尽快修复"
    before = small_model.suggest(text)
    assert before.category_code == "transport"
    correction = m.Correction(text, "other", "other.general", "330110012")
    corrected = m.train(small_examples, [correction], seed=7)
    after = corrected.suggest(text)
    assert (after.category_code, after.subcategory_code, after.unit_code) == ("other", "other.general", "330110012")
    assert after.source == "correction" and after.confidence >= m.NEAR_DUPLICATE
    # the linear model itself learned from the correction, not only the near-duplicate memory
    j = corrected.classes.index("other.general")
    i = small_model.classes.index("other.general")
    assert corrected.predict_proba([text])[0, j] > small_model.predict_proba([text])[0, i]
    # an unrelated text is not captured by the correction
    assert corrected.suggest("出口退税申报后一直没有退下来").source == "model"


def test_current_taxonomy_decides_units_and_retired_codes(small_model):
    data = yaml.safe_load(CATEGORIES_FILE.read_text(encoding="utf-8"))
    for c in data["categories"]:
        for sub in c["subcategories"]:
            if sub["code"] == "finance.loan":
                sub["retired"] = True
            if sub["code"] == "finance.guarantee":
                sub["unit"] = "330110012"
    changed = parse_taxonomy(data, "test")
    text = "公司流动资金紧张，想申请500万元贷款，银行说要抵押，担保公司也不接"
    before = small_model.suggest(text)
    assert before.subcategory_code == "finance.loan"
    (after,) = small_model.suggest_many([text], taxonomy=changed)
    assert after.subcategory_code != "finance.loan"
    units = {a.subcategory_code: a.unit_code for a in after.alternatives}
    units[after.subcategory_code] = after.unit_code
    assert "finance.loan" not in units
    assert units["finance.guarantee"] == "330110012"  # the unit moved since training


def test_bad_input_is_refused(small_examples, small_model):
    with pytest.raises(InvalidInput, match="empty"):
        small_model.suggest("   ")
    with pytest.raises(InvalidInput) as err:
        m.train(small_examples, [m.Correction("有个问题", "tax", "tax.unknown", "sw")])
    assert err.value.where == "corrections[0]"
    with pytest.raises(InvalidInput, match="unit"):
        m.train(small_examples, [m.Correction("有个问题", "tax", "tax.refund", "")])
    with pytest.raises(InvalidInput, match="fewer than"):
        m.train(small_examples[:2])
    long = "停电" * 5000  # very long texts are classified on their beginning, never refused
    assert small_model.suggest(long).category_code


def test_save_load_and_version_check(tmp_path, small_model):
    path = m.save_model(small_model, tmp_path)
    assert path == tmp_path / "models" / "appeal_classifier.joblib"
    loaded = m.load_model(tmp_path)
    texts = ["厂区经常停电", "商标被抢注了怎么办"]
    np.testing.assert_array_equal(loaded.predict_proba(texts), small_model.predict_proba(texts))
    assert loaded.info() == small_model.info()
    state = joblib.load(path)
    assert set(state) == set(m._STATE_FIELDS)
    state["sklearn_version"] = "0.0.1"
    joblib.dump(state, path)
    with pytest.raises(m.IncompatibleModel, match="scikit-learn 0.0.1"):
        m.load_model(tmp_path)
    assert m.load_model(tmp_path / "nothing") is None


def test_get_model_trains_and_saves_when_none_is_saved(tmp_path):
    model = m.get_model(tmp_path)
    assert (tmp_path / "models" / "appeal_classifier.joblib").exists()
    assert model.n_examples == len(corpus.load_examples()) and model.n_corrections == 0
    assert m.get_model(tmp_path) is model  # cached while the file is unchanged
    s = m.suggest("员工社保断缴了一个月，怎么补缴", data_dir=tmp_path)
    assert s.category_code == "labour" and s.subcategory_code == "labour.insurance"


# -- evaluation -----------------------------------------------------------------------------------

def test_split_is_deterministic_stratified_and_order_free():
    examples = corpus.load_examples()
    train_rows, test_rows = ev.split(examples)
    train2, test2 = ev.split(list(reversed(examples)))
    assert {e.id for e in test_rows} == {e.id for e in test2}
    assert not {e.id for e in train_rows} & {e.id for e in test_rows}
    per_sub = Counter(e.subcategory for e in test_rows)
    total = Counter(e.subcategory for e in examples)
    for sub, n in total.items():
        assert per_sub[sub] == -(-n * 2 // 10)  # ceil(20%)


def test_unseen_template_split_holds_out_whole_templates():
    examples = corpus.load_examples()
    train_rows, test_rows = ev.split_unseen_templates(examples)
    key = lambda e: (e.subcategory, e.id.rsplit("-c", 1)[1])  # noqa: E731
    assert test_rows and all(e.source == "generated" for e in test_rows)
    assert not {key(e) for e in test_rows} & {key(e) for e in train_rows if e.source == "generated"}
    assert {e.subcategory for e in test_rows} == {e.subcategory for e in examples}


def test_keyword_baseline_and_scores():
    examples = corpus.load_examples()
    rules = ev.KeywordRules.fit(examples)
    assert rules.predict(["增值税留抵退税怎么申请", "没有任何关键词"]) == ["tax.refund", rules.fallback]
    s = ev.scores(["a", "b"], ["a", "a"], ["x", "y"], ["x", "x"])
    assert s.accuracy_subcategory == 0.5 and 0 < s.macro_f1_subcategory < 1
