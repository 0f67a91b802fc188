"""Support-period arithmetic: when a project's support ends, and how many projects' support has
ended, from the stated maximum period (program_facts.csv) and the selection and project tables.

Every figure is a cited row or a computation the answer shows:
「R1年度選定 + 最長5年 → R5年度末まで」「8事業 + 9事業 = 17事業」「選定12事業 − 一覧12事業 = 0事業」.
"""

from __future__ import annotations

import re

from assistant.normalize import western_to_era
from assistant.records.load import RecordSet
from assistant.records.query import RecordQuery
from assistant.records.result import RecordComputation, RecordResult, combined, count_of, year_label, year_ok
from assistant.records.schema import Program, ProgramFact, Project, RecordBase

#: The question asks until when support lasts (not whether it ends in R4).
UNTIL_WHEN = re.compile(r"いつまで|最長|何年(?!度)|期間|どこまで|until when|how long|last until|when\b.{0,60}\bend")
#: Support that already ended before the latest list (「途中で終わった」「もう終わった」).
ENDED_EARLY = re.compile(r"途中|すでに|既に|もう終わ|早期|ended early|already ended")
#: 「県でも応募できる？」: who may apply, asked for a kind of applicant.
CAN_APPLY = re.compile(r"(応募|申請|提案)(は|が|って)?(でき|可能|して(も)?(いい|よい|大丈夫))|can (a |an )?\w+ apply")
#: 「…まで含めると」: the count adds the projects ending now to those ended before.
INCLUDING = re.compile(r"含め|合わせ|合計|全部で|累計|in total|including")

#: What project lines and filters say of the (※) mark and of the end of support; an answer that
#: shows them cites the sentences stating them (:meth:`SupportAnswers._cite_notes`).
FLAG_NOTE = "国土交通省道路局の自動運転サービス導入支援事業の対象"
ENDS_NOTE = "H30年度選定のためR4年度末で支援終了"
ENDS_FILTER = "R4年度末で支援終了（H30年度選定）"
ENDS_NOTE_EN = "support ends at the end of FY2022"


def fiscal_end(fy: int) -> str:
    """R5年度末（2024年3月末）: the end of fiscal year ``fy``."""
    return f"{western_to_era(fy)}年度末（{fy + 1}年3月末）"


def _support_end(start: int, years: int, rows: list[RecordBase]) -> RecordComputation:
    """The last fiscal year of support: the selection year + the maximum period − 1."""
    end = start + years - 1
    return combined("add_years", [start, years], rows,
                    f"{western_to_era(start)}年度選定 + 支援期間 最長{years}年 → {western_to_era(end)}年度末まで")


