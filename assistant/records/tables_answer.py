"""Answers over the programs, selections, KPI and event tables."""

from __future__ import annotations

import re

from assistant.records.load import RecordSet
from assistant.records.query import RecordQuery
from assistant.records.result import BOUND_TEXT, RecordResult, has_year_question, year_label, year_ok
from assistant.records.schema import Event, Kpi, Program, RecordBase


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
        numbers: list[str] = []
        if "budget" in attrs and "superlative" in attrs:
            priced = [p for p in self.records.programs if p.budget_r5_oku_yen is not None]
            top = max(priced, key=lambda p: p.budget_r5_oku_yen)
            others = [p for p in self.records.programs if p.budget_r5_oku_yen is None]
            text = (f"R5年度予算が金額で示された事業のうち最も大きいのは{top.program_name}（{top.ministry}）の"
                    f"{top.budget_r5}です。" + "、".join(f"{p.program_name}: {p.budget_r5}" for p in priced if p is not top)
                    + ("。" if priced[1:] else "")
                    + ("金額が明示されていない事業: " + "、".join(f"{p.program_name}（{p.budget_r5}）" for p in others)
                       if others else ""))
            return RecordResult("answer", text, rows=[top, *[p for p in priced if p is not top], *others])
        if "budget" in attrs:
            if any(r.year != 2023 for r in q.years if r.bound == "eq"):
                return RecordResult("abstain", "", filters=["予算: " + "、".join(year_label(r.year) for r in q.years)])
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
        if "summary" in attrs and not lines:
            for p in progs:
                lines.append(f"{p.program_name}（{p.ministry} {p.bureau}）の概要: {p.summary}")
                rows.append(p)
        if not lines:  # selection counts (the default question about a program)
            sel_years = {s.fiscal_year for s in self.records.selections}
            if not self._years_in_range(q, sel_years):
                return RecordResult("abstain", "", filters=["年度: " + "、".join(year_label(r.year) for r in q.years)])
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
                    numbers.append(str(total))
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
                lines.append(f"比較すると、{top}が最も多い（{totals[top]}事業）です。")
        if not lines:
            return RecordResult("abstain", "")
        return RecordResult("answer", "\n".join(lines), rows=rows, numbers=numbers)

    # -- KPIs ----------------------------------------------------------------------------------
    def _kpis(self, q: RecordQuery) -> RecordResult | None:
        if not q.kpi_ids and not q.years and q.intent not in ("list", "count", "total"):
            return None  # a KPI question naming no KPI of the records: let the documents answer
        kpis: list[Kpi] = list(self.records.kpis)
        if q.kpi_ids:
            kpis = [k for k in kpis if k.kpi_id in q.kpi_ids]
        if q.years:
            kpis = [k for k in kpis if year_ok(k.deadline_fy, q.years)]
        filt = []
        if q.years:
            filt.append("期限: " + "、".join(f"{r.year}年度" + BOUND_TEXT.get(r.bound, "")
                                            for r in q.years))
        if not kpis:
            if q.years and not q.kpi_ids:
                return RecordResult("empty", "、".join(filt) + "のKPIは資料の一覧にありません（0件）。",
                                    rows=self.records.kpis[:1], numbers=["0"], filters=filt)
            return RecordResult("abstain", "", filters=filt)
        lines = [f"・{k.name}: {k.target_as_written}" + (f"（{k.deadline_as_written}）" if k.deadline_as_written
                                                         and k.deadline_as_written not in k.target_as_written else "")
                 for k in kpis]
        head = (f"{'、'.join(filt)}のKPIは{len(kpis)}件です。\n" if filt else "")
        return RecordResult("answer", head + "\n".join(lines), rows=list(kpis),
                            numbers=[str(len(kpis))] if filt else [], filters=filt)

    # -- events --------------------------------------------------------------------------------
    def _events(self, q: RecordQuery) -> RecordResult:
        kind = q.event_kind or "シンポジウム"
        events: list[Event] = [e for e in self.records.events if e.kind == kind]
        day = re.search(r"([0-9]+|一|二|三|初)日目?", q.text)
        if day and len(events) > 1:
            n = {"一": "1", "初": "1", "二": "2", "三": "3"}.get(day.group(1), day.group(1))
            events = [e for e in events if e.day.startswith(f"{n}日")] or events
        if q.years:
            events = [e for e in events if year_ok(_event_fy(e), q.years)]
        if not events:
            return RecordResult("abstain", "")
        attrs = q.attributes & {"participants", "place", "date", "program"} or {"date", "place", "participants"}
        lines = []
        for e in events:
            parts = [e.kind + (f"（{e.day}）" if e.day else "")]
            if "date" in attrs:
                parts.append(f"日時: {e.date_as_written}")
            if "place" in attrs:
                parts.append(f"場所: {e.place}" + (f"（{e.city}）" if e.city else ""))
            if "program" in attrs:
                parts.append(f"プログラム: {e.program}")
            if "participants" in attrs and e.participants is not None:
                parts.append(f"参加者: {e.participants}名（{e.participants_breakdown}）")
            lines.append(" / ".join(parts))
        numbers = []
        if "participants" in attrs and len(events) > 1 and q.intent == "total":
            total = sum(e.participants or 0 for e in events)
            lines.append(f"合計{total}名")
            numbers.append(str(total))
        return RecordResult("answer", "\n".join(lines), rows=list(events), numbers=numbers)


def _event_fy(e: Event) -> int | None:
    try:
        y, m = int(e.date[:4]), int(e.date[5:7])
    except ValueError:
        return None
    return y if m >= 4 else y - 1


def describe_program(p: Program) -> str:
    return f"{p.program_name}（{p.ministry} {p.bureau}）"
