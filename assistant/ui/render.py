"""Chat message rendering: every user or answer text is HTML-escaped and markdown-neutralized."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Sequence

from assistant.types import Citation

# ASCII punctuation that Markdown gives a meaning to; ``<``, ``>``, ``&`` are handled by html.escape.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$:])")

CURSOR = "▌"


def escape_text(text: str) -> str:
    """Text shown literally by the chat (Markdown + HTML renderer): no tags, links, images or math."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=True))


def _esc_inline(text: str) -> str:
    """Text placed inside an HTML block (not parsed as Markdown): escaped, newlines as <br>."""
    parts = [html.escape(p, quote=True) for p in text.strip().splitlines() if p.strip()]
    return "<br>".join(parts)


def citations_html(citations: Sequence[Citation]) -> str:
    """The 根拠 panel: an HTML ``<details>`` block on a single line (so Markdown leaves it alone)."""
    if not citations:
        return ""
    items = []
    for c in citations:
        title = _esc_inline(c.title or c.source)
        locator = f'<span class="cite-locator">{_esc_inline(c.locator)}</span>' if c.locator else ""
        quote = f'<blockquote class="cite-quote">{_esc_inline(c.quote)}</blockquote>' if c.quote else ""
        source = f'<span class="cite-source">{_esc_inline(c.source)}</span>'
        items.append(f'<li><span class="cite-title">{title}</span> {locator}{quote}{source}</li>')
    return (f'<details class="evidence"><summary>根拠（{len(citations)}件）</summary>'
            f'<ol>{"".join(items)}</ol></details>')


def answer_message(text: str, citations: Sequence[Citation] = ()) -> str:
    """The full assistant message: escaped answer text, then the collapsible 根拠 panel."""
    body = escape_text(text)
    panel = citations_html(citations)
    return f"{body}\n\n{panel}" if panel else body


def stream_prefixes(text: str, steps: int = 12) -> Iterator[str]:
    """Growing prefixes of ``text`` (sentence-aware when possible) for a progressive display."""
    if not text:
        return
    cuts = [m.end() for m in re.finditer(r"[。．！？!?\n]+", text)]
    if len(cuts) < steps:
        size = max(1, -(-len(text) // steps))
        cuts = sorted(set(cuts) | set(range(size, len(text), size)))
    for cut in cuts:
        if cut < len(text):
            yield text[:cut]
    yield text


def streaming_message(prefix: str) -> str:
    return escape_text(prefix) + CURSOR
