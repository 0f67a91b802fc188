"""KPI answers as a small query algebra over kpis.csv: filters (named KPI, deadline year with
bounds, unit, section, 年 vs 年度), operations (list, count, group by section, difference, sum,
min/max) and abstention that states what the table has. The answerer is called directly on a
parsed query, so these tests do not depend on routing."""

from __future__ import annotations

import pytest

from assistant.claims import Computation, attribute
from assistant.records.kpis_answer import asked_counters, asked_spelling, deadline_spelling, unit_counter


def kpis(engine, question):
    return engine._kpis(engine.parse(question))


def figures_are_cited(result) -> None:
    """Every figure of the answer is in a cited row's quote or is one of the computed figures."""
    computations = [Computation(c.operation, c.value, c.inputs) for c in result.computed]
    found = attribute(result.text, [r.quote for r in result.rows], computations)
    assert not [c.text for c in found.unsupported if c.value_kind == "number"], result.text


def test_unit_and_spelling_helpers():
    assert unit_counter("万人") == "人" and unit_counter("ヶ所") == "か所" and unit_counter("%") == "%"
    units = {"団体", "人", "%", "地域", "か所", "都市"}
    assert asked_counters("人数で目標を立てているのは？", units) == {"人"}
    assert asked_counters("何か所が目標？", units) == {"か所"}
    assert asked_counters("割合のKPI", units) == {"%"}
    assert asked_counters("都市数の目標", units) == {"都市"}
    assert asked_spelling("「年」で期限が書いてあるKPI") == "年"
    assert asked_spelling("年じゃなくて年度で書いてあるのは") == "年度"
    assert asked_spelling("2025年度までのKPI") is None


def test_deadline_spelling_of_rows(engine):
    by_id = {k.kpi_id: k for k in engine.records.kpis}
    assert deadline_spelling(by_id["smart-city-2025"]) == "年"
    assert deadline_spelling(by_id["fiber-coverage-2027"]) == "年度"
    assert deadline_spelling(by_id["regional-datacenter"]) is None  # 5年程度 is a span, not a year


@pytest.mark.parametrize("question", ["光ファイバの目標はいつまでに何%？", "光ファイバー整備のKPIを教えて",
                                      "世帯カバー率の目標は？"])
def test_named_kpi_other_wordings(engine, question):
    r = kpis(engine, question)
    assert r.status == "answer" and [k.kpi_id for k in r.rows] == ["fiber-coverage-2027"]
    assert "99.9%" in r.text and "2027年度" in r.text
    figures_are_cited(r)


@pytest.mark.parametrize("question", ["3D都市モデルって何都市まで整備する？", "3D都市モデルの整備目標は？"])
def test_3d_city_model(engine, question):
    r = kpis(engine, question)
    assert r.rows and all(k.name == "3D都市モデルの整備都市" for k in r.rows) and "500都市" in r.text


def test_section_of_a_named_kpi(engine):
    r = kpis(engine, "3D都市モデルはどの区分のKPI？")
    assert "「地方のデジタル実装に向けたKPI」に入っています" in r.text
    r = kpis(engine, "光ファイバのKPIはどの分類？")
    assert "「デジタル実装の基礎条件整備に関するKPI」に入っています" in r.text


def test_group_by_section(engine):
    r = kpis(engine, "KPIはどんな区分に分かれている？")
    sections = [s for s in dict.fromkeys(k.section for k in engine.records.kpis) if "KPI" in s]
    assert f"{len(sections)}つの見出し" in r.text
    for s in sections:
        n = len({k.name for k in engine.records.kpis if k.section == s})
        assert f"{s}（{n}項目）" in r.text
    assert len(r.rows) == len(engine.records.kpis)  # every KPI is shown (and cited) under its section


def test_filter_by_section(engine):
    r = kpis(engine, "基礎条件整備のKPIを一覧で")
    want = [k for k in engine.records.kpis if k.section == "デジタル実装の基礎条件整備に関するKPI"]
    assert r.rows == want and f"{len(want)}件" in r.text
    r = kpis(engine, "地域ビジョンの実現に向けたKPIは？")
    assert {k.section for k in r.rows} == {"地域ビジョンの実現に向けたKPI"}
    assert "スマートシティ" in r.text and "デジ活" in r.text


@pytest.mark.parametrize("question,counter", [("人数が目標のKPIは？", "人"), ("何か所で数えるKPIは？", "か所"),
                                              ("割合で目標を立てているKPIは？", "%"), ("地域数が目標のKPIは？", "地域")])
def test_filter_by_unit(engine, question, counter):
    r = kpis(engine, question)
    want = {k.kpi_id for k in engine.records.kpis if unit_counter(k.unit) == counter}
    assert {k.kpi_id for k in r.rows} == want
    figures_are_cited(r)


def test_unit_and_deadline_until(engine):
    r = kpis(engine, "2025年度までが期限のKPIで団体数のものは？")
    exact = {k.kpi_id for k in engine.records.kpis if k.unit == "団体" and k.deadline_fy == 2025}
    earlier = {k.kpi_id for k in engine.records.kpis if k.unit == "団体" and k.deadline_fy and k.deadline_fy < 2025}
    assert {k.kpi_id for k in r.rows} == exact | earlier
    assert r.text.startswith(f"期限が2025年度（まで）のKPI（単位「団体」）は{len(exact)}件です")
    assert "700団体" in r.text.split("このほか")[0] and "1,000団体" in r.text.split("このほか")[1]


