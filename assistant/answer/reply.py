"""A reply e-mail for the helpdesk, in plain text, from a (combined) :class:`Answer`.

Addressed as the self-introduction allows (「中津川市 ご担当者様」, never a person's name), the
numbered answers as they are in the answer, the sources at the end (title, date, section). It
states nothing beyond the answer's own text: the frame is fixed politeness only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from assistant.types import Answer, Citation

_OFFICE = re.compile(r"([^\s　、。：:]{1,20}(?:課|室|係|班|グループ|センター|担当))")


def _office(surface: str) -> str:
    """The department of the self-introduction (「企画政策課」), if it names one."""
    names = _OFFICE.findall(surface.replace("でございます", "").replace("です", ""))
    return names[-1] if names else ""


def addressee(answer: Answer) -> str:
    """「中津川市 企画課 ご担当者様」, 「栃木県 ご担当者様」 or 「ご担当者様」."""
    sender: dict[str, Any] = answer.meta.get("sender") or {}
    entity = sender.get("entity") or ""
    office = _office(sender.get("surface", "")) if sender.get("surface") else ""
    head = " ".join(x for x in (entity, office) if x)
    return f"{head} ご担当者様" if head else "ご担当者様"


def _source_line(c: Citation, date_of: Callable[[str], str] | None) -> str:
    date = date_of(c.source) if date_of else ""
    title = c.title or c.source
    bits = [f"「{title}」"]
    if date:
        bits.append(f"（{date}）")
    if c.locator:
        bits.append(f" {c.locator}")
    return "".join(bits)


def render_reply(answer: Answer, date_of: Callable[[str], str] | None = None) -> str:
    """The reply e-mail as plain text. ``date_of(source)`` gives a document's date, if known."""
    lines = [addressee(answer), "", "お世話になっております。", "お問い合わせの件につきまして、資料に基づき下記のとおりご回答いたします。", ""]
    body = answer.text.strip()
    if answer.meta.get("quoted_left_aside"):
        from assistant.answer.message import QUOTED_NOTE

        body = "\n".join(ln for ln in body.splitlines() if ln.strip() != QUOTED_NOTE)  # said below
    if answer.abstained and not answer.meta.get("parts"):
        lines.append("お問い合わせの内容は、手元の資料には記載がございませんでした。")
        lines.append("")
        lines.append(body)
    else:
        lines.append(body)
    lines.append("")
    if answer.meta.get("quoted_left_aside"):
        lines.append("※引用されていた過去のメールの内容には、本メールではお答えしておりません。")
        lines.append("")
    if answer.citations:
        lines.append("【出典】")
        seen: set[str] = set()
        for c in answer.citations:
            line = _source_line(c, date_of)
            if line in seen:
                continue
            seen.add(line)
            lines.append(f"・{line}")
        lines.append("")
    lines.append("ご不明な点がございましたら、お知らせください。")
    lines.append("よろしくお願いいたします。")
    return "\n".join(lines) + "\n"


def document_date_lookup(root, folders=None) -> Callable[[str], str]:
    """``date`` of a document's front matter (「2023-03-15」), else "" — wherever the document
    lives (the configured documents folder or the repository; ``folders`` as for
    :class:`~assistant.source_files.SourceTexts`)."""
    from pathlib import Path

    from assistant.editions import front_matter
    from assistant.source_files import SourceTexts

    texts = SourceTexts(Path(root), folders=folders)
    cache: dict[str, str] = {}

    def date_of(source: str) -> str:
        if source not in cache:
            text = texts.text(source)[0] or ""
            m = re.match(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", front_matter(text).get("date", ""))
            cache[source] = m.group(0) if m else ""
        return cache[source]

    return date_of
