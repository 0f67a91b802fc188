"""Reading questions: content words by part of speech, answer types, qualifiers, term mapping.

Spellings and entities here are made up for the tests (not from the QA sets).
"""

from collections import Counter

import pytest

from assistant.answer.relevance import (
    Requirements,
    asked_types,
    is_confirmation,
    is_content,
    kind_phrase,
    pos_morphemes,
    quoted_terms,
    requirements,
    topic_phrase,
)
from assistant.answer.term_map import TermMap, _resegment, related_table, rewrite
from assistant.tokenize import content_terms


def content(text):
    return [m.surface for m in pos_morphemes(text) if is_content(m)]


@pytest.mark.parametrize("question, words", [
    ("えーと、あの、避難所の場所って結局どこだっけ？", ["避難", "場所"]),
    ("講習会の日程みたいなのってある？", ["講習", "会", "日程"]),
    ("回覧板ちょうだい", ["回覧"]),
    ("両方とも途中で全部やめたの？", ["やめ"]),
    ("具体的にはどのくらいかかるんでしょうか", []),
    ("品川の窓口に申し込む", ["品川", "窓口", "申し"]),  # Sudachi A: 申し + 込む
])
def test_only_content_words_count(question, words):
    assert content(question) == words


def test_particles_auxiliaries_and_counters_are_never_content():
    ms = pos_morphemes("3件ほどありますよね")
    assert not any(is_content(m) for m in ms)


@pytest.mark.parametrize("question, kind", [
    ("申込書はいつまでに出せばいい？", "deadline"),
    ("講習会はいつから始まる？", "since"),
    ("説明会は何曜日？", "weekday"),
    ("去年は何人来た？", "people"),
    ("会場はどこ？", "place"),
    ("達成率は何％？", "ratio"),
    ("案内ページのURLを教えて", "url"),
    ("What is the deadline?", "deadline"),
])
def test_answer_types(question, kind):
    assert kind in [a.name for a in asked_types(question)]


def test_english_cues_need_whole_words():
    assert "ratio" not in [a.name for a in asked_types("What does creating jobs mean?")]


def test_qualifiers_and_confirmation():
    assert quoted_terms("『まち歩きマップ』って載ってる？") == ["まち歩きマップ"]
    assert is_confirmation(pos_morphemes("説明会は土曜だったよね？"))
    assert is_confirmation(pos_morphemes("説明会は土曜でしたっけ？"))
    assert not is_confirmation(pos_morphemes("説明会は土曜ですか？"))
    assert topic_phrase(pos_morphemes("避難訓練の参加者数って何人？")) == "避難訓練の参加者数"
    assert [m.surface for m in kind_phrase(pos_morphemes("どの補助制度を使った？"))] == ["補助", "制度"]


def test_requirements_check():
    req = requirements("避難訓練の参加率は2031年度に何％？")
    assert req.years == [(2031, "2031年度")] and [a.name for a in req.types] == ["ratio"]
    toks = frozenset()
    assert req.check("避難訓練の参加率：60%（2031年度）", "目標", toks, toks) is None
    assert req.check("避難訓練の参加率：60%（2029年度）", "目標", toks, toks) == "year"
    assert req.check("避難訓練を2031年度に実施", "目標", toks, toks) == "answer_type"
    assert "2031年度" in req.describe("year") and req.describe("year").startswith("資料には")
    confirm = requirements("避難訓練の参加率って2031年度で60%だよね？")
    assert confirm.check("避難訓練の参加率：60%（2029年度）", "目標", toks, toks) is None


def test_names_are_required_somewhere_in_the_section():
    req = requirements("品川区の事業は？", known=lambda t: t == "品川")
    assert req.names == {"品川"}
    assert req.check("事業の一覧", "", frozenset({"事業"}), frozenset()) == "name"
    assert req.check("事業の一覧", "", frozenset({"事業"}), frozenset(), frozenset({"品川"})) is None
    assert Requirements().check("なんでも", "", frozenset(), frozenset()) is None


# -- term map ------------------------------------------------------------------------------------
DOCS = ["リハビリテーションの教室を開きます。", "問合せ先：健康推進課", "参加者の声：楽しかった"]


@pytest.fixture(scope="module")
def term_map():
    return TermMap.from_texts(DOCS, content_terms)


def test_clipped_katakana(term_map):
    assert term_map.clipped("リハビリ") == "リハビリテーション"
    assert term_map.clipped("リハ") is None  # too short to be sure


def test_related_words_table(term_map):
    assert "問合せ先" in related_table()["窓口"]
    got = term_map.map([("窓口", "窓口"), ("口コミ", "口コミ"), ("天ぷら", "天ぷら")])
    assert got["窓口"].target == "問合せ先" and got["窓口"].how == "table"
    assert got["口コミ"].target == "声"
    assert "天ぷら" not in got  # no table entry, no embedding: stays unknown


def test_rewrite_replaces_mapped_words_and_reports_the_rest(term_map):
    df = Counter(t for d in DOCS for t in set(content_terms(d)))
    rw = rewrite("リハビリの窓口と駐輪場は？", lambda t: df[t] > 0, content_terms, term_map)
    assert "リハビリテーション" in rw.text and "問合せ先" in rw.text
    assert rw.unknown == ["駐輪場"]


def test_resegment_needs_a_compound_the_corpus_has():
    compounds = {"受付窓口"}
    known = {"受付", "窓口"}.__contains__
    assert _resegment("受付", "窓口側", compounds.__contains__, lambda t: known(t)) == "窓口"
    assert _resegment("受付", "窓口側", set().__contains__, lambda t: known(t)) is None


@pytest.mark.parametrize("question, several", [
    ("品川区と目黒区の両方で開かれた？", True),
    ("それぞれの会場は？", True),
    ("説明会は何回あった？", True),
    ("講習会っていくつある？", True),
    ("講習会の会場は？", False),
])
def test_questions_asking_for_several_things(question, several):
    from assistant.answer.relevance import asks_for_several

    assert asks_for_several(pos_morphemes(question)) is several


def test_words_about_how_a_figure_is_counted_are_not_a_topic():
    # 「集計は何単位？」 asks on what basis a figure is counted: the figure's own words carry the topic.
    words = content("アンケートの集計は団体単位ですか")
    assert "集計" not in words and "単位" not in words and "アンケート" in words
