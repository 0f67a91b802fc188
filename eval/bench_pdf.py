"""Japanese PDF ingestion bench (issue 15): the deck printed to PDF by Chromium, alone in a
documents folder outside the repository, indexed and evaluated once per extractor.

    .venv/bin/python eval/bench_pdf.py [--extractors pdfplumber,pdfium,pypdf] [--limit N] [--keep DIR]

For each extractor: radical characters left in the loader's text (= index text), in answers and
in quotes; chunks; PDF citations without a page; ``assistant eval`` accuracy of eval/qa.jsonl
(ASSISTANT_DOCUMENTS_DIR and ASSISTANT_INDEX_DIR point to a temp folder; the repository's index
is untouched). Needs Chromium and the Noto CJK fonts (``make browser-deps``). Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.ingest.chunking import chunk_document  # noqa: E402
from assistant.ingest.loaders import load_document  # noqa: E402
from assistant.ingest.pdf import EXTRACTORS, radical_count  # noqa: E402
from tests.pdf_fixtures import chromium, markdown_pdf  # noqa: E402

DECK = ROOT / "corpus" / "documents" / "mirai-gijutsu-torikumi-2023-03-15.md"
PAGE = re.compile(r"(?:^|> )p\.[0-9]+(?: >|$)")


def _run(cmd: list[str], env: dict[str, str]) -> None:
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if proc.returncode not in (0, 1):  # eval exits 1 when the gate fails: the report is written
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-2000:]}")


def bench(extractor: str, pdf: Path, work: Path, limit: int | None) -> dict[str, object]:
    docs = work / extractor / "docs"
    docs.mkdir(parents=True)
    target = docs / pdf.name
    target.write_bytes(pdf.read_bytes())
    env = {**os.environ, "ASSISTANT_DOCUMENTS_DIR": str(docs), "ASSISTANT_INDEX_DIR": str(work / extractor / "index"),
           "ASSISTANT_PDF_EXTRACTOR": extractor}
    os.environ["ASSISTANT_PDF_EXTRACTOR"] = extractor
    t0 = time.perf_counter()
    doc = load_document(target, ROOT)
    load_s = time.perf_counter() - t0
    chunks = chunk_document(doc)
    t0 = time.perf_counter()
    _run([str(ROOT / ".venv/bin/assistant"), "index", "--rebuild"], env)
    index_s = time.perf_counter() - t0
    report = work / extractor / "report"
    cmd = [str(ROOT / ".venv/bin/assistant"), "eval", "--report", str(report)]
    if limit:
        cmd += ["--limit", str(limit)]
    t0 = time.perf_counter()
    _run(cmd, env)
    eval_s = time.perf_counter() - t0
    run = json.loads((report / "report.json").read_text(encoding="utf-8"))["pipelines"]["default"]
    summary, items = run["summary"], run["items"]
    cites = [c for it in items for c in it.get("citations") or []]
    pdf_cites = [c for c in cites if c["source"].endswith(".pdf")]
    by_cat: dict[str, list[int]] = {}
    for it in items:
        by_cat.setdefault(it["category"], [0, 0])[0] += bool(it["correct"])
        by_cat[it["category"]][1] += 1
    return {
        "extractor": extractor, "pages": doc.meta.get("page_count"), "chars": len(doc.text),
        "radicals_text": radical_count(doc.text), "chunks": len(chunks),
        "chunks_without_page": sum(1 for c in chunks if not PAGE.search(c.locator)),
        "accuracy": summary["accuracy"], "correct": summary["correct"], "n": summary["n"],
        "citation_validity": summary.get("citation_validity"), "pdf_citations": len(pdf_cites),
        "pdf_citations_without_page": sum(1 for c in pdf_cites if not PAGE.search(c["locator"])),
        "radicals_answers": sum(radical_count(it.get("answer") or "") for it in items),
        "radicals_quotes": sum(radical_count(c.get("quote") or "") for c in cites),
        "by_category": {k: f"{a}/{b}" for k, (a, b) in sorted(by_cat.items())},
        "wrong": [it["id"] for it in items if not it["correct"]],
        "load_s": round(load_s, 2), "index_s": round(index_s, 1), "eval_s": round(eval_s, 1),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--extractors", default=",".join(EXTRACTORS))
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--keep", type=Path, default=None, help="work folder to keep (default: a temp folder)")
    args = ap.parse_args(argv)
    if chromium() is None:
        print("chromium is not installed (make browser-deps)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bench-pdf-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        pdf = markdown_pdf(DECK, work / "pdf" / DECK.with_suffix(".pdf").name)
        print(f"built {pdf.name} with Chromium in {time.perf_counter() - t0:.1f} s ({pdf.stat().st_size} bytes)")
        rows = []
        for name in args.extractors.split(","):
            row = bench(name.strip(), pdf, work, args.limit)
            rows.append(row)
            print(json.dumps(row, ensure_ascii=False), flush=True)
        print("\n| extractor | radicals (text / answers / quotes) | chunks (no page) | accuracy | "
              "PDF citations (no page) | by category |")
        print("|---|---|---|---|---|---|")
        for r in rows:
            print(f"| {r['extractor']} | {r['radicals_text']} / {r['radicals_answers']} / {r['radicals_quotes']} | "
                  f"{r['chunks']} ({r['chunks_without_page']}) | {r['accuracy']} ({r['correct']}/{r['n']}) | "
                  f"{r['pdf_citations']} ({r['pdf_citations_without_page']}) | {r['by_category']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
