"""A tiny Japanese corpus and settings for the ingest / index / retrieval tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import Settings

ALPHA = """---
title: 除雪の取組
prefecture: 山形県
fiscal_year: R4
technologies: [IoT, ドローン]
---

# 除雪の取組

## 概要

山形県飯豊町では、GPS除雪管理システムを導入した。除雪車の位置をリアルタイムで把握できる。
住民への情報提供も始めた。

## 成果

- 除雪作業の時間が2割短縮された
- 問合せ件数が半減した

### 今後の予定

令和5年度には、ドローンによる積雪量の計測を予定している。
"""

BETA = """---
title: 遠隔医療の実証
prefecture: 長野県
fiscal_year: 2021
technologies: [AI, 5G]
---

# 遠隔医療の実証

## 移動診療車

長野県伊那市では、医療機器を整備した移動診療車が山間部を巡回する。医師はオンラインで診察する。

## 実施体制

| 項目 | 内容 |
|---|---|
| 主体 | 伊那市 |
| 協力 | 地元の病院 |
"""

# Shift_JIS text file.
GAMMA = "観光アプリの実証\n\n京都府京都市では、観光アプリを活用した遅延回避と人流分散に取り組んだ。混雑を予測して通知する。\n"


def write_corpus(root: Path) -> Path:
    docs = root / "corpus" / "documents"
    docs.mkdir(parents=True, exist_ok=True)
    (docs / "alpha.md").write_text(ALPHA, encoding="utf-8")
    (docs / "beta.md").write_text(BETA, encoding="utf-8")
    (docs / "gamma.txt").write_bytes(GAMMA.encode("cp932"))
    return docs


def settings_for(root: Path, **kw) -> Settings:
    """Settings rooted at ``root`` (no records folder: documents only)."""
    return Settings(root=root, documents_dir=Path("corpus/documents"), records_dir=Path("corpus/records"),
                    index_dir=Path("index"), **kw)


def tiny_pdf(pages: list[str]) -> bytes:
    """A valid PDF with one Helvetica text line per page (ASCII text), correct xref offsets."""
    objs: list[bytes] = []
    n = len(pages)
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(n))
    objs.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objs.append(f"<< /Type /Pages /Kids [{kids}] /Count {n} >>".encode())
    font_id = 3 + 2 * n
    for i, text in enumerate(pages):
        content = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
        objs.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {4 + 2 * i} 0 R "
                    f"/Resources << /Font << /F1 {font_id} 0 R >> >> >>".encode())
        objs.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
    objs.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


@pytest.fixture()
def corpus(tmp_path: Path):
    """A small corpus under ``tmp_path`` and its Settings; the index cache is cleared around it."""
    from assistant.index import clear_cache

    clear_cache()
    write_corpus(tmp_path)
    yield tmp_path, settings_for(tmp_path)
    clear_cache()