def test_deadline_written_as_calendar_year(engine):
    r = kpis(engine, "期限を「年」で書いてあるKPIはどれ？")
    assert {k.kpi_id for k in r.rows} == {k.kpi_id for k in engine.records.kpis if deadline_spelling(k) == "年"}
    r = kpis(engine, "年度ではなく年で期限を示しているKPIは何件？")
    assert f"{len(r.rows)}件" in r.text and all("年度" not in k.deadline_as_written for k in r.rows)


def test_deadline_since_and_range(engine):
    r = kpis(engine, "2030年度以降が期限のKPIは？")
    assert {k.deadline_fy for k in r.rows} == {2030}
    r = kpis(engine, "2026年度から2027年度が期限のKPIはいくつ？")
    want = [k for k in engine.records.kpis if k.deadline_fy in (2026, 2027)]
    assert len(r.rows) == len(want) and f"{len(want)}件" in r.text


def test_difference_from_the_current_level(engine):
    r = kpis(engine, "デジタル推進委員はこれから何人増やす予定？")
    assert r.status == "answer"
    # computed figures are compared as answers' values are: 3万人 is 30000
    assert "5万人 − 2万人強 = 約3万人" in r.text and r.numbers == ["30000"]
    figures_are_cited(r)


def test_difference_between_two_targets(engine):
    r = kpis(engine, "サテライトオフィスの目標は2024年度から2027年度で何団体増える？")
    assert "1,200団体 − 1,000団体 = 200団体" in r.text
    figures_are_cited(r)
    r = kpis(engine, "5Gの人口カバー率は2023年度から2030年度で何ポイント上がる？")
    assert "99% − 95% = 4ポイント" in r.text
    figures_are_cited(r)


def test_sum_of_different_kpis_in_one_unit(engine):
    r = kpis(engine, "「地域」で数えるKPIの目標を合計すると？")
    areas = [k for k in engine.records.kpis if k.unit == "地域"]
    total = sum(k.value for k in areas)
    assert f"= {int(total)}地域" in r.text
    figures_are_cited(r)


def test_sum_is_not_made_of_one_kpis_levels(engine):
    r = kpis(engine, "サテライトオフィスのKPIの合計は？")  # 1,000 and 1,200 are two levels of one target
    assert "2,200" not in r.text and "1,200団体" in r.text


def test_superlatives(engine):
    r = kpis(engine, "期限が一番遅いKPIは？")
    latest = max(k.deadline_fy for k in engine.records.kpis if k.deadline_fy)
    assert {k.deadline_fy for k in r.rows} == {latest}
    r = kpis(engine, "期限が最も早いKPIは？")
    assert [k.kpi_id for k in r.rows] == ["5g-coverage-2023"]
    r = kpis(engine, "団体数の目標が一番大きいKPIは？")
    assert "最も大きいのは" in r.text and "1,500団体" in r.text.split("\n")[0]


def test_missing_year_of_a_named_kpi_abstains_stating_the_table(engine):
    r = kpis(engine, "5Gの人口カバー率、2027年度はどこまで？")
    assert r.status == "abstain"
    assert r.text == ("5Gの人口カバー率の目標は95%（2023年度）、97%（2025年度）、99%（2030年度）で、"
                      "2027年度の値は資料にありません。")
    assert r.text in r.filters and len(r.rows) == 3
    r = kpis(engine, "光ファイバの世帯カバー率の2025年度の目標は？")
    assert r.status == "abstain" and "99.9%（2027年度）" in r.text and "2025年度の値は資料にありません" in r.text


def test_year_without_kpis_is_an_empty_answer(engine):
    r = kpis(engine, "2028年度が期限のKPIは？")
    assert r.status == "empty" and "0件" in r.text


def test_named_kpi_keeps_its_rows_when_the_unit_does_not_fit(engine):
    r = kpis(engine, "光ファイバは何団体？")
    assert [k.kpi_id for k in r.rows] == ["fiber-coverage-2027"]


def test_not_a_kpi_question_is_left_to_the_documents(engine):
    assert kpis(engine, "総合戦略の基本的考え方は？") is None


def test_length_of_a_cumulative_period(engine):
    r = kpis(engine, "デジタル推進人材は何年間で230万人育成する？")
    assert "2022年度から2026年度までの5年間" in r.text and r.numbers == ["5"]


def test_difference_of_approximate_targets_is_approximate(engine):
    r = kpis(engine, "無人自動運転移動サービスは2025年度と2027年度でどれくらい増える？")
    assert "100か所以上 − 50か所程度 = 約50か所" in r.text


def test_until_a_year_without_a_target_of_that_year(engine):
    r = kpis(engine, "5Gの人口カバー率は2027年度までにどこまで上げる？")
    assert r.status == "answer" and "期限が2027年度の目標は資料にありません" in r.text
    assert "97%（2025年度）" in r.text and "99%" not in r.text


def test_unit_word_standing_alone(engine):
    r = kpis(engine, "一番多くの団体を目標にしているKPIは？")
    assert {k.unit for k in r.rows} == {"団体"} and "1,500団体" in r.text.split("\n")[0]
