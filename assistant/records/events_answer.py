"""Answers over the events table (events.csv: symposium and mini-symposium sessions)."""

from __future__ import annotations

import re

from assistant.records.load import RecordSet
from assistant.records.query import RecordQuery
from assistant.records.result import RecordResult, year_ok
from assistant.records.schema import Event


class EventAnswers:
    """Mixin of :class:`RecordsEngine` for ``events.csv``."""

    records: RecordSet

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
