"""Render every record row as a readable Japanese sentence (a ``Chunk``) for the retrievers.

Each chunk cites the row's document (``source``) and ``locator``; ``meta`` holds flat scalars
only (Chroma metadata): ``kind``, ``prefecture``, ``municipality`` (``;``-joined),
``fiscal_year``, ``technologies`` (``;``-joined), ``ministry``, ``program``, ``record_quote``
(the row's quote, NFKC) and ``record_file`` / ``record_key``. Keys with no value are omitted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date
from typing import Any

from assistant.normalize import nfkc, western_to_era, western_to_era_full
from assistant.records.load import TABLES, RecordSet
from assistant.records.schema import Event, Kpi, Program, ProgramSelection, Project, RecordBase, SupportEnded
from assistant.records.validate import PROJECTS_PROGRAM_ID
from assistant.types import Chunk

FILE = {attr: name for attr, (name, _) in TABLES.items()}


def _strip_end(text: str) -> str:
    return text.strip().rstrip("。")


def _year_phrase(fy: int, label: str | None = None) -> str:
    """2022 -> '令和4年度（R4, 2022年度）'."""
    return f"{western_to_era_full(fy)}（{label or western_to_era(fy)}, {fy}年度）"


def _entry_name(entry: str) -> str:
    return nfkc(entry).replace("(※)", "").strip()


def _fiscal_year_of(day: date) -> int:
    return day.year if day.month >= 4 else day.year - 1


def make_chunk(record: RecordBase, file: str, key: str, text: str, meta: dict[str, Any]) -> Chunk:
    """A chunk with a stable id (sha256 of source, locator and text) and flat, non-null meta."""
    digest = hashlib.sha256(f"{record.source}\n{record.locator}\n{text}".encode()).hexdigest()
    flat = {"kind": meta.pop("kind"), "record_file": file, "record_key": key,
            "record_quote": nfkc(record.quote)}
    for k, v in meta.items():
        if v is None:
            continue
        flat[k] = ";".join(v) if isinstance(v, list | tuple) else v
    return Chunk(id=digest, doc_id=f"records/{file}", source=record.source, text=text,
                 locator=record.locator, meta=flat)


def _project(p: Project, program: Program | None) -> Chunk:
    text = (f"{_entry_name(p.entry)}（No.{p.no}）は{_year_phrase(p.selection_fy, p.selection_year)}"
            f"採択の事業で、主な活用技術は{p.technologies_as_written}。")
    if program:
        text += f"{program.program_name}（{program.ministry}）の支援対象事業。"
    if p.mlit_autonomous_support:
        text += "国土交通省道路局の自動運転サービス導入支援事業の対象（※）。"
    if p.support_ends_r4:
        text += "令和4年度（R4）末で支援終了（支援満了）。"
    return make_chunk(p, FILE["projects"], str(p.no), text, {
        "kind": "project", "prefecture": p.prefecture, "municipality": p.municipalities,
        "fiscal_year": p.selection_fy, "selection_year": p.selection_year, "technologies": p.technologies,
        "ministry": program.ministry if program else None, "program": program.program_id if program else None,
        "no": p.no, "mlit_autonomous_support": p.mlit_autonomous_support, "support_ends_r4": p.support_ends_r4,
        "prefecture_is_applicant": p.prefecture_is_applicant})


def _program(p: Program) -> Chunk:
    text = (f"{p.ministry}（{p.bureau}）の{p.program_name}。R5年度予算は{_strip_end(p.budget_r5)}。"
            f"過去の選定数は{_strip_end(p.selections_as_written)}。概要：{_strip_end(p.summary)}。"
            f"主な支援対象：{_strip_end(p.main_support)}。問合せ先：{p.contact}（{p.contact_email}）。")
    return make_chunk(p, FILE["programs"], p.program_id, text, {
        "kind": "program", "ministry": p.ministry, "program": p.program_id, "program_name": p.program_name,
        "budget_r5_oku_yen": p.budget_r5_oku_yen})


def _selection(s: ProgramSelection, program: Program | None) -> Chunk:
    name = f"{program.program_name}（{program.ministry}）" if program else s.program_id
    text = f"{name}の{_year_phrase(s.fiscal_year, s.fiscal_year_label)}の選定数は{s.count}事業。"
    return make_chunk(s, FILE["selections"], f"{s.program_id}:{s.fiscal_year}", text, {
        "kind": "selection", "program": s.program_id, "ministry": program.ministry if program else None,
        "program_name": program.program_name if program else None, "fiscal_year": s.fiscal_year,
        "count": s.count})


def _kpi(k: Kpi) -> Chunk:
    deadline = f"（{k.deadline_as_written}）" if k.deadline_as_written else ""
    text = f"KPI「{k.name}」の目標は{k.target_as_written}{deadline}。区分：{k.section}。"
    return make_chunk(k, FILE["kpis"], k.kpi_id, text, {
        "kind": "kpi", "kpi_id": k.kpi_id, "fiscal_year": k.deadline_fy, "period_start_fy": k.period_start_fy,
        "value": k.value, "unit": k.unit})


def _ended(s: SupportEnded, project: Project | None) -> Chunk:
    year = f"{_year_phrase(project.selection_fy, project.selection_year)}選定の" if project else ""
    text = (f"{_entry_name(s.entry)}は{year}支援満了自治体（支援満了自治体一覧 No.{s.no}、"
            f"支援対象事業一覧 No.{s.project_no}）。主な活用技術は{s.technologies_as_written}。")
    return make_chunk(s, FILE["support_ended"], str(s.no), text, {
        "kind": "support_ended", "prefecture": s.prefecture, "municipality": s.municipalities,
        "technologies": s.technologies, "fiscal_year": project.selection_fy if project else None,
        "no": s.no, "project_no": s.project_no})


def _event(e: Event) -> Chunk:
    day = f"、{e.day}" if e.day else ""
    people = f"参加者は{e.participants}名（{e.participants_breakdown}）。" if e.participants is not None else ""
    text = (f"{e.kind}（{e.date_as_written}{day}）：場所は{e.place}。"
            f"プログラムは{_strip_end(e.program)}。{people}")
    try:
        fy: int | None = _fiscal_year_of(date.fromisoformat(e.date))
    except ValueError:
        fy = None
    return make_chunk(e, FILE["events"], e.event_id, text, {
        "kind": "event", "event_kind": e.kind, "date": e.date, "fiscal_year": fy,
        "participants": e.participants})


def _chunks(records: RecordSet) -> Iterator[Chunk]:
    programs = {p.program_id: p for p in records.programs}
    projects = {p.no: p for p in records.projects}
    main = programs.get(PROJECTS_PROGRAM_ID)
    for p in records.projects:
        yield _project(p, main)
    for g in records.programs:
        yield _program(g)
    for s in records.selections:
        yield _selection(s, programs.get(s.program_id))
    for k in records.kpis:
        yield _kpi(k)
    for s in records.support_ended:
        yield _ended(s, projects.get(s.project_no))
    for e in records.events:
        yield _event(e)


def record_chunks(records: RecordSet) -> list[Chunk]:
    """One chunk per record row, in table order (projects, programs, selections, KPIs, …)."""
    return list(_chunks(records))
