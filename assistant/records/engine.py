"""Execute a :class:`RecordQuery` over the records: exact counts, lists, lookups and totals.

Every result names the filter it applied and carries the rows that prove it (each row has an
exact quote of its source), so the answer can cite them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from assistant.normalize import western_to_era, western_to_era_full
from assistant.records.coverage import CoverageChecker
from assistant.records.load import RecordSet
from assistant.records.match import match_kpis, match_programs, unknown_ministries
from assistant.records.query import RecordQuery, YearRef, parse_question
from assistant.records.schema import Event, Kpi, Program, Project, RecordBase
from assistant.records.vocab import Vocabulary

#: Questions about the documents themselves (as of when, what a mark means), never about rows.
NOT_RECORDS = re.compile(r"何時点|いつ時点|いつの時点|どういう意味|とは何|意味は|の意味")
LIST_LIMIT = 12  # names spelled out in a count answer up to this many
_BOUND_TEXT = {"eq": "", "until": "まで", "since": "以降", "range": "から"}


@dataclass
class RecordResult:
    status: str  # answer | empty | abstain
    text: str
    rows: list[RecordBase] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)  # computed figures (counts, totals)
    filters: list[str] = field(default_factory=list)


def year_label(y: int) -> str:
    return f"{western_to_era(y)}（{western_to_era_full(y)}・{y}年度）"


def _year_ok(value: int | None, refs: list[YearRef]) -> bool:
    if not refs:
        return True
    if value is None:
        return False
    for r in refs:
        if (r.bound == "eq" and value == r.year) or (r.bound == "until" and value <= r.year) or (
            r.bound == "since" and value >= r.year
        ) or (r.bound == "range" and r.until is not None and r.year <= value <= r.until):
            return True
    return False


def _year_ref_label(r: YearRef) -> str:
    if r.bound == "range" and r.until is not None:
        return f"{year_label(r.year)}から{year_label(r.until)}まで"
    return year_label(r.year) + _BOUND_TEXT.get(r.bound, "")


def project_name(p: Project) -> str:
    return p.entry


class RecordsEngine:
    """Answers structured questions from a :class:`RecordSet`; returns None when not its job."""

    def __init__(self, records: RecordSet, tokenize: Callable[[str], list[str]] | None = None) -> None:
        self.records = records
        if tokenize is None:
            from assistant.tokenize import tokenize
        self.coverage = CoverageChecker(records, tokenize)
        from assistant.tokenize import content_terms

        self._kpi_tokens = content_terms
        names = sorted({m for p in records.projects for m in p.municipalities}
                       | {m for s in records.support_ended for m in s.municipalities})
        from assistant.tokenize import reading

        self.vocab = Vocabulary.build(names, [p.prefecture for p in records.projects], reading=reading)
        self.default_program = records.programs[0] if records.programs else None
        self.program_by_id = {p.program_id: p for p in records.programs}

    # -- parsing -------------------------------------------------------------------------------
    def parse(self, question: str) -> RecordQuery:
        return parse_question(
            question,
            self.vocab.find,
            lambda t: match_programs(t, self.records.programs),
            lambda t: match_kpis(t, self.records.kpis, self._kpi_tokens),
        )

    def unexplained(self, question: str, q: RecordQuery) -> list[str]:
        """Words of ``question`` the records cannot account for (then the documents answer)."""
        from assistant.normalize import normalize_text

        spans = [*q.surfaces, *q.municipalities, *q.prefectures, *q.unknown_places]
        if NOT_RECORDS.search(question):
            return [NOT_RECORDS.search(question).group(0)]
        extra = ("申請", "応募") if q.applicant else ()
        domain = q.domain
        if domain == "programs" and q.attributes & {"budget", "contact", "selections"}:
            domain = "programs+description"
        return self.coverage.unexplained(normalize_text(question), domain, spans, extra)

    # -- dispatch ------------------------------------------------------------------------------
    def run(self, q: RecordQuery) -> RecordResult | None:
        if q.unknown_places and not (q.municipalities or q.prefectures) and q.domain != "projects":
            # An attribute of a place the records do not know (札幌市の予算): not in the documents.
            return RecordResult("abstain", "", filters=["自治体: " + "、".join(q.unknown_places)])
        if q.domain == "events":
            return self._events(q)
        if q.domain == "kpis":
            return self._kpis(q)
        if (q.domain == "projects" and q.intent == "compare" and "selections" in q.attributes
                and len(q.years) <= 1 and not q.has_project_filters):
            q = replace(q, domain="programs")  # 「R4の選定数が最も多いのはどの事業？」: across programs
        if q.domain == "programs":
            if unknown_ministries(q.text, self.records.programs) and not q.programs:
                return RecordResult("abstain", "", filters=unknown_ministries(q.text, self.records.programs))
            return self._programs(q)
        if q.domain == "projects" and (q.intent or q.has_project_filters or q.years):
            return self._projects(q)
        return None

    # -- projects ------------------------------------------------------------------------------
    def _project_filters(self, q: RecordQuery) -> list[str]:
        f = []
        if q.years:
            f.append("採択年度: " + "、".join(_year_ref_label(r) for r in q.years))
        if q.prefectures:
            f.append("都道府県: " + "、".join(q.prefectures))
        if q.municipalities:
            f.append("自治体: " + "、".join(q.municipalities))
        if q.technologies:
            joiner = "または" if q.any_technology else "かつ"
            f.append("活用技術: " + joiner.join(q.technologies))
        if q.excluded_technologies:
            f.append("活用技術に含まない: " + "、".join(q.excluded_technologies))
        if q.mlit_flag:
            f.append("(※)国土交通省道路局の自動運転サービス導入支援事業の対象")
        if q.support_ends:
            f.append("R4年度末で支援終了（H30年度選定）")
        if q.applicant == "prefecture_only":
            f.append("都道府県が単独で申請")
        elif q.applicant == "joint":
            f.append("複数の団体による共同申請")
        return f

    def _filter_projects(self, q: RecordQuery) -> list[Project]:
        rows = []
        for p in self.records.projects:
            if not _year_ok(p.selection_fy, q.years):
                continue
            if q.prefectures and p.prefecture not in q.prefectures:
                continue
            if q.municipalities and not set(q.municipalities) & set(p.municipalities):
                continue
            techs = set(p.technologies)
            if q.technologies:
                hit = techs & set(q.technologies)
                if (q.any_technology and not hit) or (not q.any_technology and hit != set(q.technologies)):
                    continue
            if techs & set(q.excluded_technologies):
                continue
            if q.mlit_flag is not None and p.mlit_autonomous_support != q.mlit_flag:
                continue
            if q.applicant == "prefecture_only" and not (p.prefecture_is_applicant and not p.municipalities):
                continue
            if q.applicant == "joint" and not (p.prefecture_is_applicant and p.municipalities
                                               or len(p.municipalities) > 1):
                continue
            if q.support_ends is not None and p.support_ends_r4 != q.support_ends:
                continue
            rows.append(p)
        return rows

    def _years_in_range(self, q: RecordQuery, known: set[int]) -> bool:
        return all(r.bound != "eq" or r.year in known for r in q.years)

    def _projects(self, q: RecordQuery) -> RecordResult:
        known_years = {p.selection_fy for p in self.records.projects}
        # "R4年度に支援中": the table lists the projects supported in its own (latest) year.
        supported = [r for r in q.years if r.supported]
        if supported:
            if any(r.year != max(known_years) for r in supported):
                return RecordResult("abstain", "", filters=["支援年度: " + "、".join(year_label(r.year) for r in supported)])
            q = replace(q, years=[r for r in q.years if not r.supported])
        filters = self._project_filters(q)
        lookup = q.intent == "lookup" or (q.intent is None and bool(q.attributes & {"year", "technologies"}))
        if not self._years_in_range(q, known_years | {s.fiscal_year for s in self.records.selections}):
            return RecordResult("abstain", "", filters=filters)
        if q.unknown_places and not q.municipalities:  # 札幌市 / 北海道札幌市: not in the table
            place = "、".join(q.unknown_places)
            if not lookup and (q.intent in ("count", "list", "total") or "事業" in q.text):
                return RecordResult("empty", f"{place}の事業は支援対象事業一覧（"
                                    f"{len(self.records.projects)}事業）にありません（0件）。",
                                    rows=self.records.projects[:1], numbers=["0", str(len(self.records.projects))],
                                    filters=[f"自治体: {place}"])
            return RecordResult("abstain", "", filters=[f"自治体: {place}"])
        if lookup and q.municipalities and q.mlit_flag is not None:
            q = replace(q, mlit_flag=None)  # 「いなべ市は(※)の対象？」: describe the row, flag or not
        rows = self._filter_projects(q)
        cond = "、".join(filters) if filters else "条件なし（全事業）"
        if not rows and lookup:  # an attribute of something the table does not hold
            return RecordResult("abstain", "", filters=filters)
        if not rows:
            what = "、".join(q.prefectures + q.municipalities) or "条件"
            # Cite the table that was searched (its first row) so the "none" answer is verifiable.
            return RecordResult("empty", f"{what}に該当する事業は支援対象事業一覧にありません（0件）。"
                                f"（条件: {cond}）", rows=self.records.projects[:1], numbers=["0"],
                                filters=filters)
        if lookup or (q.municipalities and q.intent is None) or (
                q.intent == "list" and q.attributes & {"year", "technologies"} and len(rows) <= LIST_LIMIT):
            lines = [self._describe_project(p, q) for p in rows]
            if not (lookup and q.municipalities):  # a filtered list: say how many first
                lines.insert(0, f"支援対象事業一覧で、{cond}に該当する事業は{len(rows)}件です。")
            return RecordResult("answer", "\n".join(lines), rows=list(rows), numbers=[str(len(rows))],
                                filters=filters)
        if q.intent == "compare" and (len(q.years) > 1 or len(q.prefectures) > 1 or len(q.technologies) > 1):
            return self._compare_projects(q, filters)
        if q.intent == "compare" and "superlative" in q.attributes:
            return self._project_superlative(q, rows, filters)
        n = len(rows)
        head = f"支援対象事業一覧で、{cond}に該当する事業は{n}件です。"
        extra, sel_rows = self._selection_note(q)
        names = "、".join(f"{project_name(p)}（{p.selection_year}）" for p in rows)
        if q.intent == "count" and n > LIST_LIMIT:
            text = head + extra
        else:
            text = head + extra + f"\n該当: {names}"
        return RecordResult("answer", text, rows=[*sel_rows, *rows], numbers=[str(n)], filters=filters)

    def _compare_projects(self, q: RecordQuery, filters: list[str]) -> RecordResult:
        """Counts side by side for the dimension named more than once (years, prefectures, technologies)."""
        groups: list[tuple[str, RecordQuery]] = []
        if len(q.years) > 1:
            groups = [(year_label(r.year), replace(q, years=[r])) for r in q.years]
        elif len(q.prefectures) > 1:
            groups = [(p, replace(q, prefectures=[p])) for p in q.prefectures]
        elif len(q.technologies) > 1:
            groups = [(t, replace(q, technologies=[t], any_technology=False)) for t in q.technologies]
        counts = [(label, self._filter_projects(sub)) for label, sub in groups]
        lines = [f"{label}: {len(rows)}件" for label, rows in counts]
        best = max(len(rows) for _, rows in counts)
        top = [label for label, rows in counts if len(rows) == best]
        verdict = "同数です" if len(top) == len(counts) else f"{'、'.join(top)}が最も多い（{best}件）です"
        text = "支援対象事業一覧での件数: " + "、".join(lines) + f"。{verdict}。"
        extra, sel_rows = self._selection_note(q)
        rows = [r for _, rs in counts for r in rs]
        return RecordResult("answer", text + extra, rows=[*sel_rows, *rows],
                            numbers=[str(len(rs)) for _, rs in counts], filters=filters)

    def _project_superlative(self, q: RecordQuery, rows: list[Project], filters: list[str]) -> RecordResult:
        """「事業が最も多い都道府県は？」: group the filtered rows and name the largest group."""
        t = q.text.casefold()
        if re.search(r"年度|year", t):
            key, what = (lambda p: [year_label(p.selection_fy)]), "採択年度"
        elif re.search(r"技術|technolog", t):
            key, what = (lambda p: p.technologies), "活用技術"
        else:
            key, what = (lambda p: [p.prefecture]), "都道府県"
        groups: dict[str, list[Project]] = {}
        for p in rows:
            for k in key(p):
                groups.setdefault(k, []).append(p)
        fewest = re.search(r"少な|fewest|least", t)
        target = (min if fewest else max)(len(v) for v in groups.values())
        top = [k for k, v in groups.items() if len(v) == target]
        word = "最も少ない" if fewest else "最も多い"
        ranking = "、".join(f"{k}: {len(v)}件" for k, v in sorted(groups.items(), key=lambda kv: -len(kv[1]))[:5])
        text = (f"支援対象事業一覧で、事業数が{word}{what}は{'、'.join(top)}（{target}件）です。"
                f"（上位: {ranking}）")
        cited = [p for k in top for p in groups[k]]
        return RecordResult("answer", text, rows=cited, numbers=[str(target), *(str(len(v)) for v in groups.values())],
                            filters=filters)

    def _selection_note(self, q: RecordQuery) -> tuple[str, list[RecordBase]]:
        """For "selected in year X" counts, also give the program's selection count of that year."""
        if not (q.years and "selections" in q.attributes and not (q.prefectures or q.municipalities
                                                                  or q.technologies or q.mlit_flag)):
            return "", []
        prog = self.default_program
        if prog is None:
            return "", []
        sels = [s for s in self.records.selections
                if s.program_id == prog.program_id and _year_ok(s.fiscal_year, q.years)]
        if not sels:
            return "", []
        parts = [f"{s.fiscal_year_label}年度の選定数は{s.count}事業" for s in sels]
        return ("（" + prog.program_name + "の過去の選定数では、" + "、".join(parts)
                + "。選定後に支援を終えた事業は一覧に含まれません）"), sels[:1]

    def _describe_project(self, p: Project, q: RecordQuery) -> str:
        flag = "。国土交通省道路局の自動運転サービス導入支援事業の対象(※)" if p.mlit_autonomous_support else (
            "。(※)国土交通省道路局の自動運転サービス導入支援事業の対象ではありません" if "flag" in q.attributes else "")
        end = "。H30年度選定のためR4年度末で支援終了" if p.support_ends_r4 else ""
        return (f"{p.entry}（No.{p.no}）: 採択年度 {year_label(p.selection_fy)}、"
                f"主な活用技術 {p.technologies_as_written}{flag}{end}。")

    # -- programs ------------------------------------------------------------------------------
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
            if q.years and not any(s.program_id in {p.program_id for p in progs} and _year_ok(s.fiscal_year, q.years)
                                   for s in self.records.selections):
                return RecordResult("abstain", "", filters=["年度: " + "、".join(year_label(r.year) for r in q.years)])
            for p in progs:
                sels = [s for s in self.records.selections
                        if s.program_id == p.program_id and _year_ok(s.fiscal_year, q.years)]
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
                                              if s.program_id == p.program_id and _year_ok(s.fiscal_year, q.years))
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
            kpis = [k for k in kpis if _year_ok(k.deadline_fy, q.years)]
        filt = []
        if q.years:
            filt.append("期限: " + "、".join(f"{r.year}年度" + _BOUND_TEXT.get(r.bound, "")
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
            events = [e for e in events if _year_ok(_event_fy(e), q.years)]
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


def has_year_question(text: str) -> bool:
    return bool(re.search(r"何年度|どの年度|いつ|年度は|年度\?|which year|what year", text, re.IGNORECASE))


def _event_fy(e: Event) -> int | None:
    try:
        y, m = int(e.date[:4]), int(e.date[5:7])
    except ValueError:
        return None
    return y if m >= 4 else y - 1


def describe_program(p: Program) -> str:
    return f"{p.program_name}（{p.ministry} {p.bureau}）"
