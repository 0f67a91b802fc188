"""Question understanding: place names by reading, regions, short forms, operators.

Names and phrasings here are deliberately other than those of the QA sets (嬉野, 塩尻, 宇陀,
山陰, 東海, 文科…); expected rows are computed from the records, not written down.
"""

import pytest

from assistant.understand.operators import group_by, having_count, negated, ordinal
from assistant.understand.readings import edit_distance
from assistant.understand.regions import regions, standard_region_of
from assistant.understand.rewrite import Rewriter, initials


def found(engine, text):
    return [(t.kind, t.value) for t in engine.lexicon.find(text)]


@pytest.mark.parametrize("text, value", [
    ("うれしの市の事業", "嬉野市"), ("ウレシノ市の事業", "嬉野市"), ("ureshino市の事業", "嬉野市"),
    ("しおじり市って", "塩尻市"), ("Shiojiri City", "塩尻市"), ("うだ市は", "宇陀市"),
    ("カワチナガノ市", "河内長野市"), ("Kawachinagano", "河内長野市"),
])
def test_known_names_by_reading_and_romaji(engine, text, value):
    assert ("municipality", value) in found(engine, text)


def test_homophone_typo_resolves_and_is_named(engine):
    q = engine.parse("陸前高多市の採択年度は？")  # 高多: a typo with the same reading as 高田
    assert q.municipalities == ["陸前高田市"]
    assert any("陸前高田市" in n for n in q.notes)


def test_unknown_names_stay_unknown(engine):
    assert ("place", "いわきし市") not in found(engine, "札幌市の事業")
    assert found(engine, "札幌市の事業") == [("place", "札幌市")]
    assert found(engine, "ひろさき市の事業") == [("place", "ひろさき市")]
    # A city is not its prefecture: 岐阜 is both, 富山市 is a city.
    assert ("municipality", "富山市") in found(engine, "Toyama City")
    assert ("prefecture", "富山県") in found(engine, "Toyama Prefecture")


def test_shared_reading_is_ambiguous(engine):
    q = engine.parse("みさと町の技術は？")
    assert q.ambiguous and set(q.ambiguous[0][1]) == {"美郷町", "三郷町"}


def test_edit_distance():
    assert edit_distance("かすがい", "かすがい") == 0
    assert edit_distance("かすがい", "かすかい") == 1
    assert edit_distance("とよはし", "とよた", 1) > 1


def test_regions_data_covers_every_prefecture_once():
    standard = [r for r in regions() if r.kind == "standard"]
    prefs = [p for r in standard for p in r.prefectures]
    assert len(prefs) == 47 and len(set(prefs)) == 47
    assert standard_region_of("三重県").name == "近畿"


@pytest.mark.parametrize("text, region", [("山陰の事業", "山陰"), ("東海地方で", "東海"), ("Shikoku", "四国"),
                                          ("首都圏の", "首都圏")])
def test_region_mentions(engine, text, region):
    assert ("region", region) in found(engine, text)


def test_region_filter_counts_rows(engine):
    r = next(r for r in regions() if r.name == "山陰")
    q = engine.parse("山陰の事業は何件？")
    res = engine.run(q)
    n = sum(p.prefecture in r.prefectures for p in engine.records.projects)
    assert f"{n}件" in res.text


def test_short_forms_expand_only_as_words():
    rw = Rewriter(known=lambda w: w in {"自治体", "DX"}, split=lambda n: {"文部科学省": ["文部", "科学", "省"]}.get(n, [n]),
                  names=[("文部科学省", "ministry")], bureaus=["都市局"])
    assert rw.rewrite("文科の補助金") == "文部科学省の補助金"
    assert rw.rewrite("総務課に聞く") == "総務課に聞く"
    assert rw.rewrite("総務省の事業") == "総務省の事業"
    assert rw.rewrite("観光DXとシンポ") == "観光DXとシンポジウム"
    assert initials(["厚生", "労働", "省"]) == "厚労"


def test_operator_reading():
    assert ordinal("3番目に少ないのは") == 3
    assert group_by("都道府県ごとに数えて") == "prefecture"
    assert group_by("事業が最も多い地方は") == "region"
    assert having_count("事業が2件だけの県") == 2
    text = "ロボットを使っていない事業"
    assert negated(text, 0, 4, len(text))
    text = "ロボットを使う事業"
    assert not negated(text, 0, 4, len(text))


