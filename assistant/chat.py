"""Multi-turn: resolve a follow-up question against earlier user turns.

Slots (fiscal years, program, prefecture, municipality, technology, table, intent) carry over
from the conversation when the new turn is elliptical (「そのうち自動運転は？」「経済産業省の方は？」
「その自治体の技術は？」); a slot the new turn states replaces the carried one.
"""

from __future__ import annotations

import re
from dataclasses import replace

from assistant.records.engine import RecordsEngine
from assistant.records.query import RecordQuery
from assistant.records.schema import Project

_SLOTS = ("years", "prefectures", "municipalities", "technologies", "excluded_technologies",
          "programs", "kpi_ids")
_REFERS_TO_ENTITY = ("その自治体", "その事業", "そこ", "that municipality", "that project", "its ", "それら")


def names_nothing(q: RecordQuery) -> bool:
    """No entity of its own: no place, region, technology, program, year, KPI or event."""
    return not (q.municipalities or q.prefectures or q.regions or q.technologies or q.programs or q.years
                or q.kpi_ids or q.event_kind or q.unknown_places or q.numbers)


def is_followup(q: RecordQuery) -> bool:
    """Elliptical turns: 「そのうち…」, 「逆に…」, 「2番目は？」, or a short turn that names nothing."""
    return (q.followup or (q.domain is None and q.intent is None) or len(q.text) <= 12 or q.reverse
            or (names_nothing(q) and (q.ordinal is not None or len(q.text) <= 20)))


def merge(current: RecordQuery, ctx: RecordQuery) -> RecordQuery:
    """Fill the slots the current turn leaves empty from the context turn."""
    q = replace(current, attributes=set(current.attributes))
    # A named project or a table row number is a new subject: the earlier turn's set filters
    # (年度, 技術, 地域…) do not apply to it (「令和4年度の事業は？」 then 「小松市の事業の技術は？」).
    new_subject = bool(current.municipalities or current.numbers)
    narrowing = bool(re.search(r"そのうち|その中|このうち|この中|うち|among them|of those", current.text))
    for name in _SLOTS:
        if new_subject and name in ("years", "technologies", "excluded_technologies", "prefectures"):
            continue
        if name == "technologies" and narrowing and current.technologies and ctx.technologies:
            # 「ドローンの事業は？」→「その中でAIも使ってるのは？」: both, not the new one alone.
            q.technologies = list(dict.fromkeys([*ctx.technologies, *current.technologies]))
            q.carried.add(name)
            continue
        # A slot the new turn asks for is not carried (「…R2は何件？」 then 「最も多いのはどの年度？」).
        if name == "years" and "year" in current.attributes:
            continue
        # 「…地方は？」 grouped by region: the earlier region or prefecture is not carried (nor years, techs).
        if (current.group, name) in {("region", "prefectures"), ("prefecture", "prefectures"), ("year", "years"),
                                     ("technology", "technologies")}:
            continue
        if not getattr(q, name) and getattr(ctx, name):
            setattr(q, name, list(getattr(ctx, name)))
            q.carried.add(name)
    # A new organisation or place replaces the old one of the same kind, not both.
    if current.programs:
        q.programs = list(current.programs)
    for flag in ("mlit_flag", "support_ends", "event_kind", "order", "group", "municipality_kind"):
        if new_subject and flag in ("mlit_flag", "support_ends", "municipality_kind", "order", "group"):
            continue
        if getattr(q, flag) is None:
            setattr(q, flag, getattr(ctx, flag))
    q.regions = current.regions or ([] if current.group in ("region", "prefecture") else list(ctx.regions))
    if current.other and ctx.municipalities and not current.municipalities:
        # 「同じ鹿児島のもう1つは？」: the others, not the one named before.
        q.municipalities = []
        q.excluded_municipalities = list(ctx.municipalities)
        if not current.prefectures:
            q.prefectures = list(ctx.prefectures)
    if current.reverse and not current.order:
        # 「逆に…は？」: the opposite of the previous turn — its order reversed, or its flag negated.
        if ctx.order:
            q.reverse = True
        elif ctx.mlit_flag is not None and current.mlit_flag in (None, ctx.mlit_flag):
            q.mlit_flag = not ctx.mlit_flag
            q.reverse = False
    if q.domain is None or (q.domain == "projects" and ctx.domain in ("programs", "kpis", "events")
                            and not current.has_project_filters):
        q.domain = ctx.domain
    if q.intent is None:
        q.intent = ctx.intent
    if not q.attributes:
        q.attributes = set(ctx.attributes)
    return q


def resolve(engine: RecordsEngine, question: str, history: list[str] | None) -> tuple[RecordQuery, str]:
    """The records query for ``question`` in context, and the text to retrieve documents with."""
    q = engine.parse(question)
    if not history:
        return q, question
    ctx: RecordQuery | None = None
    for turn in history:
        tq = engine.parse(turn)
        ctx = merge(tq, ctx) if ctx is not None and is_followup(tq) else tq
    if ctx is None or not is_followup(q):
        return q, question
    merged = merge(q, ctx)
    if not merged.municipalities and any(c in q.text for c in _REFERS_TO_ENTITY):
        result = engine.run(ctx)
        projects = [r for r in (result.rows if result else []) if isinstance(r, Project)]
        names = sorted({m for p in projects for m in p.municipalities})
        if projects and len(names) <= 3:
            merged.municipalities = names
            merged.years = []
            merged.technologies = []
            merged.intent = "lookup"
            if not names:  # a prefecture-level applicant
                merged.prefectures = sorted({p.prefecture for p in projects})
    return merged, f"{history[-1]} {question}"
