"""Japanese PDFs made by real tools at test time: Markdown → HTML (markdown-it-py, tables on) →
Chromium print-to-PDF with the Noto CJK fonts; a slide deck as Flat ODP → LibreOffice Impress PDF
export (:func:`deck_pdf`). Used by tests/test_ingest_pdf.py and eval/bench_pdf.py."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")

_CSS = """
@page { size: A4; margin: 18mm 15mm; }
body { font-family: 'Noto Sans CJK JP', 'Noto Sans JP', sans-serif; font-size: 11pt; line-height: 1.5; }
table { border-collapse: collapse; width: 100%; font-size: 9pt; }
th, td { border: 1px solid #444; padding: 2px 4px; vertical-align: top; }
h1 { font-size: 18pt; } h2 { font-size: 14pt; break-after: avoid; } h3 { font-size: 12pt; }
"""


def chromium() -> str | None:
    """Path of a Chromium binary, or None."""
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def markdown_to_html(markdown: str, title: str = "") -> str:
    """A standalone HTML page from Markdown (front matter dropped; GFM tables kept)."""
    from markdown_it import MarkdownIt

    body = re.sub(r"\A---\n.*?\n---\n", "", markdown, flags=re.S)
    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(body)
    return (f"<!doctype html><html lang='ja'><head><meta charset='utf-8'><title>{title}</title>"
            f"<style>{_CSS}</style></head><body>{html}</body></html>")


def print_pdf(html: str, out: Path, timeout: float = 120) -> Path:
    """Print ``html`` to ``out`` with headless Chromium (raises RuntimeError when it fails)."""
    exe = chromium()
    if exe is None:
        raise RuntimeError("chromium is not installed")
    out.parent.mkdir(parents=True, exist_ok=True)
    src = out.with_suffix(".html")
    src.write_text(html, encoding="utf-8")
    profile = out.parent / f".chromium-{out.stem}"
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
           f"--user-data-dir={profile}", f"--print-to-pdf={out}", src.as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    shutil.rmtree(profile, ignore_errors=True)
    src.unlink(missing_ok=True)
    if not out.is_file() or out.stat().st_size == 0:
        raise RuntimeError(f"chromium did not write {out}: {proc.stderr[-500:]}")
    return out


def markdown_pdf(markdown_file: Path, out: Path) -> Path:
    """``markdown_file`` printed to PDF by Chromium."""
    text = markdown_file.read_text(encoding="utf-8")
    m = re.search(r"^title:\s*(.+)$", text, re.M)
    return print_pdf(markdown_to_html(text, m.group(1).strip() if m else markdown_file.stem), out)


# ---------------------------------------------------------------- LibreOffice Impress: a slide deck

SOFFICE_NAMES = ("soffice", "libreoffice")
DECK_DATE = "令和6年3月15日"


def soffice() -> str | None:
    """Path of LibreOffice's ``soffice``, or None."""
    for name in SOFFICE_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _box(x: float, y: float, w: float, h: float, paras: list[str], style: str = "P1") -> str:
    """A text box (cm) with one paragraph per item."""
    body = "".join(f'<text:p text:style-name="{style}">{_esc(p)}</text:p>' for p in paras)
    return (f'<draw:frame draw:style-name="gr1" svg:x="{x}cm" svg:y="{y}cm" svg:width="{w}cm" svg:height="{h}cm">'
            f"<draw:text-box>{body}</draw:text-box></draw:frame>")


def _table(x: float, y: float, w: float, rows: list[list[str]]) -> str:
    cols = len(rows[0])
    cells = "".join(
        "<table:table-row>" + "".join(
            f'<table:table-cell table:style-name="ce1"><text:p text:style-name="P1">{_esc(c)}</text:p></table:table-cell>'
            for c in r) + "</table:table-row>" for r in rows)
    return (f'<draw:frame draw:style-name="gr1" svg:x="{x}cm" svg:y="{y}cm" svg:width="{w}cm" '
            f'svg:height="{1.2 * len(rows)}cm"><table:table>'
            f'<table:table-column table:number-columns-repeated="{cols}"/>{cells}</table:table></draw:frame>')


#: The deck's slides: draw:frame XML in the order it is written (not the reading order).
DECK_LEFT = ["地域の課題", "人口減少により公共交通の維持が難しい。",
             "高齢者の通院手段の確保が求められている。"]
DECK_RIGHT = ["解決の方向性", "自動運転バスを定時運行する。",
              "オンライン診療と移動診療車を組み合わせる。"]
DECK_TABLE = [["No", "自治体", "主な活用技術", "採択年度"],
              ["1", "北海道岩見沢市", "自動運転", "令和4年度"],
              ["2", "長野県伊那市", "移動診療車", "令和5年度"],
              ["3", "兵庫県神戸市", "ドローン配送", "令和5年度"]]


def deck_slides() -> list[str]:
    title = (_box(2, 5, 24, 3, ["未来技術社会実装事業の概要"], "Title")
             + _box(2, 10, 24, 1.5, [DECK_DATE, "内閣府地方創生推進事務局"]))
    # the right column is written first, the left after it: reading order must come from positions
    columns = (_box(1.5, 1, 25, 2, ["取組の全体像"], "Title")
               + _box(14.5, 4, 12, 8, DECK_RIGHT)
               + _box(1.5, 4, 12, 8, DECK_LEFT))
    table = _box(1.5, 1, 25, 2, ["選定事業の一覧"], "Title") + _table(1.5, 4, 25, DECK_TABLE)
    return [title, columns, table]


def deck_fodp() -> str:
    """A Flat ODP (LibreOffice's single-file XML format) of the 3-slide Japanese deck."""
    font = "Noto Sans CJK JP"
    pages = "".join(f'<draw:page draw:name="slide{i}" draw:master-page-name="Default">{s}</draw:page>'
                    for i, s in enumerate(deck_slides(), start=1))
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
 xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
 xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
 xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"
 xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0"
 office:version="1.3" office:mimetype="application/vnd.oasis.opendocument.presentation">
<office:font-face-decls><style:font-face style:name="{font}" svg:font-family="'{font}'"/></office:font-face-decls>
<office:styles>
 <style:default-style style:family="graphic">
  <style:text-properties style:font-name="{font}" style:font-name-asian="{font}" fo:font-size="18pt"
   style:font-size-asian="18pt" fo:language="ja" fo:country="JP" style:language-asian="ja" style:country-asian="JP"/>
 </style:default-style>
</office:styles>
<office:automatic-styles>
 <style:page-layout style:name="PM1"><style:page-layout-properties fo:page-width="28cm" fo:page-height="15.75cm"
  fo:margin-top="0cm" fo:margin-bottom="0cm" fo:margin-left="0cm" fo:margin-right="0cm"/></style:page-layout>
 <style:style style:name="gr1" style:family="graphic"><style:graphic-properties draw:stroke="none" draw:fill="none"
  draw:textarea-vertical-align="top" draw:auto-grow-height="false" fo:padding="0.1cm"/></style:style>
 <style:style style:name="P1" style:family="paragraph"><style:text-properties style:font-name="{font}"
  style:font-name-asian="{font}" fo:font-size="18pt" style:font-size-asian="18pt"/></style:style>
 <style:style style:name="Title" style:family="paragraph"><style:text-properties style:font-name="{font}"
  style:font-name-asian="{font}" fo:font-size="32pt" style:font-size-asian="32pt"/></style:style>
 <style:style style:name="ce1" style:family="table-cell"><style:graphic-properties draw:fill="none"/>
  <style:paragraph-properties fo:border="0.03cm solid #444444"/></style:style>
</office:automatic-styles>
<office:master-styles><style:master-page style:name="Default" style:page-layout-name="PM1"/></office:master-styles>
<office:body><office:presentation>{pages}</office:presentation></office:body>
</office:document>
"""


def convert_pdf(src: Path, outdir: Path, timeout: float = 180) -> Path:
    """``src`` exported to PDF by headless LibreOffice (raises RuntimeError when it fails)."""
    exe = soffice()
    if exe is None:
        raise RuntimeError("soffice (LibreOffice) is not installed")
    outdir.mkdir(parents=True, exist_ok=True)
    profile = outdir.parent / f".lo-profile-{src.stem}"
    cmd = [exe, f"-env:UserInstallation={profile.resolve().as_uri()}", "--headless", "--norestore",
           "--convert-to", "pdf", "--outdir", str(outdir), str(src)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    shutil.rmtree(profile, ignore_errors=True)
    out = outdir / f"{src.stem}.pdf"
    if not out.is_file() or out.stat().st_size == 0:
        raise RuntimeError(f"soffice did not write {out}: {proc.stdout[-300:]} {proc.stderr[-500:]}")
    return out


def deck_pdf(outdir: Path) -> Path:
    """The Japanese slide deck written as Flat ODP and exported to PDF by LibreOffice Impress."""
    src = outdir.parent / "deck.fodp"
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_text(deck_fodp(), encoding="utf-8")
    try:
        return convert_pdf(src, outdir)
    finally:
        src.unlink(missing_ok=True)