def test_negated_technology_counts_the_complement(engine):
    res = engine.run(engine.parse("ロボットを使っていない事業は何件？"))
    n = sum("ロボット" not in p.technologies for p in engine.records.projects)
    assert f"{n}件" in res.text


def test_group_rank_by_prefecture_with_ordinal(engine):
    from collections import Counter

    counts = Counter(p.prefecture for p in engine.records.projects)
    top = max(counts.values())
    res = engine.run(engine.parse("都道府県別で事業が一番多いのはどこ？"))
    assert all(k in res.text for k, v in counts.items() if v == top) and f"{top}件" in res.text


def test_set_predicate_all(engine):
    rows = [p for p in engine.records.projects if p.selection_fy == 2018]
    ok = all("ドローン" in p.technologies for p in rows)
    res = engine.run(engine.parse("H30採択の事業は全部ドローンを使ってる？"))
    assert res.text.startswith("はい" if ok else "いいえ")


def test_program_sum_across_programs_shows_the_operation(engine):
    sels = [s for s in engine.records.selections if s.fiscal_year == 2020]
    total = sum(s.count for s in sels)
    res = engine.run(engine.parse(f"{len(engine.records.programs)}つの事業のR2選定数を合計すると？"))
    assert f"{total}事業" in res.text and " + " in res.text


def test_false_premise_about_a_listed_project_states_the_row(engine):
    p = next(p for p in engine.records.projects if p.municipalities and p.selection_fy != 2021)
    name = p.municipalities[0]
    res = engine.run(engine.parse(f"{name}ってR3採択でしたっけ？"))
    assert res.status == "answer" and res.text.startswith("いいえ") and p.selection_year in res.text


def test_superlative_written_apart(engine):
    from assistant.understand.operators import split_superlative

    assert split_superlative("一番事業が多いのは") == "max"
    assert split_superlative("最も採択が早い") == "earliest"
    assert split_superlative("事業が多い") is None


def test_coordinated_programs_are_each_named(engine):
    from assistant.records.match import match_programs

    progs = engine.records.programs
    a, b = progs[1], progs[4]
    ids = match_programs(f"{a.program_name}と{b.program_name}の予算", progs)
    assert set(ids) == {a.program_id, b.program_id}


def test_budget_sum_shows_the_amounts_as_written(engine):
    a, b = [p for p in engine.records.programs if p.budget_r5_oku_yen is not None][1:3]
    res = engine.run(engine.parse(f"{a.program_name}と{b.program_name}のR5予算を足すと？"))
    assert f"{a.budget_r5} + {b.budget_r5}" in res.text


def test_a_project_attribute_the_table_lacks_abstains(engine):
    assert engine.run(engine.parse("塩尻市の事業の予算はいくら？")).status == "abstain"


def test_kana_words_before_machi_are_not_a_place(engine):
    q = engine.parse("このうち町の事業は？")
    assert not q.unknown_places and q.municipality_kind == "町"
    assert engine.parse("ひろさき市の事業は？").unknown_places == ["ひろさき市"]


def test_group_by_year_without_intent_word(engine):
    from collections import Counter

    counts = Counter(p.selection_year for p in engine.records.projects)
    res = engine.run(engine.parse("採択年度別でいちばん多いのは？"))
    top = max(counts.values())
    assert res is not None and f"{top}件" in res.text


@pytest.mark.parametrize("text, names", [
    ("うれしのとしおじりって", ["嬉野市", "塩尻市"]),
    ("タカサゴとウダの技術", ["高砂市", "宇陀市"]),
])
def test_several_kana_names_in_one_run(engine, text, names):
    assert [v for k, v in found(engine, text) if k == "municipality"] == names


def test_names_typed_by_reading_keep_their_canonical_spelling(engine):
    q = engine.parse("ひょうご県の事例は？")
    assert ("ひょうご県", "兵庫県") in q.spellings


def test_purpose_of_a_technology_is_not_in_the_table(engine):
    res = engine.run(engine.parse("塩尻市のAIって何に使ってるの？"))
    assert res.status == "abstain" and "AI" in res.text and res.rows


def test_contact_domains_compared(engine):
    progs = [p for p in engine.records.programs if p.ministry == "総務省"] + \
        [p for p in engine.records.programs if p.ministry == "経済産業省"]
    res = engine.run(engine.parse("総務省と経済産業省の事業の問合せアドレス、ドメイン同じ？"))
    same = len({p.contact_email.rpartition("@")[2] for p in progs}) == 1
    assert res.text.startswith("はい" if same else "いいえ")


