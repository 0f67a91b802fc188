"""What claims cost per answer: attribution (``with_claims``) and verification (``verify``, which
reads the cited files itself), in milliseconds, over the answers to QA files.

Run: ``.venv/bin/python eval/bench_claims.py [QA.jsonl ...]`` (default: eval/qa.jsonl). The default
assistant (real model and index) answers every item once; then each answer is attributed and
verified again, timed. Prints p50/p95/max of both and the number of claims and problems.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(round(p * len(ordered))) - 1)]


def main(argv: list[str] | None = None) -> int:
    from assistant.answer.claims import with_claims
    from assistant.answer.pipeline import build_assistant
    from assistant.claims import verify
    from assistant.config import Settings
    from assistant.source_files import SourceTexts

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("qa", nargs="*", type=Path, default=[ROOT / "eval" / "qa.jsonl"])
    args = ap.parse_args(argv)
    settings = Settings()
    asker = build_assistant(settings)
    asker.warm_up()
    sources = SourceTexts(settings.root)
    answers = []
    for path in args.qa:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                answers.append(asker.ask(item["question"], item.get("history") or []))
    attribute_ms, verify_ms, problems = [], [], 0
    for ans in answers:
        t0 = time.perf_counter()
        with_claims(ans)
        attribute_ms.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        problems += len(verify(ans, lambda source: sources.text(source)[0]))
        verify_ms.append((time.perf_counter() - t0) * 1000)
    print(f"answers {len(answers)}, claims {sum(len(a.claims) for a in answers)}, verifier problems {problems}")
    for name, values in (("attribution", attribute_ms), ("verification", verify_ms)):
        print(f"{name:13s} ms: p50 {statistics.median(values):.2f}  p95 {_pct(values, 0.95):.2f}  max {max(values):.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
