"""Answers over the KPI table (kpis.csv)."""

from __future__ import annotations

from assistant.records.load import RecordSet
from assistant.records.query import RecordQuery
from assistant.records.result import BOUND_TEXT, RecordResult, year_ok
from assistant.records.schema import Kpi


class KpiAnswers:
    """Mixin of :class:`RecordsEngine` for ``kpis.csv``."""

    records: RecordSet

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
