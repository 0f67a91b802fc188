"""Execute a :class:`RecordQuery` over the records: exact counts, lists, lookups and totals.

Every result names the filter it applied and carries the rows that prove it (each row has an
exact quote of its source), so the answer can cite them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from assistant.config import REPO_ROOT
from assistant.records.algebra import ProjectAlgebra
from assistant.records.cells import SourceCells, shown_cells
from assistant.records.coverage import CoverageChecker
from assistant.records.events_answer import EventAnswers
from assistant.records.kpis_answer import KpiAnswers
from assistant.records.load import RecordSet
from assistant.records.match import kpi_name_tokens, match_kpis, match_programs, unknown_ministries
from assistant.records.programs_algebra import CONFIRM, ProgramAlgebra
from assistant.records.projects_answer import ProjectAnswers
from assistant.records.query import NUMBER_REF, RecordQuery, parse_question
from assistant.records.result import RecordResult
from assistant.records.schema import Program, RecordBase
from assistant.records.support_answer import CAN_APPLY, ENDED_EARLY, INCLUDING, UNTIL_WHEN, SupportAnswers
from assistant.records.tables_answer import TableAnswers
from assistant.records.vocab import Vocabulary
from assistant.sources import SourceStore
from assistant.tokenize import content_terms, morphemes, reading
from assistant.tokenize import tokenize as default_tokenize
from assistant.understand.lexicon import Lexicon, sudachi_place_names

#: Questions about the documents themselves (as of when, what a mark means), never about rows.
NOT_RECORDS = re.compile(r"(?<![一-龥])(本|当)事業|何時点|いつ時点|いつの時点|どういう意味|とは何|意味は|の意味")


#: The question asks what a technology is used for: the project table does not say.
PURPOSE = re.compile(r"何に使|何のため|用途|使い道|具体的に何|どう使|どのように使|what for|used for")


def operator_spans(text: str, cues: list[str]) -> list[str]:
    """Operator cues of ``text`` that start a word (「一番古く」 → 一番古く), never a piece of another
    word (合わせ in 組み合わせ, 計 in 計画): a cue must begin at a morpheme boundary and cover its
    first morpheme; the span then runs to the end of the morpheme where the cue ends."""
    low = text.casefold()
    hits = [c for c in cues if c in low]
    if not hits:
        return []
    bounds, pos = [], 0
    for surface, _, _ in morphemes(text):
        start = low.find(surface.casefold(), pos)
        if start < 0:
            continue
        bounds.append((start, start + len(surface)))
        pos = start + len(surface)
    starts = {s: e for s, e in bounds}
    out = []
    for c in hits:
        for m in re.finditer(re.escape(c), low):
            s, e = m.span()
            if s not in starts or starts[s] > e:
                continue
            end = next((be for bs, be in bounds if bs < e <= be), e)
            out.append(text[s:end])
    return out


class RecordsEngine(SupportAnswers, ProjectAlgebra, ProgramAlgebra, ProjectAnswers, TableAnswers, KpiAnswers, EventAnswers):
    """Answers structured questions from a :class:`RecordSet`; returns None when not its job."""

    def __init__(self, records: RecordSet, tokenize: Callable[[str], list[str]] | None = None,
                 source_text: Callable[[str], str] | None = None) -> None:
        self.records = records
        self.cells = SourceCells(source_text or SourceStore(REPO_ROOT).text)
        self.coverage = CoverageChecker(records, tokenize or default_tokenize, morphemes)
        self._kpi_names = kpi_name_tokens(records.kpis, content_terms)
        names = sorted({m for p in records.projects for m in p.municipalities}
                       | {m for s in records.support_ended for m in s.municipalities})
        self.vocab = Vocabulary.build(names, [p.prefecture for p in records.projects])
        munis = sorted({(p.prefecture, m) for p in records.projects for m in p.municipalities}
                       | {(s.prefecture, m) for s in records.support_ended for m in s.municipalities})
        self.lexicon = Lexicon(self.vocab, munis, reading, sudachi_place_names)
        self.default_program = records.programs[0] if records.programs else None
        self.program_by_id = {p.program_id: p for p in records.programs}

    # -- parsing -------------------------------------------------------------------------------
    def parse(self, question: str) -> RecordQuery:
        return parse_question(
            question,
            self.lexicon.find,
            lambda t: match_programs(t, self.records.programs),
            lambda t: match_kpis(t, self._kpi_names, content_terms),
            self._region,
        )

    def _years_only_in_selections(self, q: RecordQuery) -> bool:
        """「H29に選定があるのは？」: a year the project table lacks but the programs' selections have."""
        listed = {p.selection_fy for p in self.records.projects}
        selected = {s.fiscal_year for s in self.records.selections}
        eq = [r.year for r in q.years if r.bound == "eq"]
        return bool(eq) and all(y not in listed and y in selected for y in eq)

    def _region(self, name: str) -> tuple[str, tuple[str, ...]]:
        r = self.lexicon.region_by_name[name]
        return r.label, r.prefectures

    def unexplained(self, question: str, q: RecordQuery) -> list[str]:
        """Words of ``question`` the records cannot account for (then the documents answer)."""
        from assistant.normalize import normalize_text

        spans = [*q.surfaces, *q.municipalities, *q.prefectures, *q.unknown_places]
        if q.regions:  # 「中国地方」「地方ブロック別」: the region words are the filter itself
            extra_region = ("地方", "ブロック", "地域", "エリア", "region", "regions")
        else:
            extra_region = ()
        if self._table_note(q) is not None:  # 「一覧は何時点？」: a note of the table itself
            return []
        if NOT_RECORDS.search(question):
            return [NOT_RECORDS.search(question).group(0)]
        extra = (("申請", "応募") if q.applicant else ()) + extra_region
        domain = q.domain
        if domain == "programs" and (q.attributes & {"budget", "contact", "selections"} or CONFIRM.search(q.text)):
            domain = "programs+description"
        from assistant.understand.operators import operator_cues

        text = normalize_text(question)
        spans += operator_spans(text, [c for cues in operator_cues().values() for c in cues if not c.isascii()])
        spans += re.findall(r"[0-9一二三四五]+番目", text)
        spans += [m.group(0) for m in NUMBER_REF.finditer(text)]
        for pattern in (UNTIL_WHEN, ENDED_EARLY, INCLUDING, CAN_APPLY):  # support-period words (support_answer)
            spans += operator_spans(text, [m.group(0) for m in pattern.finditer(text)])
        if q.applicant:  # 「共同提案の実例」: the applicant filter is the question
            extra += ("提案", "実例", "例", "事例", "あり")
        if q.mlit_flag is not None:  # 「※マーク」「(※)印」: the mark is the flag itself
            extra += ("マーク", "印", "記号", "付き", "mark", "marked")
        return self.coverage.unexplained(text, domain, spans, extra)

    # -- dispatch ------------------------------------------------------------------------------
    def run(self, q: RecordQuery) -> RecordResult | None:
        """The result of ``q``, citing every shown value: its row, or the cell or sentence holding it."""
        result = self._dispatch(q)
        if result is not None and result.text:
            result.rows = list(result.rows)  # its own list: the notes' rows are added to it
            self._cite_notes(result)
            result.rows = shown_cells(self.cells, result.rows, result.text, self._program_of)
        return result

    def _program_of(self, row: RecordBase) -> list[Program]:
        """The program a row counts or states something about (a selection count, a fact)."""
        program = self.program_by_id.get(getattr(row, "program_id", ""))
        return [program] if program is not None and program is not row else []

    def _dispatch(self, q: RecordQuery) -> RecordResult | None:
        if q.unknown_places and not (q.municipalities or q.prefectures) and q.domain != "projects":
            # An attribute of a place the records do not know (札幌市の予算): not in the documents.
            return RecordResult("abstain", "", filters=["自治体: " + "、".join(q.unknown_places)])
        if q.municipalities and not q.programs and q.attributes & {"budget", "contact"} \
                and q.domain in ("projects", "programs"):
            # 「塩尻市の事業の経費は？」「そこの連絡先は？」: the documents give these per program, not per project.
            what = "予算" if "budget" in q.attributes else "問合せ先"
            return RecordResult("abstain", f"{'、'.join(q.municipalities)}の事業の{what}は資料にありません"
                                f"（資料にあるのは各府省の事業ごとの{what}です）。", rows=self.records.programs[:1],
                                filters=[f"自治体: {'、'.join(q.municipalities)}"])
        if q.domain == "events":
            return self._events(q)
        if q.domain == "kpis":
            return self._kpis(q)
        if (q.domain == "projects" and q.intent == "compare" and "selections" in q.attributes
                and len(q.years) <= 1 and not q.has_project_filters):
            q = replace(q, domain="programs")  # 「R4の選定数が最も多いのはどの事業？」: across programs
        if q.domain == "projects" and not q.has_project_filters and (
                ("selections" in q.attributes and (q.op_sum or q.op_diff or q.order or q.ordinal or q.programs
                                                   or self._all_programs_named(q.text)))
                or (q.programs and (q.order or q.ordinal)) or self._all_programs_named(q.text)
                or self._years_only_in_selections(q)):
            q = replace(q, domain="programs")  # 「各府省の5事業のR2選定数を足すと」: the programs table
        note = self._table_note(q)  # 「一覧は何時点？」「(※)ってどういう意味？」
        if note is not None:
            return note
        if CAN_APPLY.search(q.text.casefold()):  # 「県でも応募できる？」: who may apply, whatever the table
            special = self._support(q, [])
            if special is not None:
                return special
        if q.domain == "programs":
            special = self._support(q, []) or self._program_ops(q)
            if special is not None:
                return special
            if unknown_ministries(q.text, self.records.programs) and not q.programs:
                return RecordResult("abstain", "", filters=unknown_ministries(q.text, self.records.programs))
            return self._programs(q)
        if q.domain == "projects" and q.municipalities and PURPOSE.search(q.text):
            # 「宇部市のVR/ARは何に使ってる？」: the table lists technologies, not what they are used for.
            rows = [p for p in self.records.projects if set(p.municipalities) & set(q.municipalities)]
            if rows:
                listed = "、".join(f"{p.entry}の主な活用技術（{p.technologies_as_written}）" for p in rows)
                return RecordResult("abstain", f"支援対象事業一覧には{listed}が載っていますが、具体的な使い道や"
                                    "取組の内容は書かれていません。", rows=rows)
        if q.domain == "projects" and (q.intent or q.has_project_filters or q.years or q.group or q.order):
            return self._projects(q)
        return None

    # -- projects ------------------------------------------------------------------------------
