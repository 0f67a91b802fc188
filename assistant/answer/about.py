"""Questions about the documents themselves: who published them, when, their titles.

Answered from each Markdown document's front matter (``title``, ``publisher``, ``date``), quoting
the front-matter lines, so it works for any document added with the documented front matter.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from assistant.types import Answer, Citation

#: 「この資料はいつ、どこが作成した？」「資料の発行元は？」「What is the source document?」
ABOUT_DOCUMENT = re.compile(
    r"(この|本|その)?(資料|文書|ドキュメント|スライド)(は|の|を)?.{0,12}(いつ|どこ|誰|作成|発行|公表|作った|出典|"
    r"タイトル|題名|名前|日付)|(which|what) (document|source)|who (published|wrote)", re.IGNORECASE)

_FIELDS = (("title", "題名"), ("publisher", "作成"), ("date", "日付"))


def front_matter_lines(text: str) -> dict[str, str]:
    """``key: value`` lines of a leading YAML front matter block, exactly as written."""
    m = re.match(r"---\n(.*?)\n---", text, re.DOTALL)
    if not m:
        return {}
    out = {}
    for line in m.group(1).splitlines():
        key, sep, value = line.partition(":")
        if sep and value.strip():
            out[key.strip()] = line
    return out


def answer_about(question: str, sources: list[str] | Callable[[], list[str]], text_of: Callable[[str], str],
                 title_of: Callable[[str], str]) -> Answer | None:
    """The documents' title, publisher and date, each cited from its front-matter line.

    ``sources`` may be a function: it is called only for a question about the documents.
    """
    if not ABOUT_DOCUMENT.search(question):
        return None
    if callable(sources):
        sources = sources()
    lines, cites = [], []
    for src in sources:
        fm = front_matter_lines(text_of(src))
        if not fm:
            continue
        parts = []
        for key, label in _FIELDS:
            if key in fm:
                value = fm[key].partition(":")[2].strip()
                parts.append(f"{label}: {value}")
                cites.append(Citation(src, "front matter", fm[key], title_of(src)))
        if parts:
            lines.append("、".join(parts))
    if not cites:
        return None
    return Answer(question, "\n".join(lines), cites, abstained=False, route="documents",
                  meta={"about": "front_matter"})
