"""Answers over the programs, selections, KPI and event tables."""

from __future__ import annotations

import re

from assistant.records.load import RecordSet
from assistant.records.query import RecordQuery
from assistant.records.result import (
    RecordComputation,
    RecordResult,
    combined,
    has_year_question,
    year_label,
    year_ok,
)
from assistant.records.schema import Program, ProgramSelection, RecordBase

#: The question asks which ministry runs a program.
MINISTRY_ASKED = re.compile(r"(どこ|どの|何)の?(省|府省|省庁|役所)|所管|管轄|which ministry|what ministry")


class TableAnswers:
    """Mixin of :class:`RecordsEngine` for programs, selections, KPIs and events."""

    records: RecordSet
    default_program: Program | None
    program_by_id: dict[str, Program]

    def _programs(self, q: RecordQuery) -> RecordResult:
        progs = [self.program_by_id[i] for i in q.programs if i in self.program_by_id]
        if not progs and q.intent == "compare":
            progs = list(self.records.programs)
        if not progs:
            if "selections" in q.attributes or q.intent in ("count", "total"):
                progs = [self.default_program] if self.default_program else []
            else:
                progs = list(self.records.programs)
        attrs = q.attributes
        lines: list[str] = []
        rows: list[RecordBase] = []
        computed: list[RecordComputation] = []
        if "budget" in attrs and "superlative" in attrs:
            priced = [p for p in self.records.programs if p.budget_r5_oku_yen is not None]
            fewest = q.order == "min" or bool(re.search(r"少な|小さ|低", q.text))
            top = (min if fewest else max)(priced, key=lambda p: p.budget_r5_oku_yen)
            others = [p for p in self.records.programs if p.budget_r5_oku_yen is None]
            text = (f"R5年度予算が金額で示された事業のうち最も{'小さい' if fewest else '大きい'}のは"
                    f"{top.program_name}（{top.ministry}）の"
                    f"{top.budget_r5}です。" + "、".join(f"{p.program_name}: {p.budget_r5}" for p in priced if p is not top)
                    + ("。" if priced[1:] else "")
                    + ("金額が明示されていない事業: " + "、".join(f"{p.program_name}（{p.budget_r5}）" for p in others)
                       if others else ""))
            return RecordResult("answer", text, rows=[top, *[p for p in priced if p is not top], *others])
        if "budget" in attrs:
            if any(r.year != 2023 for r in q.years if r.bound == "eq"):
                asked = "、".join(year_label(r.year) for r in q.years)
                have = "、".join(f"{p.program_name}: {p.budget_r5}" for p in progs)
                return RecordResult("abstain", f"{asked}の予算は資料にありません。資料にあるのはR5年度予算です（{have}）。",
                                    rows=progs, filters=["予算: " + asked])
            for p in progs:
                lines.append(f"{p.program_name}（{p.ministry} {p.bureau}）のR5年度予算: {p.budget_r5}")
                rows.append(p)
        if "contact" in attrs:
            for p in progs:
                lines.append(f"{p.program_name}（{p.ministry} {p.bureau}）の問合せ先: {p.contact} {p.contact_email}")
                rows.append(p)
        if "support" in attrs:
            for p in progs:
                lines.append(f"{p.program_name}の主な支援対象: {p.main_support}")
                rows.append(p)
        if MINISTRY_ASKED.search(q.text) and progs and len(progs) < len(self.records.programs):
            for p in progs:  # 「地域新MaaSってどこの省？」
                lines.append(f"{p.program_name}は{p.ministry}（{p.bureau}）の事業です。")
                rows.append(p)
        if "summary" in attrs and not lines:
            for p in progs:
                lines.append(f"{p.program_name}（{p.ministry} {p.bureau}）の概要: {p.summary}")
                rows.append(p)
        if not lines:  # selection counts (the default question about a program)
            sel_years = {s.fiscal_year for s in self.records.selections}
            if not self._years_in_range(q, sel_years):
                have = sorted(sel_years)
                asked = "、".join(year_label(r.year) for r in q.years)
                return RecordResult("abstain", f"{asked}の選定数は資料にありません（資料の選定数は{year_label(have[0])}〜"
                                    f"{year_label(have[-1])}のものです）。", rows=_year_bounds(self.records.selections),
                                    filters=["年度: " + asked])
            if q.years and not any(s.program_id in {p.program_id for p in progs} and year_ok(s.fiscal_year, q.years)
                                   for s in self.records.selections):
                return RecordResult("abstain", "", filters=["年度: " + "、".join(year_label(r.year) for r in q.years)])
            for p in progs:
                sels = [s for s in self.records.selections
                        if s.program_id == p.program_id and year_ok(s.fiscal_year, q.years)]
                if not sels:
                    lines.append(f"{p.program_name}（{p.ministry}）: "
                                 + "、".join(year_label(r.year) for r in q.years) + "の選定数の記載はありません。")
                    continue
                total = sum(s.count for s in sels)
                detail = "、".join(f"{s.fiscal_year_label}: {s.count}事業" for s in sels)
                if len(sels) == 1:
                    lines.append(f"{p.program_name}（{p.ministry} {p.bureau}）の{year_label(sels[0].fiscal_year)}"
                                 f"の選定数は{sels[0].count}事業です。")
                else:
                    lines.append(f"{p.program_name}（{p.ministry} {p.bureau}）の選定数: {detail}"
                                 f"（合計{total}事業）。")
                    computed.append(_total(p, sels))
                rows.extend(sels[:1])
            if q.intent == "compare" and not q.years and has_year_question(q.text):
                for p in progs:  # 「選定数が最も多かった年度は？」
                    sels = [s for s in self.records.selections if s.program_id == p.program_id]
                    top = max(sels, key=lambda s: s.count)
                    lines.append(f"{p.program_name}で選定数が最も多いのは{year_label(top.fiscal_year)}"
                                 f"（{top.count}事業）です。")
            elif q.intent == "compare" and len(progs) > 1:
                totals = {p.program_name: sum(s.count for s in self.records.selections
                                              if s.program_id == p.program_id and year_ok(s.fiscal_year, q.years))
                          for p in progs}
                top = max(totals, key=totals.get)
                for p in progs:
                    sels = [s for s in self.records.selections
                            if s.program_id == p.program_id and year_ok(s.fiscal_year, q.years)]
                    if len(sels) > 1:
                        computed.append(_total(p, sels))
                lines.append(f"比較すると、{top}が最も多い（{totals[top]}事業）です。")
        if not lines:
            return RecordResult("abstain", "")
        return RecordResult("answer", "\n".join(lines), rows=rows, computed=computed)


def _year_bounds(sels: list[ProgramSelection]) -> list[RecordBase]:
    """A selection row of the earliest and one of the latest fiscal year."""
    rows = sorted(sels, key=lambda s: s.fiscal_year)
    return ([rows[0]] if rows[0] is rows[-1] else [rows[0], rows[-1]]) if rows else []


def _total(p: Program, sels: list[ProgramSelection]) -> RecordComputation:
    """The selections of ``p`` over the years of ``sels``, added up."""
    return combined("sum", [s.count for s in sels], sels,
                    " + ".join(f"{s.count}" for s in sels) + f" の合計（{p.program_name}の各年度の選定数）")


def describe_program(p: Program) -> str:
    return f"{p.program_name}（{p.ministry} {p.bureau}）"
