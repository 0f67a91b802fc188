"""Index benchmark: build times (cold, no-op, one document changed) and retrieval metrics.

    .venv/bin/python eval/bench_index.py [--qa eval/qa.jsonl] [--json out.json]

Works on a private copy of ``corpus/`` in a temporary folder (the repository is not touched),
with the configured embedding model. Retrieval: R@1, R@5 and MRR (first gold chunk in the top 5)
of BM25 alone, dense alone and the hybrid (RRF), on the gold set of ``tests/test_retrieve_gold.py``
and on the items of the QA set that have ``gold_sources``; over all chunks and over document
chunks only (``filters={"kind": "document"}``, as the documents route of the answerer searches).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from assistant.config import Settings  # noqa: E402
from assistant.evaluate.metrics import gold_rank  # noqa: E402
from assistant.evaluate.qa import load_qa  # noqa: E402
from assistant.index import build_index, clear_cache, load_index  # noqa: E402
from assistant.retrieve import hybrid_search  # noqa: E402
from tests.test_retrieve_gold import DOC, GOLD  # noqa: E402

MODES = {"bm25": ("bm25",), "dense": ("dense",), "hybrid": ("dense", "bm25")}


def metrics(ranks: list[int]) -> dict[str, float]:
    n = len(ranks) or 1
    return {"n": len(ranks), "R@1": round(sum(r == 1 for r in ranks) / n, 3),
            "R@5": round(sum(1 <= r <= 5 for r in ranks) / n, 3),
            "MRR": round(sum(1 / r for r in ranks if r) / n, 3)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--qa", type=Path, default=REPO / "eval/qa.jsonl")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()

    from assistant.embeddings import get_embedder

    base = Settings()
    tmp = Path(tempfile.mkdtemp(prefix="bench-index-"))
    try:
        shutil.copytree(base.root / "corpus", tmp / "corpus")
        s = base.model_copy(update={"root": tmp, "models_dir": base.models_path})
        t = time.perf_counter()
        emb = get_embedder(s)
        load_s = time.perf_counter() - t
        times: dict[str, float] = {}
        reports = {}
        for label in ("cold", "noop", "one_changed"):
            if label == "one_changed":
                doc = tmp / DOC
                doc.write_text(doc.read_text(encoding="utf-8") + "\n## 追記\n\nベンチマーク用の追記です。\n",
                               encoding="utf-8")
            t = time.perf_counter()
            reports[label] = build_index(s, emb, progress=False)
            times[label] = round(time.perf_counter() - t, 2)
        clear_cache()
        h = load_index(s, emb)
        qa = [i for i in load_qa(args.qa) if i.gold_sources and i.answerable] if args.qa.exists() else []
        from assistant.evaluate.qa import GoldSource

        sets = {"gold": ([q for q, _ in GOLD], [[GoldSource(source=DOC, contains=c)] for _, c in GOLD]),
                "qa": ([i.question for i in qa], [i.gold_sources for i in qa])}
        results: dict[str, dict[str, dict[str, float]]] = {}
        t = time.perf_counter()
        n_queries = 0
        for scope, filters in (("all", None), ("docs", {"kind": "document"})):
            for set_name, (questions, golds) in sets.items():
                if not questions:
                    continue
                by_mode = results.setdefault(f"{set_name}/{scope}", {})
                for name, retrievers in MODES.items():
                    ranks = []
                    for q, g in zip(questions, golds, strict=True):
                        hits = hybrid_search(h, q, k=5, depth=s.candidate_k, rrf_k=s.rrf_k,
                                             retrievers=retrievers, filters=filters)
                        ranks.append(gold_rank(g, [(x.chunk.source, x.chunk.text) for x in hits]))
                    n_queries += len(questions)
                    by_mode[name] = metrics(ranks)
        query_s = time.perf_counter() - t
        out = {
            "model": emb.model_id, "chunks": reports["cold"].chunks, "record_chunks": reports["cold"].record_chunks,
            "documents": reports["cold"].documents, "embedder_load_s": round(load_s, 2),
            "build_s": times, "reembedded_one_changed": reports["one_changed"].embedded,
            "ms_per_query": round(1000 * query_s / max(n_queries, 1), 1), "retrieval": results,
        }
    finally:
        clear_cache()
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(out, ensure_ascii=False, indent=1))
    if args.json:
        args.json.write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    print("\n| set | retriever | n | R@1 | R@5 | MRR |\n|---|---|---|---|---|---|", file=sys.stderr)
    for set_name, by_mode in results.items():
        for mode, m in by_mode.items():
            print(f"| {set_name} | {mode} | {m['n']} | {m['R@1']} | {m['R@5']} | {m['MRR']} |", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
