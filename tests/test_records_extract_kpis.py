"""KPI targets drafted from statements: shapes read by punctuation and part of speech, checked on
names, units, widths and years the drafter was not developed on."""

from __future__ import annotations

import pytest

from assistant.ingest.loaders import load_document
from assistant.records.extract_kpis import draft_kpis, parse, statements
from assistant.records.load import RecordSet

DOC = """---
title: 架空の計画
date: 2031-04-01
---

# 架空の計画

## 成果目標

次の目標を掲げる。

- 遠隔授業を導入した高等学校\u3000\u3000
：**３２０校**（２０２９年度まで）、**４８０校**（R13年度まで）
- 空き家バンクの登録件数：現在約９００件→**2,000件**（2030年度）等
- 移住相談窓口の設置：全国展開（47都道府県）を目指す
- 地域医療データ連携基盤の構築：**完成**（2032年度目途）

## 取組の方向

観光客の満足度向上に向けて、R12年度までに満足度調査を3回実施する。
再生可能エネルギーを導入した公共施設を、2028年度までに150施設、2033年度までに300施設とする。

## 開催概要

- 開催日：令和13年5月21日（水）
- 会場：架空市民ホール
"""


@pytest.fixture(scope="module")
def kpis(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("kpis")
    path = root / "plan.md"
    path.write_text(DOC, encoding="utf-8")
    doc = load_document(path, root)
    return doc, draft_kpis(doc, RecordSet(root))


def _by(kpis, name: str):
    return [k for k in kpis if k.name == name]


def test_label_shape_with_full_width_digits_and_era_years(kpis) -> None:
    doc, rows = kpis
    first, second = _by(rows, "遠隔授業を導入した高等学校")  # the name wraps onto the next line
    assert (first.target_as_written, first.value, first.unit, first.deadline_fy) == ("320校", 320, "校", 2029)
    assert (second.value, second.deadline_as_written, second.deadline_fy) == (480, "R13年度まで", 2031)
    assert first.quote == second.quote and first.quote in doc.text  # exact, as the loader has it
    assert first.section == "成果目標" and first.locator == "成果目標"


def test_baseline_arrow_and_trailing_etc(kpis) -> None:
    (row,) = _by(kpis[1], "空き家バンクの登録件数")
    assert (row.target_as_written, row.value, row.unit) == ("現在約900件→2,000件", 2000, "件")
    assert (row.baseline_as_written, row.baseline_value, row.deadline_fy) == ("現在約900件", 900, 2030)


def test_targets_without_a_deadline_under_a_kpi_heading(kpis) -> None:
    (nationwide,) = _by(kpis[1], "移住相談窓口の設置")
    assert (nationwide.target_as_written, nationwide.value, nationwide.unit) == ("全国展開(47都道府県)", 47, "都道府県")
    (state,) = _by(kpis[1], "地域医療データ連携基盤の構築")
    assert (state.target_as_written, state.value, state.deadline_fy) == ("完成", None, 2032)


def test_sentence_shape_object_then_deadlines(kpis) -> None:
    rows = _by(kpis[1], "再生可能エネルギーを導入した公共施設")
    assert [(k.target_as_written, k.value, k.unit, k.deadline_as_written) for k in rows] == \
        [("150施設", 150, "施設", "2028年度までに"), ("300施設", 300, "施設", "2033年度までに")]


def test_dates_and_clauses_without_an_object_are_not_kpis(kpis) -> None:
    names = {k.name for k in kpis[1]}
    assert "開催日" not in names and "会場" not in names  # a date is not a deadline
    assert not any("満足度" in n for n in names)  # 「…に向けて、」 is not an object or topic
    assert len(kpis[1]) == 7


def test_statements_keep_offsets_into_the_text(kpis) -> None:
    doc, _ = kpis
    for st in statements(doc):
        assert doc.text[st.start:st.start + len(st.quote)] == st.quote


def test_parse_leaves_prose_alone() -> None:
    assert parse("本事業は地方創生に資する取組を支援する。") == ("", [])
    assert parse("開始時刻:10:30から")[0] == "開始時刻"  # the colon of a time does not split the label


PLAIN = """# 架空の計画（印刷版）

## 重点指標

以下の指標を掲げる。
遠隔授業を導入した高等学校
： 320校（2029年度まで）
空き家バンクの登録件数：2,000件（2030年度）、
2,500件（2032年度）
地域医療データ連携基盤の構
築：完成（2032年度目途）
地域の暮らしを下支え
"""


def test_label_lines_without_list_markers_as_a_pdf_gives_them(tmp_path) -> None:
    path = tmp_path / "plain.md"
    path.write_text(PLAIN, encoding="utf-8")
    doc = load_document(path, tmp_path)
    rows = draft_kpis(doc, RecordSet(tmp_path))
    assert [(k.name, k.target_as_written, k.deadline_fy) for k in rows] == [
        ("遠隔授業を導入した高等学校", "320校", 2029),
        ("空き家バンクの登録件数", "2,000件", 2030), ("空き家バンクの登録件数", "2,500件", 2032),
        ("地域医療データ連携基盤の構築", "完成", 2032)]
    assert all(k.quote in doc.text and "以下の指標" not in k.quote and "下支え" not in k.quote for k in rows)
