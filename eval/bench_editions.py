"""Two editions as PDF (issue 15 "Measure"): the deck and a later edition of it with another date and
changed figures, both printed to PDF by Chromium into a documents folder outside the repository,
indexed with the real model; changed facts must come from the new edition with the old one
mentioned, unchanged facts cite the newest only, a point in time takes the edition valid then,
and ``records extract`` on the new edition drafts rows that ``records validate`` accepts.

    .venv/bin/python eval/bench_editions.py [--keep DIR]

Needs Chromium and the Noto CJK fonts (``make browser-deps``). Prints one line per check and the
figures; exit 1 when a check fails. Not a test (it builds a real index: about two minutes).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.pdf_fixtures import chromium, markdown_to_html, print_pdf  # noqa: E402

DECK = ROOT / "corpus" / "documents" / "mirai-gijutsu-torikumi-2023-03-15.md"
#: The later edition: another cover date and two changed figures (the rest as it was).
CHANGES = [("令和5年3月15日", "令和6年3月15日"), ("date: 2023-03-15", "date: 2024-03-15"),
           ("配信時期：月2回", "配信時期：月3回"), ("開催時期：年2～3回程度", "開催時期：年3～4回程度")]
#: (question, must contain, must not contain before the edition note, edition note expected, newest only)
CHECKS = [
    ("メールマガジンの配信時期は？", "月3回", "月2回", True, False),
    ("シンポジウムの開催時期は？", "年3〜4回", "年2〜3回", True, False),
    ("支援終了の通知はいつごろ行われる予定ですか？", "3月末", "", False, True),
    ("2023年12月時点で、メールマガジンの配信時期は？", "月2回", "月3回", True, False),
]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", type=Path, help="work folder to keep (default: a temporary one)")
    args = ap.parse_args(argv)
    if chromium() is None:
        print("chromium is not installed (make browser-deps)")
        return 2
    work = args.keep or Path(tempfile.mkdtemp(prefix="editions-"))
    docs = work / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    old_md = DECK.read_text(encoding="utf-8")
    new_md = old_md
    for a, b in CHANGES:
        assert a in new_md, a
        new_md = new_md.replace(a, b)
    title = re.search(r"^title:\s*(.+)$", old_md, re.M).group(1).strip()
    print_pdf(markdown_to_html(old_md, title), docs / "torikumi-2023-03.pdf")
    print_pdf(markdown_to_html(new_md, title), docs / "torikumi-2024-03.pdf")
    env = {**os.environ, "ASSISTANT_DOCUMENTS_DIR": str(docs), "ASSISTANT_INDEX_DIR": str(work / "index")}
    os.environ.update(ASSISTANT_DOCUMENTS_DIR=env["ASSISTANT_DOCUMENTS_DIR"],
                      ASSISTANT_INDEX_DIR=env["ASSISTANT_INDEX_DIR"])
    subprocess.run([str(ROOT / ".venv/bin/assistant"), "index", "--rebuild"], cwd=ROOT, env=env, check=True,
                   capture_output=True)

    from assistant.answer.pipeline import build_assistant
    from assistant.claims import verify
    from assistant.config import Settings
    from assistant.normalize import nfkc
    from assistant.source_files import SourceTexts, source_folders

    settings = Settings()
    asker = build_assistant(settings)
    texts = SourceTexts(settings.root, folders=source_folders(settings.root, settings))
    failed = 0
    for question, want, not_before, note, newest_only in CHECKS:
        ans = asker.ask(question)
        text = nfkc(ans.text)
        head = text.split("\n(", 1)[0] if "版による" in text else text  # the answer before the edition note
        sources = sorted({c.source for c in ans.citations})
        ok = (want in head and (not not_before or not_before not in head) and (("版では" in text) == note)
              and (not newest_only or sources == ["documents:torikumi-2024-03.pdf"])
              and verify(ans, lambda s: texts.text(s)[0]) == [])
        failed += not ok
        print(f"{'ok ' if ok else 'FAIL'} {question} -> {text[:160]!r} cites {sources}")
    draft = work / "draft"
    out = subprocess.run([str(ROOT / ".venv/bin/assistant"), "records", "extract", str(docs / "torikumi-2024-03.pdf"),
                          "--out", str(draft)], cwd=ROOT, env=env, capture_output=True, text=True)
    print(out.stdout.strip()[-800:] or out.stderr.strip()[-800:])
    val = subprocess.run([str(ROOT / ".venv/bin/assistant"), "records", "validate", str(draft)], cwd=ROOT, env=env,
                         capture_output=True, text=True)
    print(f"{'ok ' if val.returncode == 0 else 'FAIL'} records validate on the draft: "
          f"{(val.stdout or val.stderr).strip().splitlines()[:3]}")
    failed += val.returncode != 0
    print(f"work folder: {work}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
