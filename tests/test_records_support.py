"""Support-period arithmetic over program_facts.csv, the selections and the project table.

Expected figures are computed from the records here, for entities other than the QA sets'.
"""

import pytest

from assistant.normalize import western_to_era


def ask(engine, text):
    q = engine.parse(text)
    assert not engine.unexplained(text, q), engine.unexplained(text, q)
    return engine.run(q)


def max_years(engine) -> int:
    return int(next(f for f in engine.records.facts if f.fact_id == "support-years-max").value)


@pytest.mark.parametrize("name", ["塩尻市", "旭川市", "美郷町"])
def test_support_until_is_selection_year_plus_the_maximum(engine, name):
    p = next(p for p in engine.records.projects if name in p.municipalities)
    end = p.selection_fy + max_years(engine) - 1
    res = ask(engine, f"{name}の支援はいつまで続くの？")
    assert f"{western_to_era(end)}年度末" in res.text and f"{end + 1}年3月" in res.text
    assert any(getattr(r, "fact_id", "") == "support-years-max" for r in res.rows)  # the rule is cited


def test_support_ended_early_per_year(engine):
    fy = 2019
    sel = next(s for s in engine.records.selections if s.program_id == "cao-mirai" and s.fiscal_year == fy)
    listed = sum(p.selection_fy == fy for p in engine.records.projects)
    res = ask(engine, "R1に採択された事業で、途中で支援が終わったものはある？")
    assert f"{sel.count} − {listed} = {sel.count - listed}" in res.text


def test_ended_including_this_year_adds_the_two_figures(engine):
    before = int(next(f for f in engine.records.facts if f.fact_id == "ended-before-r4").value)
    now = sum(p.support_ends_r4 for p in engine.records.projects)
    res = ask(engine, "今年度末で満了するものも合わせると、支援が終わった事業は何事業？")
    assert f"{before} + {now} = {before + now}事業" in res.text


def test_maximum_period_is_stated_from_its_row(engine):
    res = ask(engine, "未来技術社会実装事業の支援期間は最長で何年ですか")
    assert f"{max_years(engine)}年" in res.text and getattr(res.rows[0], "fact_id", "") == "support-years-max"


def test_who_may_apply_states_the_applicants_and_the_listed_examples(engine):
    res = ask(engine, "都道府県でも申請できますか？")
    alone = [p.entry for p in engine.records.projects if p.prefecture_is_applicant and not p.municipalities]
    assert "地方公共団体" in res.text and all(e in res.text for e in alone)


@pytest.mark.parametrize("text, fact_id", [("支援対象事業一覧はいつ時点のもの？", "projects-as-of"),
                                           ("(※)の印ってなに？", "flag-meaning")])
def test_notes_about_the_table_itself(engine, text, fact_id):
    res = ask(engine, text)
    fact = next(f for f in engine.records.facts if f.fact_id == fact_id)
    assert fact.unit in res.text and res.rows == [fact]
