"""Chat message rendering: every user or answer text is HTML-escaped and markdown-neutralized.

An answer's claims (:mod:`assistant.claims`) are shown where the reader can check them: a
computed figure is underlined and its working is listed under the answer in 「計算の内訳」 (a
``<details>`` that works by tapping, on a phone too), and each quoted value is highlighted
(``<mark>``) inside the quote of the citation it rests on.

The 根拠 panel names each document once (title, date, publisher: :class:`SourceLabel`, given by
the source viewer) with its citations below it, each with the cited place, the quote as reading
text and, in the chat, a 「資料を開く」 control (a ``<span class="open-source">`` that the page
script makes a button sending the viewer event). No file path is shown.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from assistant.claims.model import Claim
from assistant.types import Citation
from assistant.ui.notes import MarkNote, note_line, notes_for

# ASCII punctuation that Markdown gives a meaning to; ``<``, ``>``, ``&`` are handled by html.escape.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$:])")

CURSOR = "▌"

#: The unit words a figure of the answer may be followed by (shown with it: 「9件」「53事業」).
_UNIT = re.compile(r"件|事業|自治体|団体|市町村|都道府県|地域|か所|カ所|ヶ所|箇所|か月|ヶ月|カ月|年間|年度|年"
                   r"|[万億兆千]*円|%|％|人|名|社|回|校|項目|者|府省|倍")
_TABLE_RULE = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$")
_SEP = " ／ "  # between the cells of a quoted table row


def escape_text(text: str) -> str:
    """Text shown literally by the chat (Markdown + HTML renderer): no tags, links, images or math."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=True))


def _esc_inline(text: str) -> str:
    """Text placed inside an HTML block (not parsed as Markdown): escaped, newlines as <br>."""
    parts = [html.escape(p, quote=True) for p in text.strip().splitlines() if p.strip()]
    return "<br>".join(parts)


def _attr(text: str) -> str:
    """An attribute value (inside double quotes of a raw HTML tag): escaped, on one line."""
    return html.escape(" ".join(text.split()), quote=True)


# -- quotes ---------------------------------------------------------------------------------------
def readable_quote(quote: str) -> str:
    """A quote as plain reading text: a Markdown table row ``| 8 | 茨城県潮来市 | R2 |`` becomes
    ``8 ／ 茨城県潮来市 ／ R2``, ``**bold**`` markers, heading marks and table rules go."""
    lines = []
    for raw in quote.strip().splitlines():
        line = raw.strip()
        if not line or _TABLE_RULE.match(line):
            continue
        line = line.replace("**", "")
        if line.startswith("|") or (line.endswith("|") and line.count("|") >= 2):
            line = _SEP.join(c.strip() for c in line.strip("|").split("|") if c.strip())
        line = re.sub(r"^#{1,6}\s+", "", line)
        line = re.sub(r"^[-*]\s+", "・", line)
        if line:
            lines.append(line)
    return "\n".join(lines)


def normalized_map(text: str) -> tuple[str, list[int], list[bool]]:
    """NFKC of ``text`` with, for each normalized char, the index of the original char it comes
    from and whether it starts that char's normalization (so a span can be mapped back)."""
    return _normalized(text)


def _normalized(text: str) -> tuple[str, list[int], list[bool]]:
    """NFKC of ``text`` char by char, with, for each normalized char, the index of the original
    char it comes from and whether it is the first / last char of that char's normalization."""
    out, origin, starts = [], [], []
    for i, ch in enumerate(text):
        piece = unicodedata.normalize("NFKC", ch)
        for k, p in enumerate(piece):
            out.append(p)
            origin.append(i)
            starts.append(k == 0)
    return "".join(out), origin, starts


def _ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _bounded(norm: str, a: int, b: int) -> bool:
    """``norm[a:b]`` is a whole value, not part of a longer one (「2」 in 「R2」 or 「12」, 「4」 in 「4.0」)."""
    value = norm[a:b]
    before, after = norm[a - 1] if a else "", norm[b] if b < len(norm) else ""
    if value[0].isdigit() and before and (_ascii_alnum(before) or (before in ".," and a > 1 and norm[a - 2].isdigit())):
        return False
    if _ascii_alnum(value[0]) and _ascii_alnum(before):
        return False
    if value[-1].isdigit() and after and (after.isdigit() or (after in ".," and norm[b + 1:b + 2].isdigit())):
        return False
    return not (value[-1].isascii() and value[-1].isalpha() and _ascii_alnum(after))


