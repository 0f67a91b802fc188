"""Answers over the project table: filters, counts, lists, lookups, comparisons, superlatives."""

from __future__ import annotations

import re
from dataclasses import replace

from assistant.records.load import RecordSet
from assistant.records.query import RecordQuery
from assistant.records.result import RecordResult, count_of, year_label, year_ok, year_ref_label
from assistant.records.schema import Program, Project, RecordBase
from assistant.records.support_answer import ENDS_FILTER, ENDS_NOTE, FLAG_NOTE

LIST_LIMIT = 12  # names spelled out in a count answer up to this many


def project_name(p: Project) -> str:
    return p.entry


class ProjectAnswers:
    """Mixin of :class:`RecordsEngine` for ``projects.csv`` (uses ``records``, ``default_program``)."""

    records: RecordSet
    default_program: Program | None

    def _project_filters(self, q: RecordQuery) -> list[str]:
        f = []
        if q.years:
            f.append("採択年度: " + "、".join(year_ref_label(r) for r in q.years))
        if q.regions:
            f.append("地域: " + "、".join(label for label, _ in q.regions))
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
            f.append("(※)" + FLAG_NOTE)
        if q.support_ends:
            f.append(ENDS_FILTER)
        if q.municipality_kind:
            f.append(f"{q.municipality_kind}の事業")
        if q.numbers:
            f.append("No." + "、".join(str(n) for n in q.numbers))
        if q.excluded_municipalities:
            f.append("除く: " + "、".join(q.excluded_municipalities))
        if q.applicant == "prefecture_only":
            f.append("都道府県が単独で申請")
        elif q.applicant == "joint":
            f.append("複数の団体による共同申請")
        return f

    def _filter_projects(self, q: RecordQuery) -> list[Project]:
        rows = []
        for p in self.records.projects:
            if not year_ok(p.selection_fy, q.years):
                continue
            if q.prefectures and p.prefecture not in q.prefectures:
                continue
            if q.regions and not any(p.prefecture in prefs for _, prefs in q.regions):
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
            if q.numbers and p.no not in q.numbers:
                continue
            if q.excluded_municipalities and set(p.municipalities) & set(q.excluded_municipalities):
                continue
            if q.municipality_kind in ("県", "都", "府"):  # 「県の事業」: a prefecture applied (alone or jointly)
                if not p.prefecture_is_applicant:
                    continue
            elif q.municipality_kind and not (p.municipalities and all(m.endswith(q.municipality_kind)
                                                                      for m in p.municipalities)):
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

    def _year_bounds(self) -> list[RecordBase]:
        """The rows of the earliest and the latest selection year of the project table."""
        rows = sorted(self.records.projects, key=lambda p: p.selection_fy)
        return ([rows[0]] if rows[0] is rows[-1] else [rows[0], rows[-1]]) if rows else []

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
        # A lookup describes named projects; 「ロボットの事業に(※)はある？」 is a filter, not a lookup.
        lookup = q.intent == "lookup" or (q.intent is None and bool(q.attributes & {"year", "technologies"})
                                          and bool(q.municipalities or q.unknown_places
                                                   or (q.prefectures and not q.technologies))) or bool(q.numbers)
        if not self._years_in_range(q, known_years | {s.fiscal_year for s in self.records.selections}):
            asked = "、".join(year_label(r.year) for r in q.years)
            have = sorted(known_years)
            return RecordResult("abstain", f"{asked}に採択された事業は資料の一覧にありません（一覧の採択年度は"
                                f"{year_label(have[0])}〜{year_label(have[-1])}）。", rows=self._year_bounds(),
                                filters=filters)
        if q.unknown_places and not q.municipalities:  # 札幌市 / 北海道札幌市: not in the table
            place = "、".join(q.unknown_places)
            text = f"{place}の事業は支援対象事業一覧（{len(self.records.projects)}事業）にありません（0件）。"
            size_rows, size = self._table_size()  # type: ignore[attr-defined]
            rows_ = [*self.records.projects[:1], *size_rows]
            computed = [count_of([], f"支援対象事業一覧で、自治体が{place}の事業を数えた結果"), *size]
            if not lookup and q.intent in ("count", "list", "total"):
                return RecordResult("empty", text, rows=rows_, computed=computed, filters=[f"自治体: {place}"])
            # 「札幌市の事業はR1採択でしたか？」: nothing about it in the documents — say so, and why.
            if "事業" not in q.text:
                return RecordResult("abstain", "", rows=self.records.projects[:1], filters=[f"自治体: {place}"])
            return RecordResult("abstain", text, rows=rows_, computed=computed, filters=[f"自治体: {place}"])
        if lookup and q.municipalities and q.mlit_flag is not None and not q.set_all:
            q = replace(q, mlit_flag=None)  # 「いなべ市は(※)の対象？」: describe the row, flag or not
        rows = self._filter_projects(q)
        cond = "、".join(filters) if filters else "条件なし（全事業）"
        support = self._support(q, rows)  # type: ignore[attr-defined]
        if support is not None:
            return support
        if not rows and q.municipalities:
            # A false premise about a listed project (「豊橋市ってR2採択？」): say so and state the row.
            base = self._filter_projects(RecordQuery(text=q.text, municipalities=list(q.municipalities)))
            if base:
                lines = [self._describe_project(p, q) for p in base]
                lead = "No — the list does not match that. " if q.lang == "en" else ""
                return RecordResult("answer", f"{lead}いいえ、ご質問の条件（{cond}）には当たりません。\n" + "\n".join(lines),
                                    rows=base, filters=filters)
        if not rows and lookup:  # an attribute of something the table does not hold
            return RecordResult("abstain", "", filters=filters)
        if not rows:
            what = "、".join(q.prefectures + q.municipalities) or "条件"
            # Cite the table that was searched (its first row) so the "none" answer is verifiable.
            return RecordResult("empty", f"{what}に該当する事業は支援対象事業一覧にありません（0件）。"
                                f"（条件: {cond}）", rows=self.records.projects[:1],
                                computed=[count_of([], f"支援対象事業一覧で、{cond}に該当する事業を数えた結果")],
                                filters=filters)
        special = self._algebra(q, rows, cond)  # type: ignore[attr-defined]
        if special is not None:
            return special
        if lookup or (q.municipalities and q.intent is None) or (
                q.intent == "list" and q.attributes & {"year", "technologies"} and len(rows) <= LIST_LIMIT):
            lines = [self._describe_project(p, q) for p in rows]
            if not (lookup and q.municipalities):  # a filtered list: say how many first
                lines.insert(0, f"支援対象事業一覧で、{cond}に該当する事業は{len(rows)}件です。")
                if q.lang == "en":
                    lines.insert(0, f"{len(rows)} project{'s' if len(rows) != 1 else ''} match ({cond}):")
            return RecordResult("answer", "\n".join(lines), rows=list(rows),
                                computed=[count_of(rows, f"支援対象事業一覧で、{cond}に該当する事業を数えた結果")],
                                filters=filters)
        if q.intent == "compare" and (len(q.years) > 1 or len(q.prefectures) > 1 or len(q.technologies) > 1
                                      or len(q.regions) > 1):
            return self._compare_projects(q, filters)
        if q.intent == "compare" and "superlative" in q.attributes:
            return self._project_superlative(q, rows, filters)
        n = len(rows)
        head = f"支援対象事業一覧で、{cond}に該当する事業は{n}件です。"
        if q.lang == "en":
            head = f"{n} project{'s' if n != 1 else ''} in the list of supported projects match ({cond}). " + head
        extra, sel_rows = self._selection_note(q)
        names = "、".join(f"{project_name(p)}（{p.selection_year}）" for p in rows)
        if q.intent == "count" and n > LIST_LIMIT:
            text = head + extra
        else:
            text = head + extra + f"\n該当: {names}"
        count = count_of(rows, f"支援対象事業一覧で、{cond}に該当する事業を数えた結果")
        return RecordResult("answer", text, rows=[*sel_rows, *rows], computed=[count], filters=filters)

    def _compare_projects(self, q: RecordQuery, filters: list[str]) -> RecordResult:
        """Counts side by side for the dimension named more than once (years, prefectures, technologies)."""
        groups: list[tuple[str, RecordQuery]] = []
        if len(q.years) > 1:
            groups = [(year_label(r.year), replace(q, years=[r])) for r in q.years]
        elif len(q.regions) > 1:
            groups = [(label, replace(q, regions=[(label, prefs)])) for label, prefs in q.regions]
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
        computed = [count_of(rs, f"支援対象事業一覧で、{'、'.join(self._project_filters(sub))}に該当する事業を数えた結果")
                    for (_, sub), (_, rs) in zip(groups, counts, strict=True)]
        return RecordResult("answer", text + extra, rows=[*sel_rows, *rows], computed=computed, filters=filters)

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
        cond = "、".join(filters) or "全事業"
        computed = [count_of(v, f"支援対象事業一覧で、{cond}のうち{what}が{k}の事業を数えた結果") for k, v in groups.items()]
        return RecordResult("answer", text, rows=cited, computed=computed, filters=filters)

    def _selection_note(self, q: RecordQuery) -> tuple[str, list[RecordBase]]:
        """For "selected in year X" counts, also give the program's selection count of that year."""
        if not (q.years and "selections" in q.attributes and not (q.prefectures or q.municipalities
                                                                  or q.technologies or q.mlit_flag)):
            return "", []
        prog = self.default_program
        if prog is None:
            return "", []
        sels = [s for s in self.records.selections
                if s.program_id == prog.program_id and year_ok(s.fiscal_year, q.years)]
        if not sels:
            return "", []
        parts = [f"{s.fiscal_year_label}年度の選定数は{s.count}事業" for s in sels]
        return ("（" + prog.program_name + "の過去の選定数では、" + "、".join(parts)
                + "。選定後に支援を終えた事業は一覧に含まれません）"), sels[:1]

    def _describe_project(self, p: Project, q: RecordQuery) -> str:
        flag = f"。{FLAG_NOTE}(※)" if p.mlit_autonomous_support else (
            f"。(※){FLAG_NOTE}ではありません" if "flag" in q.attributes else "")
        end = f"。{ENDS_NOTE}" if p.support_ends_r4 else ""
        text = (f"{p.entry}（No.{p.no}）: 採択年度 {year_label(p.selection_fy)}、"
                f"主な活用技術 {p.technologies_as_written}{flag}{end}。")
        asked = q.attributes & {"year", "technologies", "flag"}
        if asked == {"year"}:  # one field asked: that field first, the row after it
            text = f"{p.entry}（No.{p.no}）の採択年度は{year_label(p.selection_fy)}です（主な活用技術 {p.technologies_as_written}{flag}{end}）。"
        elif asked == {"technologies"}:
            text = f"{p.entry}（No.{p.no}）の主な活用技術は{p.technologies_as_written}です（採択年度 {year_label(p.selection_fy)}{flag}{end}）。"
        if q.lang == "en":  # an English lead; the Japanese line keeps the table's own words
            en_flag = ("; marked (※): covered by MLIT Road Bureau's autonomous-driving support" if
                       p.mlit_autonomous_support else "; not marked (※)" if "flag" in q.attributes else "")
            en_end = "; support ends at the end of FY2022 (selected in FY2018)" if p.support_ends_r4 else ""
            text = (f"{p.entry} (No.{p.no}): selected in FY{p.selection_fy} ({p.selection_year}); technologies: "
                    f"{p.technologies_as_written}{en_flag}{en_end}.\n" + text)
        return text

    # -- programs ------------------------------------------------------------------------------
