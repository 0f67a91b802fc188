"""Follow-ups carry slots from earlier turns."""

import pytest

from assistant.chat import resolve
from assistant.config import get_settings
from assistant.records.engine import RecordsEngine
from assistant.records.load import load_records


@pytest.fixture(scope="module")
def engine() -> RecordsEngine:
    return RecordsEngine(load_records(get_settings().records_path))


def test_sono_uchi_carries_year(engine):
    q, _ = resolve(engine, "そのうち自動運転は？", ["R2年度に選定された事業はいくつ？"])
    assert [y.year for y in q.years] == [2020] and q.technologies == ["自動運転"] and q.intent == "count"


def test_other_ministry_replaces_program_and_keeps_year(engine):
    q, _ = resolve(engine, "経済産業省の方は？", ["総務省のR3の選定数は？"])
    assert q.programs == ["meti-maas"] and [y.year for y in q.years] == [2021]
    r = engine.run(q)
    assert "14事業" in r.text


def test_that_municipality_resolves_from_previous_result(engine):
    q, _ = resolve(engine, "その自治体の技術は？", ["岩手県で令和4年度に選ばれた事業は？"])
    assert q.municipalities == ["盛岡市"]
    assert "クラウドコンピューティング" in engine.run(q).text


def test_three_turns(engine):
    q, _ = resolve(engine, "その中で(※)が付いていないのは？", ["R3年度に選定された事業は？", "そのうち自動運転を使うのは？"])
    r = engine.run(q)
    assert {p.no for p in r.rows} == {p.no for p in engine.records.projects
                                      if p.selection_fy == 2021 and "自動運転" in p.technologies
                                      and not p.mlit_autonomous_support}


def test_new_attribute_is_not_overridden(engine):
    q, _ = resolve(engine, "R3年度の選定数は？", ["総務省の地域課題解決のためのスマートシティ推進事業のR5年度予算は？"])
    assert "budget" not in q.attributes
    assert "9事業" in engine.run(q).text


def test_independent_question_ignores_history(engine):
    q, text = resolve(engine, "盛岡市の採択年度と活用技術は？", ["総務省のR3の選定数は？"])
    assert q.programs == [] and text == "盛岡市の採択年度と活用技術は？"


def test_a_named_project_does_not_inherit_the_earlier_years():
    from assistant.chat import resolve
    from assistant.config import get_settings
    from assistant.records.engine import RecordsEngine
    from assistant.records.load import load_records

    engine = RecordsEngine(load_records(get_settings().records_path))
    q, _ = resolve(engine, "塩尻市の事業の技術は？", ["R2年度に採択された事業は？"])
    assert q.municipalities == ["塩尻市"] and not q.years
    q, _ = resolve(engine, "その中でAIも使ってるのは？", ["ロボットを使ってる事業は？"])
    assert set(q.technologies) == {"ロボット", "AI"}
    q, _ = resolve(engine, "2030年度は？", ["光ファイバのKPIは？"])
    assert q.kpi_ids and "kpi_ids" in q.carried