def find_spans(text: str, values: Sequence[str]) -> list[tuple[int, int]]:
    """Where ``values`` occur in ``text`` as whole values (compared after NFKC, so a full-width
    「Ｒ２」 is found for 「R2」), as non-overlapping (start, end) of ``text``. A value written
    otherwise (「令和2年度」 for 「R2」) is not found: nothing rather than a wrong span."""
    norm, origin, starts = _normalized(text)
    spans: list[tuple[int, int]] = []
    for value in sorted({unicodedata.normalize("NFKC", v).strip() for v in values} - {""}, key=len, reverse=True):
        pos = norm.find(value)
        while pos >= 0:
            end = pos + len(value)
            whole = starts[pos] and (end == len(norm) or starts[end])  # no char cut in two
            if whole and _bounded(norm, pos, end):
                a, b = origin[pos], origin[end - 1] + 1
                if all(b <= s or a >= e for s, e in spans):
                    spans.append((a, b))
            pos = norm.find(value, pos + 1)
    return sorted(spans)


def _marked(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """``text`` escaped for an HTML block, ``spans`` wrapped in ``<mark>``, newlines as <br>."""
    out, pos = [], 0
    for a, b in spans:
        out += [html.escape(text[pos:a], quote=True), f'<mark class="cite-value">{html.escape(text[a:b], quote=True)}</mark>']
        pos = b
    out.append(html.escape(text[pos:], quote=True))
    return "".join(out).replace("\n", "<br>")


def _quoted_values(claims: Sequence[Claim], index: int) -> list[str]:
    """The values the answer reads from citation ``index``: its quoted claims (and the quoted
    spelling a converted value comes from)."""
    values = []
    for c in claims:
        if index in c.citations and c.kind == "quoted":
            values.append(c.text)
        elif index in c.citations and c.kind == "converted" and c.source_value:
            values.append(c.source_value)
    return values


@dataclass(frozen=True)
class SourceLabel:
    """How a cited document is named to the reader: title, date (「2023年3月15日」), publisher."""

    title: str
    date: str = ""
    publisher: str = ""


_PAGE_PART = re.compile(r"^p\.\s*(\d+)$")


def place_label(locator: str) -> str:
    """A locator as the reader sees it: the page first (「p.3」 → 「3ページ」), then the headings,
    joined by 「 ＞ 」 (``概要 > p.3 > 表 (1〜5)`` → 「3ページ ＞ 概要 ＞ 表 (1〜5)」)."""
    parts = [p.strip() for p in (locator or "").split(" > ") if p.strip()]
    pages = [f"{m.group(1)}ページ" for p in parts if (m := _PAGE_PART.match(p))]
    rest = [p.replace("**", "") for p in parts if not _PAGE_PART.match(p)]
    return " ＞ ".join(pages[:1] + rest)


def _label_line(label: SourceLabel) -> str:
    meta = "・".join(x for x in (label.date, label.publisher) if x)
    line = f'<span class="cite-title">{_esc_inline(label.title)}</span>'
    return line + (f' <span class="cite-docmeta">{_esc_inline(meta)}</span>' if meta else "")


#: The 「資料を開く」 control: a span (the chat keeps only its panel markup), made a focusable
#: button by the page script (``assistant.ui.chat.OPENER_JS``).
OPEN_SOURCE = '<span class="open-source" title="引用された箇所を下の「資料の表示」に開きます">資料を開く</span>'


def citations_html(citations: Sequence[Citation], claims: Sequence[Claim] = (),
                   labels: Callable[[Citation], SourceLabel] | None = None, openable: bool = False) -> str:
    """The 根拠 panel: an HTML ``<details>`` block on a single line (so Markdown leaves it alone).
    Citations are grouped by document (named once, by ``labels``; the citation's title without
    it), numbered as the answer's claims number them; the values the answer takes from each quote
    are highlighted in it; ``openable`` adds a 「資料を開く」 control to each."""
    if not citations:
        return ""
    groups: dict[str, list[int]] = {}
    for i, c in enumerate(citations):
        groups.setdefault(c.source, []).append(i)
    docs = []
    for indexes in groups.values():
        first = citations[indexes[0]]
        label = labels(first) if labels else SourceLabel(first.title or "資料")
        items = []
        for i in indexes:
            c = citations[i]
            place = place_label(c.locator)
            locator = f' <span class="cite-locator">{_esc_inline(place)}</span>' if place else ""
            text = readable_quote(c.quote) if c.quote else ""
            quote = (f'<blockquote class="cite-quote">{_marked(text, find_spans(text, _quoted_values(claims, i)))}'
                     "</blockquote>") if text else ""
            items.append(f'<li><span class="cite-num">{i + 1}.</span>{locator}{quote}'
                         f'{OPEN_SOURCE if openable else ""}</li>')
        docs.append(f'<li class="cite-doc">{_label_line(label)}<ul class="cite-list">{"".join(items)}</ul></li>')
    return (f'<details class="evidence"><summary>根拠（{len(citations)}件）</summary>'
            f'<ul class="cite-docs">{"".join(docs)}</ul></details>')


def notes_html(text: str, citations: Sequence[Citation], notes: Sequence[MarkNote]) -> str:
    """The document's note for each mark (「(※)」) the answer or one of its quotes shows, as one
    line of HTML (empty when no mark is shown)."""
    shown = notes_for([text, *(c.quote for c in citations)], notes)
    if not shown:
        return ""
    items = "".join(f'<p class="mark-note">{html.escape(note_line(n), quote=True)}</p>' for n in shown)
    return f'<div class="mark-notes">{items}</div>'


def answer_message(text: str, citations: Sequence[Citation] = (), claims: Sequence[Claim] = (),
                   labels: Callable[[Citation], SourceLabel] | None = None, openable: bool = False,
                   notes: Sequence[MarkNote] = ()) -> str:
    """The full assistant message: escaped answer text (computed figures marked), the document's
    note for a mark it shows (「(※)」), 「計算の内訳」, then the collapsible 根拠 panel with the
    quoted values highlighted."""
    parts = [answer_body(text, claims), notes_html(text, citations, notes), working_html(text, claims),
             citations_html(citations, claims, labels, openable)]
    return "\n\n".join(p for p in parts if p)


# -- computed figures -----------------------------------------------------------------------------
def _numbers(indexes: Sequence[int]) -> str:
    """Citation indexes as the 根拠 panel numbers them: (0, 1, 2, 4) → 「1〜3、5」."""
    nums = sorted({i + 1 for i in indexes})
    runs: list[list[int]] = []
    for n in nums:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return "、".join(f"{r[0]}〜{r[-1]}" if len(r) > 2 else "、".join(map(str, r)) for r in runs)


def _described(claim: Claim) -> str:
    """The working of a computed figure in words: the answerer's own, or one made from the operation."""
    if claim.working.strip():
        return claim.working.strip()
    xs, op = list(claim.inputs), claim.operation
    if op == "count":
        return f"該当する{len(xs)}件を数えた結果"
    if op == "sum" and xs:
        return f"{' + '.join(xs)} の合計"
    if op == "difference" and xs:
        return f"{' − '.join(xs)} の差"
    if op in ("max", "min") and xs:
        return f"{'、'.join(xs)} のうち{'最大' if op == 'max' else '最小'}"
    if op == "add_years" and len(xs) == 2:
        return f"{xs[0]}年度から{xs[1]}年間の支援期間の最後の年度（{xs[0]} + {xs[1]} − 1）"
    if op == "year_span" and len(xs) == 2:
        return f"{xs[0]}年度から{xs[1]}年度までの支援期間の年数（{xs[1]} − {xs[0]} + 1）"
    return "資料の数値から計算した結果"


def _rows_note(claim: Claim) -> str:
    if claim.operation != "count" or not claim.citations:
        return ""
    word = "数えた行" if len(claim.citations) == len(claim.inputs) else "もとにした行"
    return f"（{word}: 根拠の{_numbers(claim.citations)}番、{len(claim.citations)}件）"


_ERA_INITIAL = {"令和": "R", "平成": "H", "昭和": "S"}
_ERA_WORD = re.compile("|".join(_ERA_INITIAL))


def _conversion(claim: Claim) -> str:
    """Why a converted value equals the quoted one, in words (empty when it is the same spelling)."""
    same = re.sub(r"年度$", "", claim.text) == re.sub(r"年度$", "", claim.source_value)
    if not claim.source_value or same:
        return ""
    if claim.rule == "era":
        text, source = unicodedata.normalize("NFKC", claim.text), unicodedata.normalize("NFKC", claim.source_value)
        western, from_western = re.match(r"\d{4}", text), re.match(r"\d{4}", source)
        if western and not from_western:
            why = "年度の表記を西暦に換算"
        elif from_western and not western:
            why = "西暦の年度を和暦に換算"
        else:
            era = _ERA_WORD.search(text + source)
            name = era.group(0) if era else "令和"
            why = f"{_ERA_INITIAL[name]} は{name}の略記です"
    elif claim.rule == "scale":
        why = "金額の単位を換算（1億円 = 10,000万円）"
    elif claim.rule == "fiscal_year":
        why = "日付を年度に換算（年度は4月から翌年3月まで）"
    else:
        why = "表記を言い換えたもの"
    return f"{claim.text} = {claim.source_value}（{why}）"


class _Spans:
    """Claim offsets (into the NFKC answer text) mapped back to the text as shown."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.norm, self.origin, self.starts = _normalized(text)
        self.exact = self.norm == unicodedata.normalize("NFKC", text)

    def span(self, claim: Claim) -> tuple[int, int] | None:
        a, b = claim.start, claim.end
        if not self.exact or not (0 <= a < b <= len(self.norm)) or self.norm[a:b] != claim.text:
            return None
        if not self.starts[a] or (b < len(self.norm) and not self.starts[b]):
            return None
        start, end = self.origin[a], self.origin[b - 1] + 1
        unit = _UNIT.match(self.text, end)
        if unit and not _UNIT.search(claim.text):
            end = unit.end()
        return start, end


def _figures(text: str, claims: Sequence[Claim]) -> list[tuple[int, int, str, str]]:
    """(start, end, figure as shown, working line) of each computed claim of ``text``."""
    spans, out = _Spans(text), []
    for c in claims:
        if c.kind != "computed":
            continue
        where = spans.span(c)
        if where is None:
            shown = c.text
        else:
            shown = text[where[0]:where[1]]
        line = f"{shown} = {_described(c)}{_rows_note(c)}"
        out.append((*(where or (-1, -1)), shown, line))
    return out


def working_html(text: str, claims: Sequence[Claim]) -> str:
    """「計算の内訳」: one line per computed figure (then per converted spelling), in a ``<details>``
    on a single line; empty when the answer has neither."""
    lines = [line for *_, line in _figures(text, claims)]
    conversions = [c for c in claims if c.kind == "converted"]
    lines += [x for x in dict.fromkeys(_conversion(c) for c in conversions) if x]
    if not lines:
        return ""
    summary = "計算の内訳" if any(c.kind == "computed" for c in claims) else "表記の換算"
    items = "".join(f"<li>{html.escape(x, quote=True)}</li>" for x in dict.fromkeys(lines))
    return (f'<details class="working"><summary>{summary}（{len(dict.fromkeys(lines))}件）</summary>'
            f"<ul>{items}</ul></details>")


def answer_body(text: str, claims: Sequence[Claim] = ()) -> str:
    """The answer text escaped, each computed figure underlined with its working as a tooltip."""
    marks = sorted((a, b, line) for a, b, _, line in _figures(text, claims) if a >= 0)
    out, pos = [], 0
    for a, b, line in marks:
        if a < pos:
            continue
        out += [escape_text(text[pos:a]),
                f'<span class="figure" title="{_attr(line)}">{escape_text(text[a:b])}</span>']
        pos = b
    out.append(escape_text(text[pos:]))
    return "".join(out)


def streaming_message(prefix: str) -> str:
    """A partial answer while it is being written (escaped, with a cursor)."""
    return escape_text(prefix) + CURSOR
