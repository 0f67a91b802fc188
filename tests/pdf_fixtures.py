"""Japanese PDFs made by a real tool at test time: Markdown → HTML (markdown-it-py, tables on) →
Chromium print-to-PDF with the Noto CJK fonts. Used by tests/test_ingest_pdf.py and eval/bench_pdf.py."""

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