class SupportAnswers:
    """Mixin of :class:`RecordsEngine` (uses ``records``, ``default_program``)."""

    records: RecordSet
    default_program: Program | None

    def _fact(self, fact_id: str) -> ProgramFact | None:
        pid = self.default_program.program_id if self.default_program else None
        return next((f for f in self.records.facts if f.fact_id == fact_id and f.program_id == pid), None)

    def _support(self, q: RecordQuery, rows: list[Project]) -> RecordResult | None:
        text = q.text.casefold()
        if CAN_APPLY.search(text):
            return self._who_may_apply(text)
        if not re.search(r"支援|support", text):
            return None
        if q.municipalities and rows and UNTIL_WHEN.search(text):
            return self._support_until(rows, q.lang)
        rule = self._fact("support-years-max")
        if rule and q.years and not q.municipalities and len(q.years) == 1 and q.years[0].bound == "eq" \
                and UNTIL_WHEN.search(text) and not q.support_ends:
            # 「R2採択の支援はいつまで？」: the year's selections, by the same rule.
            y = q.years[0].year
            end = y + int(rule.value) - 1
            listed = [p for p in self.records.projects if p.selection_fy == y]
            return RecordResult("answer", f"{year_label(y)}選定の事業の支援は、支援期間が最長{int(rule.value)}年のため、"
                                f"最長で{fiscal_end(end)}までです（一覧のうち{len(listed)}事業）。",
                                rows=[rule, *listed],
                                computed=[_support_end(y, int(rule.value), [rule]),
                                          count_of(listed, f"支援対象事業一覧で採択年度が{western_to_era(y)}の事業を数えた結果")])
        if rule and not (q.municipalities or q.years) and "期間" in text and UNTIL_WHEN.search(text):
            return RecordResult("answer", f"{rule.label}は{int(rule.value)}{rule.unit}です。", rows=[rule])
        if q.support_ends and INCLUDING.search(text) and q.intent in ("count", "total", None):
            return self._ended_including_now()
        if (q.support_ends or ENDED_EARLY.search(text)) and q.years and ENDED_EARLY.search(text):
            return self._ended_early(q)
        before = self._fact("ended-before-r4")
        if q.support_ends and before and len(q.years) == 1 and re.search(r"年度末まで|年度までに", text) \
                and q.years[0].year == max(p.selection_fy for p in self.records.projects) - 1:
            # 「R3年度末までに支援が終了した事業は？」: the stated figure, and the tables agree.
            total = self._fact("selected-total")
            listed = len(self.records.projects)
            calc = f"（選定合計{int(total.value)}事業 − R4年度の支援対象{listed}事業 = {int(total.value) - listed}事業）" \
                if total else ""
            size_rows, size = self._table_size()
            computed = [combined("difference", [int(total.value), listed], [total, *size_rows],
                                 f"選定合計{int(total.value)}事業 − R4年度の支援対象{listed}事業"), *size] if total else []
            return RecordResult("answer", f"{year_label(q.years[0].year)}末までに支援を終了した事業は"
                                f"{int(before.value)}事業です{calc}。",
                                rows=[before, *([total] if total else []), *size_rows], computed=computed)
        return None

    def _table_size(self) -> tuple[list[RecordBase], list[RecordComputation]]:
        """What shows how many projects the list has: the sentence stating the number supported
        when it agrees with the table, else the count of the table's rows."""
        fact = self._fact("supported-r4")
        if fact is not None and fact.value == len(self.records.projects):
            return [fact], []
        return [], [count_of(self.records.projects, "支援対象事業一覧の全事業を数えた結果")]

    def _cite_notes(self, result: RecordResult) -> None:
        """Cite what the notes of ``result``'s text rest on: the sentence saying what (※) means,
        and for the end of support the stated maximum period, the projects' rows of the list of
        projects whose support ends, and the year it ends (selection year + period − 1)."""
        text = result.text
        if FLAG_NOTE in text and (flag := self._fact("flag-meaning")) is not None and flag not in result.rows:
            result.rows.append(flag)
        if not any(note in text for note in (ENDS_NOTE, ENDS_FILTER, ENDS_NOTE_EN)):
            return
        rule = self._fact("support-years-max")
        ending = [p for p in result.rows if isinstance(p, Project) and p.support_ends_r4]
        if rule is None or rule.value is None or not ending:
            return
        nos = {p.no for p in ending}
        listed = [s for s in self.records.support_ended if s.project_no in nos]
        result.rows.extend(r for r in [*listed, rule] if r not in result.rows)
        result.computed.append(_support_end(min(p.selection_fy for p in ending), int(rule.value),
                                            [rule, *(listed or ending)]))

    def _table_note(self, q: RecordQuery) -> RecordResult | None:
        """Notes the document gives about the project table itself: as of when, what (※) means."""
        text = q.text
        if re.search(r"何時点|いつ時点|いつの時点|いつ現在|as of when", text) and re.search(r"一覧|表|事業|list|table", text):
            fact = self._fact("projects-as-of")
            if fact:
                return RecordResult("answer", f"支援対象事業一覧は「{fact.unit}」のものです。", rows=[fact])
        if q.mlit_flag is not None and re.search(r"意味|とは|何(の|を)?(印|マーク|記号)?(です)?か?[?？]?$|なに|what does|mean", text):
            fact = self._fact("flag-meaning")
            if fact:
                return RecordResult("answer", f"(※)は、{fact.unit}です。", rows=[fact])
        return None

    def _who_may_apply(self, text: str) -> RecordResult | None:
        """The stated applicants, and the listed projects whose applicant is of the asked kind."""
        fact = self._fact("applicants")
        if fact is None:
            return None
        prefecture = bool(re.search(r"都道府県|県|府|prefecture", text))
        joint = bool(re.search(r"共同|連名|複数|いくつか|jointly", text))
        if joint:
            rows = [p for p in self.records.projects if len(p.municipalities) + p.prefecture_is_applicant > 1]
            kind = "複数の団体による共同の申請"
        elif prefecture:
            rows = [p for p in self.records.projects if p.prefecture_is_applicant and not p.municipalities]
            kind = "都道府県が単独で申請した事業"
        else:
            rows = [p for p in self.records.projects if p.municipalities and not p.prefecture_is_applicant][:5]
            kind = "市町村の事業（一部）"
        text_out = (f"資料では、提案は{fact.unit}から募集されています。"
                    + (f"支援対象事業一覧には{kind}が{len(rows)}件あります: " + "、".join(p.entry for p in rows) + "。"
                       if rows else ""))
        return RecordResult("answer", text_out, rows=[fact, *rows],
                            computed=[count_of(rows, f"支援対象事業一覧で{kind}を数えた結果")])

    def _support_until(self, rows: list[Project], q_lang: str = "ja") -> RecordResult | None:
        rule = self._fact("support-years-max")
        if rule is None:
            return None
        years = int(rule.value)
        lines, computed = [], []
        for p in rows:
            end = p.selection_fy + years - 1
            computed.append(_support_end(p.selection_fy, years, [p, rule]))
            if q_lang == "en":
                lines.append(f"{p.entry} (No.{p.no}) was selected in FY{p.selection_fy}; support lasts at most "
                             f"{years} years, so until the end of FY{end} (March {end + 1}).")
            lines.append(f"{p.entry}（No.{p.no}）は{year_label(p.selection_fy)}の選定です。支援期間は最長{years}年の"
                         f"ため、支援は最長で{fiscal_end(end)}までです（{p.selection_year}〜{western_to_era(end)}の"
                         f"{years}年度）。")
        return RecordResult("answer", "\n".join(lines), rows=[*rows, rule], computed=computed)

    def _ended_including_now(self) -> RecordResult | None:
        before = self._fact("ended-before-r4")
        if before is None:
            return None
        now = [p for p in self.records.projects if p.support_ends_r4]
        total = int(before.value) + len(now)
        text = (f"R3年度末までに支援を終了した{int(before.value)}事業と、今年度（R4年度）末で支援満了となる"
                f"{len(now)}事業（H30年度選定）を合わせると、{int(before.value)} + {len(now)} = {total}事業です。\n"
                "今年度末で満了: " + "、".join(p.entry for p in now) + "。")
        computed = [count_of(now, "支援対象事業一覧でR4年度末に支援満了となる事業（H30年度選定）を数えた結果"),
                    combined("sum", [int(before.value), len(now)], [before, *now],
                             f"R3年度末までの{int(before.value)}事業 + R4年度末で満了の{len(now)}事業")]
        return RecordResult("answer", text, rows=[before, *now], computed=computed)

    def _ended_early(self, q: RecordQuery) -> RecordResult | None:
        """Selected in a year minus still listed (R4.12) = ended before the list, per year."""
        prog = self.default_program
        if prog is None:
            return None
        lines, rows, computed = [], [], []
        for s in self.records.selections:
            if s.program_id != prog.program_id or not year_ok(s.fiscal_year, q.years):
                continue
            listed = [p for p in self.records.projects if p.selection_fy == s.fiscal_year]
            ended = s.count - len(listed)
            rows += [s, *listed[:1]]
            computed.append(count_of(listed, f"支援対象事業一覧で採択年度が{s.fiscal_year_label}の事業を数えた結果"))
            computed.append(combined("difference", [s.count, len(listed)], [s, *listed],
                                     f"{s.fiscal_year_label}年度の選定{s.count}事業 − 一覧の{len(listed)}事業"))
            verdict = "途中で支援を終えた事業はありません" if ended <= 0 else f"{ended}事業が一覧の時点までに支援を終えています"
            lines.append(f"{s.fiscal_year_label}年度の選定は{s.count}事業で、支援対象事業一覧（R4.12時点）には"
                         f"{len(listed)}事業が載っています（{s.count} − {len(listed)} = {ended}）。{verdict}。")
        if not lines:
            return None
        return RecordResult("answer", "\n".join(lines), rows=rows, computed=computed)