@pytest.mark.parametrize("english, japanese", [("Which city is the tourism DX example?", "観光DX"),
                                               ("What is listed under creating a flow of people?", "人の流れをつくる"),
                                               ("Is there a telemedicine case?", "遠隔医療")])
def test_english_glossary_maps_to_the_documents_terms(english, japanese):
    from assistant.normalize import normalize_text

    assert japanese in normalize_text(english)


def test_ordinal_takes_its_direction_from_the_adjective(engine):
    from collections import Counter

    sizes = sorted(set(Counter(p.prefecture for p in engine.records.projects).values()), reverse=True)
    res = engine.run(engine.parse("都道府県別で2番目に多いのは？"))
    assert f"{sizes[1]}件" in res.text and "2番目" in res.text


def test_followup_grouped_by_region_drops_the_earlier_region(engine):
    from assistant.chat import resolve

    q, _ = resolve(engine, "逆に一番少ない地方は？", ["東北の事業は何件？"])
    assert not q.regions and q.group == "region" and q.order == "min" and not q.reverse


def test_support_until_for_a_selection_year(engine):
    res = engine.run(engine.parse("R3採択の事業の支援はいつまで？"))
    assert "R7年度末" in res.text


def test_mo_list_negation_covers_every_member(engine):
    n = sum(not {"ロボット", "AI"} & set(p.technologies) for p in engine.records.projects)
    res = engine.run(engine.parse("ロボットもAIも使っていない事業は何件？"))
    assert f"{n}件" in res.text


def test_ka_between_technologies_is_either(engine):
    n = sum(bool({"5G", "ブロックチェーン"} & set(p.technologies)) for p in engine.records.projects)
    assert f"{n}件" in engine.run(engine.parse("5Gかブロックチェーンを使う事業は何件？")).text


def test_two_regions_compared(engine):
    res = engine.run(engine.parse("関東と中国地方、どっちが事業多い？"))
    assert "関東" in res.text and "中国" in res.text and "最も多い" in res.text


def test_prefecture_applicant_kind(engine):
    n = sum(p.prefecture_is_applicant and p.selection_fy == 2018 for p in engine.records.projects)
    assert f"{n}件" in engine.run(engine.parse("H30に採択された県の事業は何件？")).text


def test_a_year_outside_the_table_says_which_years_it_has(engine):
    res = engine.run(engine.parse("R7年度に採択された事業は？"))
    assert res.status == "abstain" and "R4" in res.text


def test_change_between_years_answers_the_asked_direction(engine):
    sel = {(s.program_id, s.fiscal_year): s.count for s in engine.records.selections}
    down = [p.program_name for p in engine.records.programs
            if (p.program_id, 2020) in sel and (p.program_id, 2021) in sel
            and sel[(p.program_id, 2021)] < sel[(p.program_id, 2020)]]
    res = engine.run(engine.parse("R2→R3で選定数が減ったのはどの事業？"))
    head = res.text.splitlines()[0]
    assert "減った" in head and all(n in head for n in down)


def test_kind_suffix_of_a_name_is_not_a_kind_filter(engine):
    q = engine.parse("あきた県の事業の技術は？")
    assert q.prefectures == ["秋田県"] and q.municipality_kind is None


def test_premise_about_which_program_does_something(engine):
    holder = next(p for p in engine.records.programs if "インフラの管理" in p.summary)
    res = engine.run(engine.parse("インフラの管理を高度化する取組を支援するのは経産の事業だよね？".replace("経産", "経済産業省")))
    assert res is not None and res.text.startswith("いいえ") and holder.program_name in res.text


@pytest.mark.parametrize("text, want", [("二〇二一年度に", "2021年度に"), ("十五事業", "15事業"), ("令和三年度", "令和3年度"),
                                        ("統一", "統一")])
def test_kanji_numerals_before_counters(text, want):
    from assistant.understand.rewrite import kanji_numerals

    assert kanji_numerals(text) == want


def test_kana_name_shared_by_a_city_and_its_prefecture_follows_its_suffix(engine):
    assert ("municipality", "岐阜市") in found(engine, "ぎふ市の技術")
    assert ("prefecture", "岐阜県") in found(engine, "ぎふ県の事業")


def test_both_named_projects_checked_together(engine):
    a, b = [p for p in engine.records.projects if p.municipalities][:2]
    both = a.mlit_autonomous_support and b.mlit_autonomous_support
    res = engine.run(engine.parse(f"{a.municipalities[0]}と{b.municipalities[0]}、どっちも(※)付き？"))
    assert res.text.startswith("はい" if both else "いいえ")
