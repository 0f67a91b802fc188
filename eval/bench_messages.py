"""Warm latency per helpdesk message (issue 19: p95 ≤ 150 ms for messages of up to three parts).

Run: ``.venv/bin/python eval/bench_messages.py [--qa ../shared/eval/qa-helpdesk.jsonl] [--rounds 3]
[--long eval/messages/long-quoted-mail.txt]``

The default assistant (``build_assistant(settings, "default")``: MessageAsker around the default
pipeline, real model and index) is built and warmed up, every message of the QA file is asked once
untimed (so the first, cold round does not count), then ``--rounds`` times timed, each with its
history and with the query-vector cache cleared before each ask (every part's query is embedded
again, as for a message never seen; ``--cached`` keeps the cache). Latency is wall time of ``ask``; the figures are p50/p95/max over all timed asks, for
messages of up to three parts, and per number of parts. The long quoted e-mail is timed apart.
The machine's cores are shared: the load average is printed; compare runs at similar load.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def _pct(values: list[float], q: float) -> float:
    from assistant.evaluate.metrics import percentile

    return percentile(values, q) or 0.0


def _row(label: str, values: list[float]) -> str:
    return (f"{label:<24} n={len(values):>3}  p50 {_pct(values, 50):6.1f} ms  p95 {_pct(values, 95):6.1f} ms"
            f"  max {max(values):6.1f} ms")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--qa", type=Path, default=ROOT.parent / "shared" / "eval" / "qa-helpdesk.jsonl")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--long", type=Path, default=ROOT / "eval" / "messages" / "long-quoted-mail.txt")
    ap.add_argument("--cached", action="store_true", help="keep the query-vector cache between asks")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = ap.parse_args(argv)

    from assistant.answer.pipeline import build_assistant
    from assistant.config import Settings
    from assistant.embeddings import get_embedder

    items = [json.loads(line) for line in args.qa.read_text(encoding="utf-8").splitlines() if line.strip()]
    settings = Settings()
    t0 = time.perf_counter()
    asker = build_assistant(settings, "default")
    warm = getattr(asker, "warm_up", None)
    if warm is not None:
        warm()
    print(f"built and warmed in {time.perf_counter() - t0:.1f} s; load average {os.getloadavg()[0]:.2f}; "
          f"torch threads {settings.torch_threads}; {len(items)} messages × {args.rounds} rounds; "
          f"query cache {'kept' if args.cached else 'cleared before each ask'}")

    embedder = get_embedder(settings)  # the process-wide one the retriever uses

    def ask(it: dict) -> tuple[float, int]:
        if not args.cached:
            embedder.clear_query_cache()
        t = time.perf_counter()
        ans = asker.ask(it["question"], list(it.get("history") or []) or None)
        return (time.perf_counter() - t) * 1000, len(ans.meta.get("parts") or []) or 1

    for it in items:  # untimed: first use of every code path and cache
        ask(it)
    all_ms: list[float] = []
    by_parts: dict[int, list[float]] = defaultdict(list)
    for _ in range(args.rounds):
        for it in items:
            ms, n = ask(it)
            all_ms.append(ms)
            by_parts[n].append(ms)
    upto3 = [ms for n, v in by_parts.items() if n <= 3 for ms in v]
    print(_row("all messages", all_ms))
    print(_row("up to three parts", upto3))
    for n in sorted(by_parts):
        print(_row(f"{n} part{'s' if n > 1 else ''}", by_parts[n]))
    out = {"n_messages": len(items), "rounds": args.rounds, "cached": args.cached,
           "all": {"p50_ms": round(_pct(all_ms, 50), 1), "p95_ms": round(_pct(all_ms, 95), 1)},
           "up_to_three_parts": {"n": len(upto3), "p50_ms": round(_pct(upto3, 50), 1),
                                 "p95_ms": round(_pct(upto3, 95), 1)},
           "by_parts": {str(n): {"n": len(v), "p50_ms": round(_pct(v, 50), 1), "p95_ms": round(_pct(v, 95), 1)}
                        for n, v in sorted(by_parts.items())}}
    if args.long.is_file():
        text = args.long.read_text(encoding="utf-8")
        long_ms = [ask({"question": text})[0] for _ in range(args.rounds + 1)][1:]
        print(_row(f"long quoted mail ({len(text):,} chars)", long_ms))
        out["long_quoted_mail"] = {"chars": len(text), "p50_ms": round(_pct(long_ms, 50), 1),
                                   "max_ms": round(max(long_ms), 1)}
    if args.json:
        args.json.write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
